"""Alert pages: templates, the composer, one alert's live progress, and the public active alerts.

Views stay thin: reads go through selectors (access_* for protected objects), writes through
actions; an action's refusal is shown on the page with 400/409, never a 500.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from vigil.accounts.models import User
from vigil.alerts import actions, selectors
from vigil.alerts.actions import AlertError, InvalidTemplate
from vigil.alerts.forms import ComposeForm, TemplateForm
from vigil.alerts.models import FOLLOW_UP_KINDS, Alert, AlertKind, AlertStatus, AlertTemplate
from vigil.channels.models import ChannelKind
from vigil.incidents.models import Incident, Status
from vigil.incidents.selectors import INCIDENT_READER_ROLES, access_incident_by_id
from vigil.intake.sms import is_gsm7, sms_segments


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _require_reader(user: User) -> None:
    if user.role not in INCIDENT_READER_ROLES:
        raise PermissionDenied


def sms_facts(text: str) -> dict[str, Any]:
    segments = sms_segments(text)
    return {
        "text": text,
        "segments": segments,
        "encoding": "GSM-7" if is_gsm7(text) else "UCS-2",
        "length": len(text),
        "too_long": segments > 1,
    }


def _language_name(code: str) -> str:
    return str(translation.get_language_info(code)["name_local"]) if code else code


def _channel_label(code: str) -> str:
    return str(ChannelKind(code).label) if code in ChannelKind.values else code


# --- templates ----------------------------------------------------------------------------


@require_GET
@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    actions._require_template_editor(_user(request))
    found = {(t.kind, t.language): t for t in AlertTemplate.objects.select_related("updated_by", "approved_by")}
    rows = [
        {
            "kind": kind,
            "language": language,
            "language_name": _language_name(language),
            "template": found.get((kind.value, language)),
        }
        for kind in AlertKind
        for language in actions.languages()
    ]
    return render(request, "alerts/templates.html", {"rows": rows})


def _sample_facts(body: str, language: str) -> list[dict[str, Any]]:
    """The text filled with a long zone name, as a real alert and as a drill."""
    facts = []
    for drill in (False, True):
        try:
            text = actions.fill_template(
                body, zone="Little Village North", time="23:45", language=language, drill=drill
            )
        except InvalidTemplate:
            return []
        facts.append({"drill": drill, **sms_facts(text)})
    return facts


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    user = _user(request)
    actions._require_template_editor(user)
    if kind not in AlertKind.values or language not in actions.languages():
        raise Http404
    template = AlertTemplate.objects.filter(kind=kind, language=language).first()
    form = TemplateForm(request.POST or None, initial={"body": template.body if template else ""})
    error = ""
    status = 200
    body = template.body if template else ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "approve":
                if template is None or template.body != request.POST.get("body_seen", ""):
                    raise InvalidTemplate(
                        _("The text changed while you were reading it. Read the new text, then approve it.")
                    )
                actions.approve_template(template, acting_user=user)
                messages.success(request, _("The text is approved and can be sent."))
                return redirect("alert_template_edit", kind=kind, language=language)
            if action not in ("save", "preview"):
                raise InvalidTemplate(_("Unknown action."))
            if not form.is_valid():
                raise InvalidTemplate(_("Please correct the text."))
            body = actions.check_template_body(form.cleaned_data["body"])
            if action == "save":
                actions.save_template(kind, language, body, acting_user=user)
                messages.success(request, _("The text is saved. It must be approved before it can be sent."))
                return redirect("alert_template_edit", kind=kind, language=language)
        except InvalidTemplate as exc:
            error = str(exc.message)
            status = 400
            body = request.POST.get("body", "")
    context = {
        "kind": AlertKind(kind),
        "language": language,
        "language_name": _language_name(language),
        "template": template,
        "form": form,
        "error": error,
        "samples": _sample_facts(body, language),
    }
    return render(request, "alerts/template_edit.html", context, status=status)


# --- composer -----------------------------------------------------------------------------


DEFAULTS = {"kind": AlertKind.ACTIVITY.value, "ring": "0"}


class Composer:
    def __init__(self, request: HttpRequest, incident: Incident) -> None:
        self.request = request
        self.incident = incident
        # The first look already shows the most common choice: activity, the incident's zone only.
        data = request.POST if request.method == "POST" else (request.GET if "kind" in request.GET else DEFAULTS)
        self.form = ComposeForm(data)

    def render(self, *, error: str = "", status: int = 200, confirm: bool = False) -> HttpResponse:
        incident = self.incident
        context: dict[str, Any] = {
            "incident": incident,
            "form": self.form,
            "error": error,
            "confirm": confirm,
            "confirmed_incident": incident.status == Status.CONFIRMED,
            "valid_minutes": settings.ALERT_VALID_MINUTES,
            "two_person": settings.ALERT_TWO_PERSON,
        }
        if self.form.is_bound and self.form.is_valid() and incident.zone is not None:
            kind = self.form.cleaned_data["kind"]
            ring = self.form.cleaned_data["ring"]
            drill = self.form.cleaned_data["drill"]
            zones = selectors.target_zones(incident.zone, ring)
            breakdown = selectors.recipient_breakdown(incident.chapter_id, zones, drill=drill)
            now = timezone.now()
            context.update(
                {
                    "zones": zones,
                    "breakdown": breakdown,
                    "breakdown_rows": [
                        (zone, _language_name(lang), _channel_label(channel), n)
                        for zone, lang, channel, n in breakdown.rows
                    ],
                    "by_language": [(_language_name(k), v) for k, v in breakdown.by_language.items()],
                    "by_channel": [(_channel_label(k), v) for k, v in breakdown.by_channel.items()],
                    "valid_until": now + timedelta(minutes=settings.ALERT_VALID_MINUTES),
                    "kind_label": AlertKind(kind).label,
                    "drill": drill,
                }
            )
            try:
                outgoing = actions.compose(kind, zone_name=incident.zone.name, at=now, drill=drill)
                context["texts"] = [
                    {"language": _language_name(out.language), **sms_facts(out.body)} for out in outgoing
                ]
            except AlertError as exc:
                context["template_error"] = str(exc.message)
        return render(self.request, "alerts/compose.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def compose(request: HttpRequest, incident_id: int) -> HttpResponse:
    user = _user(request)
    incident = access_incident_by_id(user, incident_id)
    if not user.can_dispatch:
        raise PermissionDenied
    page = Composer(request, incident)
    if incident.status != Status.CONFIRMED:
        return page.render(error=str(actions.NotConfirmed.default_message), status=409)
    if request.method != "POST":
        return page.render()
    if not page.form.is_valid():
        return page.render(error=_("Choose the type of alert and the area."), status=400)
    if request.POST.get("confirmed") != "yes":
        return page.render(confirm=True)
    data = page.form.cleaned_data
    try:
        alert = actions.send_alert(incident, data["kind"], acting_user=user, ring=data["ring"], drill=data["drill"])
    except AlertError as exc:
        incident.refresh_from_db()
        return page.render(error=str(exc.message), status=409)
    _say_what_happened(request, alert)
    return redirect("alert_detail", alert_id=alert.pk)


def _say_what_happened(request: HttpRequest, alert: Alert) -> None:
    """The flash message after sending, approving or requesting an alert or a follow-up."""
    follow_up = alert.follows_id is not None
    if alert.status == AlertStatus.AWAITING_APPROVAL:
        if follow_up:
            text = _("The follow-up is waiting for a second staff member's approval.")
        else:
            text = _("The alert is waiting for a second staff member's approval.")
    elif alert.approved_by_id is not None:
        text = ngettext(
            "Approved: the alert is on its way to %(count)s recipient.",
            "Approved: the alert is on its way to %(count)s recipients.",
            alert.recipients,
        ) % {"count": alert.recipients}
    elif follow_up:
        text = ngettext(
            "The follow-up is on its way to %(count)s recipient.",
            "The follow-up is on its way to %(count)s recipients.",
            alert.recipients,
        ) % {"count": alert.recipients}
    else:
        text = ngettext(
            "The alert is on its way to %(count)s recipient.",
            "The alert is on its way to %(count)s recipients.",
            alert.recipients,
        ) % {"count": alert.recipients}
    messages.success(request, text)


# --- one alert ----------------------------------------------------------------------------


def _alert_page(
    request: HttpRequest, alert: Alert, *, error: str = "", status: int = 200, confirm_kind: str = ""
) -> HttpResponse:
    user = _user(request)
    follow_ups = list(alert.follow_ups.select_related("created_by", "approved_by").order_by("created_at"))
    taken = {f.kind for f in follow_ups if f.status != AlertStatus.CANCELLED}
    may_follow_up = user.can_dispatch and alert.follows_id is None and alert.status == AlertStatus.SENDING
    context = {
        "alert": alert,
        "zones": sorted(z.name for z in alert.zones.all()),
        "follow_ups": follow_ups,
        "follow_up_choices": [(k.value, k.label) for k in AlertKind if k in FOLLOW_UP_KINDS and k not in taken]
        if may_follow_up
        else [],
        "can_approve": user.can_dispatch
        and alert.status == AlertStatus.AWAITING_APPROVAL
        and alert.created_by_id != user.pk,
        "can_cancel": user.can_dispatch and alert.status == AlertStatus.AWAITING_APPROVAL,
        "error": error,
        "confirm_kind": confirm_kind,
        "confirm_kind_label": AlertKind(confirm_kind).label if confirm_kind else "",
        **_progress_context(alert),
    }
    return render(request, "alerts/detail.html", context, status=status)


def _progress_context(alert: Alert) -> dict[str, Any]:
    now = timezone.now()
    found = selectors.progress(alert, now=now)
    remaining = (alert.valid_until - now).total_seconds()
    return {
        "alert": alert,
        "progress": found,
        "eta": _duration(found.eta_seconds) if found.eta_seconds is not None else "—",
        "dead_letters": selectors.dead_letters(alert) if (found.failed or found.expired) else [],
        "valid_left": _duration(remaining) if remaining > 0 else "",
        "polling": alert.status == AlertStatus.SENDING and not found.finished,
    }


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("%(s)s s") % {"s": seconds}
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return _("%(m)s min %(s)s s") % {"m": minutes, "s": rest}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}


@require_http_methods(["GET", "POST"])
@login_required
def alert_detail(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    alert = selectors.access_alert_by_id(user, alert_id)
    if request.method != "POST":
        return _alert_page(request, alert)
    if not user.can_dispatch:
        raise PermissionDenied
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            alert = actions.approve_alert(alert, acting_user=user)
            _say_what_happened(request, alert)
            return redirect("alert_detail", alert_id=alert.pk)
        if action == "cancel":
            actions.cancel_alert(alert, acting_user=user)
            messages.success(request, _("The alert is cancelled; nothing was sent."))
            return redirect("alert_detail", alert_id=alert.pk)
        if action == "follow_up":
            kind = request.POST.get("kind", "")
            if kind not in FOLLOW_UP_KINDS:
                return _alert_page(request, alert, error=_("Choose a false alarm or an all-clear."), status=400)
            if request.POST.get("confirmed") != "yes":
                return _alert_page(request, alert, confirm_kind=kind)
            follow_up = actions.send_follow_up(alert, kind, acting_user=user)
            _say_what_happened(request, follow_up)
            return redirect("alert_detail", alert_id=follow_up.pk)
    except AlertError as exc:
        alert = selectors.access_alert_by_id(user, alert.pk)
        return _alert_page(request, alert, error=str(exc.message), status=409)
    return _alert_page(request, alert, error=_("Unknown action."), status=400)


@require_GET
@login_required
def alert_progress(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    alert = selectors.access_alert_by_id(_user(request), alert_id)
    return render(request, "alerts/_progress.html", _progress_context(alert))


@require_GET
@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_reader(user)
    return render(request, "alerts/list.html", {"alerts": selectors.recent_alerts(user)})


# --- public -------------------------------------------------------------------------------


def _visitor_language() -> str:
    code = (translation.get_language() or "en").split("-")[0]
    return code if code in actions.languages() else "en"


@require_GET
def public_alerts(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/public_list.html", {"alerts": selectors.active_public_alerts(_visitor_language())})


@require_GET
def public_alert(request: HttpRequest, ref: uuid.UUID) -> HttpResponse:
    return render(request, "alerts/public_detail.html", {"entry": selectors.public_alert(ref, _visitor_language())})
