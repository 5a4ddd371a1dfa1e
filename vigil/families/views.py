"""Public family plan pages (/plan/): no account, English or Spanish, made for a phone.

- plan_start: the plan form (contacts as a fixed number of rows, blank rows ignored).
- plan_made: the plan code and PIN, shown ONCE (kept in the session only until shown).
- plan_open: code + PIN. Whatever was wrong, the same message; wrong tries are counted per
  connection (PLAN_ATTEMPTS_PER_HOUR an hour) and once spent the page answers 429 with the
  same message without checking anything.
- plan_edit: for 15 minutes after opening: change anything, the PIN, the consent, or delete
  the plan (its data key is destroyed: crypto-shredding).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from vigil.core import crypto, ratelimit
from vigil.core.http import client_ip
from vigil.families import forms, plans
from vigil.families.models import Plan

MADE_KEY = "families.plan_made"
EDIT_KEY = "families.plan_edit"
EDIT_FOR = 15 * 60
HOUR = timedelta(hours=1)
# Plans one connection may make per hour (a family needs one; a flood needs many).
PLANS_PER_SOURCE = 10

CHECK_FORM = _("Some answers need another look. Nothing was saved.")
WRONG = _("That plan code and PIN do not match a plan. Check them and try again later.")
TOO_MANY = _("Too many requests have come from your connection in the last hour. Please try again later.")
EXPIRED = _("For your safety the plan closed after 15 minutes. Open it again with your code and PIN.")
SAVED = _("Your plan was saved.")
PIN_CHANGED = _("Your PIN was changed.")
CONSENT_GIVEN = _("The legal team may now read your plan.")
CONSENT_WITHDRAWN = _("The legal team can no longer read your plan unless a panic message is sent.")
DELETED = _("Your plan was deleted. Nobody can read it any more.")


def _language() -> str:
    language = (get_language() or "es")[:2]
    return language if language in plans.LANGUAGES else "es"


def _form_page(
    request: HttpRequest,
    form: forms.PlanForm,
    contacts: list[forms.ContactForm],
    *,
    status: int = 200,
    notice: Any = None,
) -> HttpResponse:
    return render(
        request,
        "families/plan_start.html",
        {"form": form, "contacts": contacts, "notice": notice},
        status=status,
    )


def _contacts_valid(contacts: list[forms.ContactForm]) -> bool:
    valid = all(form.is_valid() for form in contacts)
    return valid and any(not form.is_blank() for form in contacts)


@require_http_methods(["GET", "POST"])
def plan_start(request: HttpRequest) -> HttpResponse:
    language = _language()
    if request.method == "GET":
        return _form_page(
            request, forms.NewPlanForm(initial={"language": language}), forms.contact_forms(language=language)
        )
    form = forms.NewPlanForm(request.POST)
    contacts = forms.contact_forms(request.POST, language=language)
    form_valid = form.is_valid()
    if not _contacts_valid(contacts) or not form_valid:
        notice: Any = CHECK_FORM
        if all(f.is_valid() and f.is_blank() for f in contacts):
            notice = _("Add at least one emergency contact. Nothing was saved.")
        return _form_page(request, form, contacts, status=400, notice=notice)
    if not ratelimit.hit(client_ip(request), purpose="plan-create", limit=PLANS_PER_SOURCE, window=HOUR):
        return _form_page(request, form, contacts, status=429, notice=TOO_MANY)
    try:
        _plan, code, pin = plans.create_plan(
            form.plan_input(contacts), now=timezone.now(), pin=form.cleaned_data.get("pin") or ""
        )
    except plans.PlanError as problem:
        return _form_page(request, form, contacts, status=400, notice=str(problem))
    request.session[MADE_KEY] = _seal({"code": code, "pin": pin})
    return redirect("plan_made")


# The code and PIN wait in the session (a database row) for one redirect: sealed with the
# network's key, so the session table never holds them in clear.
_SEAL_CONTEXT = {"table": "django_session", "column": MADE_KEY, "row": "plan_made"}


def _seal(values: dict[str, str]) -> str:
    return base64.b64encode(crypto.encrypt(json.dumps(values).encode(), **_SEAL_CONTEXT)).decode()


def _unseal(value: Any) -> dict[str, str] | None:
    if not isinstance(value, str):
        return None
    try:
        loaded = json.loads(crypto.decrypt(base64.b64decode(value), **_SEAL_CONTEXT))
    except (ValueError, crypto.DataLocked, crypto.TamperedCiphertext):
        return None
    return loaded if isinstance(loaded, dict) else None


@require_GET
def plan_made(request: HttpRequest) -> HttpResponse:
    made = _unseal(request.session.pop(MADE_KEY, None))
    if made is None:
        return redirect("plan_open")
    return render(
        request,
        "families/plan_made.html",
        {
            "code": made.get("code", ""),
            "pin": made.get("pin", ""),
            "keyword": "DETENIDO" if _language() == "es" else "DETAINED",
        },
    )


def _open_page(request: HttpRequest, form: forms.OpenForm, *, status: int = 200, notice: Any = None) -> HttpResponse:
    return render(request, "families/plan_open.html", {"form": form, "notice": notice}, status=status)


@require_http_methods(["GET", "POST"])
def plan_open(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        notice = EXPIRED if request.GET.get("expired") == "1" else None
        return _open_page(request, forms.OpenForm(), notice=notice)
    form = forms.OpenForm(request.POST)
    ip = client_ip(request)
    if plans.attempts_spent(ip, purpose="plan-pin", limit=settings.PLAN_ATTEMPTS_PER_HOUR):
        return _open_page(request, forms.OpenForm(), status=429, notice=WRONG)
    if not form.is_valid():
        return _open_page(request, form, status=400, notice=CHECK_FORM)
    plan = plans.open_plan(form.cleaned_data["code"], form.cleaned_data["pin"])
    if plan is None:
        plans.count_failure(ip, purpose="plan-pin")
        return _open_page(request, forms.OpenForm(), status=400, notice=WRONG)
    request.session.cycle_key()
    request.session[EDIT_KEY] = {"id": str(plan.pk), "until": int(time.time()) + EDIT_FOR}
    return redirect("plan_edit")


def _open_plan_id(request: HttpRequest) -> str | None:
    held = request.session.get(EDIT_KEY)
    if not isinstance(held, dict) or not isinstance(held.get("until"), int) or held["until"] < time.time():
        request.session.pop(EDIT_KEY, None)
        return None
    return str(held.get("id", "")) or None


def _edit_page(
    request: HttpRequest,
    plan: Plan,
    *,
    form: forms.PlanForm | None = None,
    contacts: list[forms.ContactForm] | None = None,
    pin_form: forms.PinForm | None = None,
    delete_form: forms.DeleteForm | None = None,
    status: int = 200,
    notice: Any = None,
    ok: Any = None,
) -> HttpResponse:
    values, contact_values = forms.initial_for(plan)
    rows = max(forms.CONTACT_ROWS, len(contact_values))
    context = {
        "plan": plan,
        "form": form or forms.EditPlanForm(initial=values),
        "contacts": contacts or forms.contact_forms(rows=rows, initial=contact_values, language=plan.language),
        "pin_form": pin_form or forms.PinForm(),
        "delete_form": delete_form or forms.DeleteForm(),
        "notice": notice,
        "ok": ok,
    }
    return render(request, "families/plan_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest) -> HttpResponse:
    plan_id = _open_plan_id(request)
    plan = (
        Plan.objects.select_related("data_key").prefetch_related("contacts").filter(pk=plan_id).first()
        if plan_id
        else None
    )
    if plan is None:
        request.session.pop(EDIT_KEY, None)
        return redirect(f"{_reverse('plan_open')}?expired=1")
    if request.method == "GET":
        ok = request.session.pop("families.plan_ok", None)
        return _edit_page(request, plan, ok=ok)
    action = request.POST.get("action", "")
    now = timezone.now()
    if action == "save":
        form = forms.EditPlanForm(request.POST)
        rows = max(forms.CONTACT_ROWS, plan.contacts.count())
        contacts = forms.contact_forms(request.POST, rows=rows, language=plan.language)
        form_valid = form.is_valid()
        if not _contacts_valid(contacts) or not form_valid:
            return _edit_page(request, plan, form=form, contacts=contacts, status=400, notice=CHECK_FORM)
        data = form.plan_input(contacts)
        try:
            plans.update_plan(plan.pk, data, now=now)
        except plans.PlanError as problem:
            return _edit_page(request, plan, form=form, contacts=contacts, status=400, notice=str(problem))
        return _done(request, SAVED)
    if action == "pin":
        pin_form = forms.PinForm(request.POST)
        if not pin_form.is_valid():
            return _edit_page(request, plan, pin_form=pin_form, status=400, notice=CHECK_FORM)
        plans.change_pin(plan.pk, pin_form.cleaned_data["pin"], now=now)
        return _done(request, PIN_CHANGED)
    if action == "consent":
        give = request.POST.get("consent") == "1"
        plans.set_consent(plan.pk, give, now=now)
        return _done(request, CONSENT_GIVEN if give else CONSENT_WITHDRAWN)
    if action == "delete":
        delete_form = forms.DeleteForm(request.POST)
        if not delete_form.is_valid():
            return _edit_page(request, plan, delete_form=delete_form, status=400, notice=CHECK_FORM)
        plans.delete_plan(plan.pk, now=now)
        request.session.pop(EDIT_KEY, None)
        return render(request, "families/plan_deleted.html", {"notice": DELETED})
    if action == "close":
        request.session.pop(EDIT_KEY, None)
        return redirect("plan_open")
    return _edit_page(request, plan, status=400, notice=CHECK_FORM)


def _done(request: HttpRequest, message: Any) -> HttpResponse:
    request.session["families.plan_ok"] = str(message)
    return redirect("plan_edit")


def _reverse(name: str) -> str:
    from django.urls import reverse

    return reverse(name)
