"""Staff pages of the incidents stage (board, incident, hotline call, map) and the public rumor log.

Views stay thin: reads go through selectors (access_* for protected objects), writes through
actions; an action's refusal is shown on the page with 400/409, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vigil.accounts.models import Role, User
from vigil.core import geo
from vigil.core.heartbeats import heartbeat_ages, stalled_heartbeats
from vigil.core.models import Chapter, Zone
from vigil.incidents import actions, selectors
from vigil.incidents.errors import (
    CorroborationRequired,
    IncidentError,
    InvalidInput,
    InvalidTransition,
    ReasonRequired,
)
from vigil.incidents.forms import CallLogForm, FieldReportForm, MergeForm, SplitForm, TransitionForm
from vigil.incidents.mapsvg import build_map
from vigil.incidents.models import OPEN_STATUSES, FieldReport, Incident, IncidentReport, Status
from vigil.incidents.rows import board_rows_html
from vigil.intake.models import Report

MERGE_RING = 3
MERGE_CANDIDATES = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def reads_incidents(user: User) -> bool:
    return user.role in selectors.INCIDENT_READER_ROLES


def may_record_field_report(user: User) -> bool:
    return user.role in actions.FIELD_ROLES


def allowed_targets(user: User, incident: Incident) -> list[tuple[str, str]]:
    targets = actions.TRANSITIONS.get(incident.status, frozenset())
    if not user.can_dispatch:
        targets = frozenset(t for t in targets if user.role == Role.VERIFIER and t == Status.VERIFYING)
    return [(value, str(label)) for value, label in Status.choices if value in targets]


# --- board ----------------------------------------------------------------------------


@require_GET
@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role == Role.VOLUNTEER:
        # Volunteers work from their own pages: only what they were paged for (D4).
        return redirect("responder_home")
    reader = reads_incidents(user)
    rows = selectors.board_incidents(user) if reader else []
    return render(
        request,
        "incidents/board.html",
        {
            "rows_html": board_rows_html(rows),
            "reads_incidents": reader,
            "stale_minutes": settings.BOARD_STALE_MINUTES,
            "stalled_workers": stalled_heartbeats(heartbeat_ages()) if reader else [],
        },
    )


# --- one incident ---------------------------------------------------------------------


def merge_candidates(incident: Incident) -> list[Incident]:
    """Other open incidents of the same chapter near this one (same zone, or a few cells away)."""
    near = Incident.objects.none()
    if incident.cell:
        near = Incident.objects.filter(cell__in=geo.nearby_cells(incident.cell, MERGE_RING))
    if incident.zone_id is not None:
        near = near | Incident.objects.filter(zone_id=incident.zone_id)
    if incident.zip_code:
        near = near | Incident.objects.filter(zip_code=incident.zip_code)
    return list(
        near.filter(chapter_id=incident.chapter_id, status__in=OPEN_STATUSES)
        .exclude(pk=incident.pk)
        .select_related("zone")
        .order_by("-last_report_at")[:MERGE_CANDIDATES]
    )


def _candidate_label(other: Incident) -> str:
    return _("#%(id)s %(kind)s in %(zone)s, %(status)s, %(count)s reports") % {
        "id": other.pk,
        "kind": other.get_kind_display(),
        "zone": other.zone.name if other.zone else other.zip_code or "?",
        "status": other.get_status_display(),
        "count": other.report_count,
    }


def _report_label(report: Report) -> str:
    return _("Report of %(time)s (%(channel)s)") % {
        "time": timezone.localtime(report.received_at).strftime("%H:%M"),
        "channel": report.get_channel_display(),
    }


class Page:
    """Everything the incident page shows; forms can be swapped for bound ones with errors."""

    def __init__(self, request: HttpRequest, incident: Incident) -> None:
        self.request = request
        self.user = _user(request)
        self.incident = incident
        self.reports = selectors.incident_reports(incident)
        self.candidates = merge_candidates(incident) if self.user.can_dispatch else []
        self.targets = allowed_targets(self.user, incident)
        self.forms: dict[str, Any] = {
            "transition": TransitionForm(prefix="t"),
            "merge": MergeForm(prefix="m", candidates=self.candidate_choices()),
            "split": SplitForm(prefix="s", report_choices=self.report_choices()),
            "field_report": FieldReportForm(prefix="f"),
        }
        self.forms["transition"].fields["to_status"].choices = self.status_choices()
        self.revealed: dict[str, str] = {}

    def status_choices(self) -> list[tuple[str, str]]:
        # No preselected status: a decision is always an explicit choice.
        return [("", _("Choose…")), *self.targets]

    def candidate_choices(self) -> list[tuple[int, str]]:
        return [(other.pk, _candidate_label(other)) for other in self.candidates]

    def report_choices(self) -> list[tuple[str, str]]:
        return [(str(report.pk), _report_label(report)) for report in self.reports]

    def bind(self, name: str) -> Any:
        data = self.request.POST
        if name == "transition":
            form: Any = TransitionForm(data, prefix="t")
            form.fields["to_status"].choices = self.status_choices()
        elif name == "merge":
            form = MergeForm(data, prefix="m", candidates=self.candidate_choices())
        elif name == "split":
            form = SplitForm(data, prefix="s", report_choices=self.report_choices())
        else:
            form = FieldReportForm(data, prefix="f")
        self.forms[name] = form
        return form

    def render(self, *, error: str = "", status: int = 200) -> HttpResponse:
        user = self.user
        incident = self.incident
        context = {
            "incident": incident,
            "reports": self.reports,
            "report_rows": [(report, self.revealed.get(str(report.pk), "")) for report in self.reports],
            "timeline": selectors.incident_timeline(incident),
            "field_reports": list(
                FieldReport.objects.filter(incident=incident).select_related("verifier").order_by("created_at")
            ),
            "corroboration": actions.corroboration_status(incident),
            "forms": self.forms,
            "candidates": self.candidates,
            "targets": self.targets,
            "revealed": self.revealed,
            "error": error,
            "can_dispatch": user.can_dispatch,
            "can_see_contacts": user.can_see_contacts,
            "can_field_report": may_record_field_report(user),
            "claimed_by_me": incident.claimed_by_id == user.pk,
            "is_open": incident.status in OPEN_STATUSES,
        }
        return render(self.request, "incidents/detail.html", context, status=status)


def _done(request: HttpRequest, incident: Incident, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("incident_detail", pk=incident.pk)


def _claim(page: Page) -> HttpResponse:
    if not page.user.can_dispatch:
        raise PermissionDenied
    if not actions.claim_incident(page.incident, acting_user=page.user):
        page.incident.refresh_from_db()
        return page.render(error=_("Someone else has already claimed this incident."), status=409)
    return _done(page.request, page.incident, _("You have claimed this incident."))


def _release(page: Page) -> HttpResponse:
    if not page.user.can_dispatch:
        raise PermissionDenied
    if not actions.release_incident(page.incident, acting_user=page.user):
        return page.render(error=_("Nobody has claimed this incident."), status=409)
    return _done(page.request, page.incident, _("The incident is released."))


def _transition(page: Page) -> HttpResponse:
    # Verifiers may only start verification; every decision is a dispatcher's.
    if not page.user.can_dispatch and page.request.POST.get("t-to_status") != Status.VERIFYING:
        raise PermissionDenied
    form = page.bind("transition")
    if not form.is_valid():
        return page.render(error=_("Choose a status and give a reason."), status=400)
    to_status = form.cleaned_data["to_status"]
    actions.transition_incident(page.incident, to_status, acting_user=page.user, reason=form.cleaned_data["reason"])
    return _done(page.request, page.incident, _("Status changed to: %(status)s.") % {"status": Status(to_status).label})


def _merge(page: Page) -> HttpResponse:
    if not page.user.can_dispatch:
        raise PermissionDenied
    form = page.bind("merge")
    if not form.is_valid():
        return page.render(error=_("Choose incidents to merge and give a reason."), status=400)
    sources = [selectors.access_incident_by_id(page.user, pk) for pk in form.cleaned_data["sources"]]
    actions.merge_incidents(page.incident, sources, acting_user=page.user, reason=form.cleaned_data["reason"])
    return _done(page.request, page.incident, _("The incidents are merged into this one."))


def _split(page: Page) -> HttpResponse:
    if not page.user.can_dispatch:
        raise PermissionDenied
    form = page.bind("split")
    if not form.is_valid():
        return page.render(error=_("Choose reports to split off and give a reason."), status=400)
    new = actions.split_reports(
        page.incident, form.cleaned_data["reports"], acting_user=page.user, reason=form.cleaned_data["reason"]
    )
    messages.success(page.request, _("The chosen reports are now incident #%(id)s.") % {"id": new.pk})
    return redirect("incident_detail", pk=new.pk)


def _field_report(page: Page) -> HttpResponse:
    if not may_record_field_report(page.user):
        raise PermissionDenied
    form = page.bind("field_report")
    if not form.is_valid():
        return page.render(error=_("Please correct the field report."), status=400)
    actions.record_field_report(page.incident, acting_user=page.user, **form.cleaned_data)
    return _done(page.request, page.incident, _("Field report recorded."))


def _reveal(page: Page) -> HttpResponse:
    if not page.user.can_see_contacts:
        raise PermissionDenied
    wanted = page.request.POST.get("report", "")
    report = next((r for r in page.reports if str(r.pk) == wanted), None)
    if report is None:
        return page.render(error=_("That report is not part of this incident."), status=400)
    number = selectors.reveal_reporter_contact(page.user, report)
    page.revealed[str(report.pk)] = number or _("No call-back number (none was given, or it has expired).")
    return page.render()


ACTIONS: dict[str, Callable[[Page], HttpResponse]] = {
    "claim": _claim,
    "release": _release,
    "transition": _transition,
    "merge": _merge,
    "split": _split,
    "field_report": _field_report,
    "reveal": _reveal,
}


def _error_status(exc: IncidentError) -> int:
    if isinstance(exc, ReasonRequired | InvalidInput):
        return 400
    if isinstance(exc, CorroborationRequired | InvalidTransition):
        return 409
    return 409


@require_http_methods(["GET", "POST"])
@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    incident = selectors.access_incident_by_id(user, pk)
    page = Page(request, incident)
    if request.method != "POST":
        return page.render()
    handler = ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        return page.render(error=_("Unknown action."), status=400)
    try:
        return handler(page)
    except IncidentError as exc:
        incident.refresh_from_db()
        page.targets = allowed_targets(user, incident)
        return page.render(error=str(exc.message), status=_error_status(exc))


# --- hotline call ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def call_log(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.can_dispatch:
        raise PermissionDenied
    chapters = list(Chapter.objects.filter(pk__in=user.chapter_ids()))
    if not chapters:
        raise PermissionDenied
    form = CallLogForm(request.POST or None, chapters=chapters)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "incidents/call_log.html", {"form": form}, status=400)
        try:
            report = actions.log_hotline_call(
                acting_user=user, chapter=form.cleaned_data["chapter"], data=form.report_input()
            )
        except IncidentError as exc:
            form.add_error(None, str(exc.message))
            return render(request, "incidents/call_log.html", {"form": form}, status=400)
        incident_id = IncidentReport.objects.filter(report_id=report.pk).values_list("incident_id", flat=True).first()
        if incident_id is None:
            messages.success(request, _("The call is logged."))
            return redirect("board")
        messages.success(request, _("The call is logged as part of incident #%(id)s.") % {"id": incident_id})
        return redirect("incident_detail", pk=incident_id)
    return render(request, "incidents/call_log.html", {"form": form})


# --- map ------------------------------------------------------------------------------


@require_GET
@login_required
def incident_map(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role == Role.VOLUNTEER:
        raise PermissionDenied
    chapter_ids = selectors.incident_chapter_ids(user)
    zones = list(Zone.objects.filter(chapter_id__in=chapter_ids).order_by("name"))
    rows = selectors.board_incidents(user) if chapter_ids else []
    drawing = build_map(zones, [row.incident for row in rows], link=lambda pk: reverse("incident_detail", args=[pk]))
    return render(
        request,
        "incidents/map.html",
        {"map": drawing, "rows": rows, "reads_incidents": reads_incidents(user)},
    )


# --- public rumor log -----------------------------------------------------------------


@require_GET
def rumor_log_page(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/rumor_log.html", {"entries": selectors.rumor_log(days=14), "days": 14})
