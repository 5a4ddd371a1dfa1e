"""The dispatcher's view of paging: the panel on the incident page and the strip on the board.

Both are HTML fragments polled by htmx every 5 s (and readable as plain pages without JS).
Readers: dispatcher, organizer, admin and verifier of the incident's chapter (another chapter's
incident is a 404). Only dispatch roles see the volunteers' names (decrypted, audited
"paging.read") and may page. The board strip shows no names at all: number, zone, stage,
countdown and the alarm, in a constant number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vigil.accounts.models import User
from vigil.alerts.models import Alert, AlertKind
from vigil.core.audit import audit
from vigil.incidents import selectors
from vigil.incidents.models import OPEN_STATUSES, FieldReport, Incident, Outcome, Status
from vigil.responders import paging as paging_actions
from vigil.responders.models import Assignment, PageRecipient, Paging, PagingStage

WAITING = (Status.NEW, Status.VERIFYING)
# Paging ids (with how many volunteers were shown) whose names this session already read:
# the panel is polled every 5 s, the read is audited once per session and recipient list.
READ_MARK = "vigil_paging_read"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- the next step after a field report ----------------------------------------------


@dataclass(frozen=True)
class NextStep:
    outcome: str
    text: str
    link: str = ""
    link_label: str = ""


def next_step(incident: Incident, report: FieldReport | None, *, can_dispatch: bool) -> NextStep | None:
    """What the dispatcher should do about the latest field report's outcome, if anything."""
    if report is None:
        return None
    status = incident.status
    status_link = reverse("incident_detail", args=[incident.pk]) + "#status"
    if report.outcome == Outcome.CONFIRMED:
        if status in WAITING:
            return NextStep(
                report.outcome,
                _(
                    "A volunteer confirmed enforcement. Confirm the incident (Change status: Confirmed), "
                    "then send the alert."
                ),
                status_link if can_dispatch else "",
                _("Confirm and send alert"),
            )
        if status == Status.CONFIRMED:
            sent = Alert.objects.filter(incident=incident, follows__isnull=True).order_by("-created_at").first()
            if sent is not None:
                return NextStep(
                    report.outcome,
                    _("An alert was sent for this incident."),
                    reverse("alert_detail", args=[sent.pk]) if can_dispatch else "",
                    _("See the alert"),
                )
            return NextStep(
                report.outcome,
                _("The incident is confirmed: send the alert."),
                reverse("alert_compose", args=[incident.pk]) if can_dispatch else "",
                _("Send alert"),
            )
        return None
    if report.outcome == Outcome.FALSE_ALARM:
        if status in OPEN_STATUSES:
            return NextStep(
                report.outcome,
                _("The volunteer found a false alarm. Mark the incident as a false alarm (Change status)."),
                status_link if can_dispatch else "",
                _("Mark false alarm"),
            )
        if status == Status.FALSE_ALARM:
            sent = (
                Alert.objects.filter(incident=incident, follows__isnull=True)
                .exclude(follow_ups__kind=AlertKind.FALSE_ALARM)
                .order_by("-created_at")
                .first()
            )
            if sent is not None:
                return NextStep(
                    report.outcome,
                    _("An alert went out for this incident: send the false-alarm follow-up to the same people."),
                    reverse("alert_detail", args=[sent.pk]) if can_dispatch else "",
                    _("Send the false-alarm follow-up"),
                )
        return None
    if status in WAITING:
        if report.outcome == Outcome.UNVERIFIED:
            text = _("The volunteer could not verify it. Mark it as not verified, or page again.")
        else:
            text = _("The volunteer saw another agency, not immigration. Decide whether it is a false alarm.")
        return NextStep(report.outcome, text, status_link if can_dispatch else "", _("Change status"))
    return None


# --- the panel on the incident page ---------------------------------------------------


@dataclass(frozen=True)
class RecipientRow:
    responder_id: Any
    name: str
    stage_label: str
    response: str
    response_label: str
    eta_minutes: int | None
    is_lead: bool
    on_scene: bool
    detail_url: str


def _detail_url(responder_id: Any) -> str:
    try:
        return reverse("responder_detail", args=[responder_id])
    except NoReverseMatch:  # the roster pages are optional for this panel
        return ""


@transaction.atomic(durable=True)
def panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    user = _user(request)
    paging = Paging.objects.filter(incident=incident).select_related("lead").first()
    dispatch = user.can_dispatch
    rows: list[RecipientRow] = []
    lead_name = ""
    if paging is not None:
        assignments = {
            a.responder_id: a for a in Assignment.objects.filter(incident=incident).only("responder_id", "on_scene_at")
        }
        recipients = list(
            PageRecipient.objects.filter(paging=paging).select_related("responder").order_by("paged_at", "pk")
        )
        stages = {k: str(v) for k, v in PagingStage.choices}
        for number, recipient in enumerate(recipients, start=1):
            responder = recipient.responder
            assignment = assignments.get(responder.pk)
            rows.append(
                RecipientRow(
                    responder_id=responder.pk,
                    name=str(responder.name) if dispatch else _("Volunteer %(n)s") % {"n": number},
                    stage_label=stages.get(recipient.stage, ""),
                    response=recipient.response,
                    response_label=str(recipient.get_response_display()),
                    eta_minutes=recipient.eta_minutes,
                    is_lead=paging.lead_id == responder.pk,
                    on_scene=bool(assignment and assignment.on_scene_at),
                    detail_url=_detail_url(responder.pk) if dispatch else "",
                )
            )
        lead_name = next((row.name for row in rows if row.is_lead), "")
        if paging.lead_id is not None and not lead_name and dispatch:
            lead_name = str(paging.lead.name) if paging.lead else ""
        if dispatch and (rows or lead_name):
            marks = request.session.get(READ_MARK, {})
            key = str(paging.pk)
            if marks.get(key) != len(rows):
                audit(user, "paging.read", paging)
                marks[key] = len(rows)
                request.session[READ_MARK] = marks
    latest = FieldReport.objects.filter(incident=incident).order_by("-created_at").first()
    now = timezone.now()
    return {
        "incident": incident,
        "paging": paging,
        "stage_label": str(PagingStage(paging.stage).label) if paging else "",
        "rows": rows,
        "lead_name": lead_name,
        "latest": latest,
        "step": next_step(incident, latest, can_dispatch=dispatch),
        "can_page": dispatch
        and incident.status in OPEN_STATUSES
        and (paging is None or (paging.lead_id is None and paging.deadline is None)),
        "now": now,
    }


@require_GET
@login_required
def paging_panel(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.access_incident_by_id(_user(request), incident_id)
    context = panel_context(request, incident)
    template = "responders/paging/panel.html" if _is_htmx(request) else "responders/paging/panel_page.html"
    return render(request, template, context)


@require_POST
@login_required
def paging_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The dispatcher's "Page verifiers" button (also pages again when nobody took it)."""
    user = _user(request)
    incident = selectors.access_incident_by_id(user, incident_id)
    if not user.can_dispatch:
        raise PermissionDenied
    try:
        paging_actions.start_paging(incident, acting_user=user)
    except paging_actions.PagingNotFound:
        raise PermissionDenied from None
    except paging_actions.PagingError as exc:
        messages.error(request, str(exc))
        return redirect("incident_detail", pk=incident.pk)
    messages.success(request, _("Verifiers are being paged."))
    return redirect("incident_detail", pk=incident.pk)


# --- the strip on the board -----------------------------------------------------------


@require_GET
@login_required
def paging_board(request: HttpRequest) -> HttpResponse:
    """Every paging nobody has accepted yet, alarms first: no names, one query for the list."""
    user = _user(request)
    if user.role not in selectors.INCIDENT_READER_ROLES:
        raise PermissionDenied
    chapter_ids = selectors.incident_chapter_ids(user)
    pagings = list(
        Paging.objects.filter(
            chapter_id__in=chapter_ids,
            lead__isnull=True,
            ended_at__isnull=True,
            incident__status__in=WAITING,
        )
        .select_related("incident", "incident__zone")
        .order_by("pk")
    )
    # Alarms first, then the next deadline first.
    pagings.sort(key=lambda p: (p.alarm_at is None, p.deadline or p.started_at))
    context = {"pagings": pagings, "now": timezone.now()}
    template = "responders/paging/board_strip.html" if _is_htmx(request) else "responders/paging/board_page.html"
    return render(request, template, context)
