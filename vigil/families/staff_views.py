"""Staff pages of family plans.

- plan_panic (dispatcher and legal, of any chapter; everyone else 404): a dispatcher on a call
  enters the plan code the caller gives; the confirm page says only "plan found, N contacts
  will be told" (no plan contents); confirming fires the panic (via dispatcher). Wrong codes
  are counted per user (PLAN_ATTEMPTS_PER_HOUR an hour) and refused once spent, right or
  wrong, with the same message. The legal role also sees the plans of its chapters it may read.
- plan_detail (legal of the plan's chapter only, and only when the member consented or a
  panic fired; else 404): the plan, every read audited ("plan.read"); opening more than
  CASE_READ_ALERT plans in an hour is bulk reading, as for cases (D5).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from vigil.accounts.models import Role
from vigil.cases import access
from vigil.core.audit import audit
from vigil.families import forms, panic, plans
from vigil.families.models import Plan

PANIC_ROLES = (Role.DISPATCHER, Role.LEGAL)
NOT_FOUND = _("No plan matches that code, or too many wrong codes were tried in the last hour.")
ALREADY = _("This plan's panic was already sent in the last 12 hours. Nothing was sent again.")


def _may_panic(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, "role", None) in PANIC_ROLES)


def _readable_plans(user: Any) -> list[Plan]:
    if not access.is_legal(user):
        return []
    return list(
        Plan.objects.filter(chapter_id__in=user.chapter_ids())
        .filter(Q(consent_at__isnull=False) | Q(last_panic_at__isnull=False))
        .order_by("-last_panic_at", "-created_at")[:200]
    )


def _page(request: HttpRequest, form: forms.PanicCodeForm, *, status: int = 200, notice: Any = None) -> HttpResponse:
    context = {"form": form, "notice": notice, "readable": _readable_plans(request.user)}
    return render(request, "families/staff/panic.html", context, status=status)


def _attempts_key(user: Any) -> str:
    return f"user:{user.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def plan_panic(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_panic(user):
        raise Http404
    if request.method == "GET":
        return _page(request, forms.PanicCodeForm())
    form = forms.PanicCodeForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400, notice=NOT_FOUND)
    key = _attempts_key(user)
    if plans.attempts_spent(key, purpose="plan-code-staff", limit=settings.PLAN_ATTEMPTS_PER_HOUR):
        return _page(request, forms.PanicCodeForm(), status=429, notice=NOT_FOUND)
    plan = plans.plan_for_code(form.cleaned_data["code"])
    if plan is None:
        plans.count_failure(key, purpose="plan-code-staff")
        return _page(request, forms.PanicCodeForm(), status=400, notice=NOT_FOUND)
    if request.POST.get("confirm") != "1":
        context = {"code": form.cleaned_data["code"], "contacts": plan.contacts.count()}
        return render(request, "families/staff/panic_confirm.html", context)
    result = panic.panic_by_dispatcher(plan.pk, user, timezone.now())
    if result is None:
        return _page(request, forms.PanicCodeForm(), status=400, notice=NOT_FOUND)
    if not result.fired:
        messages.info(request, str(ALREADY))
        return redirect("plan_panic")
    case = result.case
    if case is not None and access.visible_cases(user).filter(pk=case.pk).exists():
        return redirect("case_detail", case_id=case.pk)
    messages.success(
        request,
        gettext("Panic sent: %(count)s contact(s) are being told, and a case was opened for the legal team.")
        % {"count": result.event.messages},
    )
    return redirect("plan_panic")


@login_required
@require_GET
def plan_detail(request: HttpRequest, plan_id: uuid.UUID) -> HttpResponse:
    user: Any = request.user
    if not access.is_legal(user):
        raise Http404
    with transaction.atomic():
        plan = (
            Plan.objects.select_related("data_key", "chapter")
            .prefetch_related("contacts")
            .filter(pk=plan_id, chapter_id__in=user.chapter_ids())
            .first()
        )
        if plan is None or not plan.legal_may_read:
            raise Http404
        audit(user, "plan.read", plan)
        access.watch_bulk(
            user, "plan.read", "families.plan", settings.CASE_READ_ALERT, "opened %s family plans", plan.chapter
        )
        panics = list(plan.panics.order_by("-at"))
        contacts = list(plan.contacts.all())
        return render(
            request, "families/staff/plan_detail.html", {"plan": plan, "contacts": contacts, "panics": panics}
        )
