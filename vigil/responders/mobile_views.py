"""The volunteer's pages on the phone (/r/): my pages, my incidents, my field reports, my shifts.

Only a volunteer (role VOLUNTEER, or anyone linked to an approved roster entry) gets in;
everyone else is refused (403). An incident is shown only to a volunteer assigned to it, with
the facts of their role (vigil.responders.access); anything else is a 404 (D4). Writes go
through the paging, availability and field-report actions, which audit them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vigil.accounts.models import User
from vigil.core.models import Zone
from vigil.incidents.errors import IncidentError
from vigil.incidents.forms import FieldReportForm
from vigil.incidents.models import Incident, Status
from vigil.responders import access, availability, fieldreports, oncall, paging
from vigil.responders.models import Assignment, PageRecipient, PageResponse, Responder, ShiftKind
from vigil.responders.paging import MAX_ETA_MINUTES
from vigil.responders.schedule import calendar_ics

SCHEDULE_DAYS = 14
WAITING = (Status.NEW, Status.VERIFYING)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _volunteer(request: HttpRequest) -> tuple[User, Responder | None]:
    user = _user(request)
    if not access.is_volunteer(user):
        raise PermissionDenied
    return user, access.responder_of(user)


def _assigned_volunteer(request: HttpRequest) -> tuple[User, Responder | None]:
    """For the routes of one incident: whoever is not assigned gets the same 404 as for a
    missing incident (never a 403 that would tell another chapter's staff it exists)."""
    user = _user(request)
    return user, access.responder_of(user)


def _number(raw: str, *, low: int, high: int) -> int | None:
    """A whole number in [low, high] from a form field; None when blank; ValueError otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    value = int(text)
    if not low <= value <= high:
        raise ValueError(text)
    return value


# --- home -----------------------------------------------------------------------------


def open_pages(responder: Responder, now: datetime) -> list[PageRecipient]:
    """Pages waiting for my answer: paging still running, incident still being verified."""
    since = now - timedelta(minutes=settings.PAGE_VALID_MINUTES)
    return list(
        PageRecipient.objects.filter(
            responder=responder,
            response=PageResponse.NONE,
            paged_at__gte=since,
            paging__ended_at__isnull=True,
            paging__incident__status__in=WAITING,
            paging__incident__chapter_id=responder.chapter_id,
        )
        .select_related("paging", "paging__incident", "paging__incident__zone")
        .order_by("-paged_at")
    )


def my_assignments(responder: Responder) -> list[Assignment]:
    return list(
        Assignment.objects.filter(responder=responder, ended_at__isnull=True)
        .select_related("incident", "incident__zone")
        .order_by("-accepted_at")
    )


@require_GET
@login_required
def responder_home(request: HttpRequest) -> HttpResponse:
    _user_, responder = _volunteer(request)
    now = timezone.now()
    context: dict[str, Any] = {
        "responder": responder,
        "pages": open_pages(responder, now) if responder else [],
        "assignments": my_assignments(responder) if responder else [],
        "available_hours": settings.AVAILABLE_HOURS,
        "max_eta": MAX_ETA_MINUTES,
    }
    return render(request, "responders/mobile/home.html", context)


@require_POST
@login_required
def responder_respond(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Accept a page (with an ETA in minutes) or decline it."""
    user, responder = _assigned_volunteer(request)
    recipient = access.paged_for(user, incident_id)
    assert responder is not None  # paged_for found their page
    answer = request.POST.get("response", "")
    if answer not in (PageResponse.ACCEPTED, PageResponse.DECLINED):
        return _home_error(request, responder, _("Choose accept or decline."))
    try:
        eta = _number(request.POST.get("eta", ""), low=0, high=MAX_ETA_MINUTES)
    except ValueError:
        return _home_error(
            request, responder, _("Give your arrival time in minutes, from 0 to %(max)s.") % {"max": MAX_ETA_MINUTES}
        )
    incident = recipient.paging.incident
    answer_ = paging.respond(
        responder,
        answer,
        eta_minutes=eta if answer == PageResponse.ACCEPTED else None,
        incident=incident,
        now=timezone.now(),
    )
    outcome = answer_.outcome
    if outcome == "declined":
        messages.success(request, _("You declined the page for #%(id)s.") % {"id": incident.pk})
        return redirect("responder_home")
    if outcome == "lead":
        messages.success(request, _("You lead #%(id)s. The dispatcher will call you.") % {"id": incident.pk})
    elif outcome == "joined":
        messages.success(
            request, _("Someone already leads #%(id)s: you joined. The dispatcher will call you.") % {"id": incident.pk}
        )
    else:
        messages.error(request, _("This page is no longer open. Thank you."))
        return redirect("responder_home")
    return redirect("responder_incident", incident_id=incident.pk)


def _home_error(request: HttpRequest, responder: Responder, error: str) -> HttpResponse:
    context = {
        "responder": responder,
        "pages": open_pages(responder, timezone.now()),
        "assignments": my_assignments(responder),
        "available_hours": settings.AVAILABLE_HOURS,
        "max_eta": MAX_ETA_MINUTES,
        "error": error,
    }
    return render(request, "responders/mobile/home.html", context, status=400)


@require_POST
@login_required
def responder_available(request: HttpRequest) -> HttpResponse:
    user, responder = _volunteer(request)
    if responder is None:
        raise PermissionDenied
    try:
        hours = _number(request.POST.get("hours", ""), low=1, high=availability.MAX_AVAILABLE_HOURS)
    except ValueError:
        return _home_error(
            request,
            responder,
            _("Give a number of hours from 1 to %(max)s.") % {"max": availability.MAX_AVAILABLE_HOURS},
        )
    shift = availability.set_available(responder, hours, timezone.now(), acting_user=user)
    messages.success(
        request,
        _("You are available until %(time)s.") % {"time": timezone.localtime(shift.ends_at).strftime("%H:%M")},
    )
    return redirect("responder_home")


@require_POST
@login_required
def responder_off(request: HttpRequest) -> HttpResponse:
    user, responder = _volunteer(request)
    if responder is None:
        raise PermissionDenied
    shift = availability.set_off(responder, timezone.now(), acting_user=user)
    messages.success(
        request,
        _("You are off call until %(time)s.") % {"time": timezone.localtime(shift.ends_at).strftime("%d/%m %H:%M")},
    )
    return redirect("responder_home")


# --- one incident ---------------------------------------------------------------------


def _incident_page(
    request: HttpRequest,
    assignment: Assignment,
    *,
    form: FieldReportForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    view = access.read_incident(user, assignment)
    active = assignment.ended_at is None
    context = {
        "assignment": assignment,
        "view": view,
        "active": active,
        "steps": access.my_steps(assignment),
        "form": form or FieldReportForm(),
        "error": error,
    }
    return render(request, "responders/mobile/incident.html", context, status=status)


@require_GET
@login_required
def responder_incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    user, _responder = _assigned_volunteer(request)
    return _incident_page(request, access.assignment_for(user, incident_id))


@require_POST
@login_required
def responder_field_report(request: HttpRequest, incident_id: int) -> HttpResponse:
    user, _responder = _assigned_volunteer(request)
    assignment = access.assignment_for(user, incident_id)
    if assignment.ended_at is not None:
        return _incident_page(request, assignment, error=_("You are no longer on this incident."), status=409)
    form = FieldReportForm(request.POST)
    if not form.is_valid():
        return _incident_page(request, assignment, form=form, error=_("Please correct the field report."), status=400)
    incident: Incident = assignment.incident
    try:
        fieldreports.record_from_web(user, incident, form.cleaned_data)
    except IncidentError as exc:
        return _incident_page(request, assignment, form=form, error=str(exc.message), status=400)
    messages.success(request, _("Field report sent. Thank you."))
    return redirect("responder_incident", incident_id=incident.pk)


@require_POST
@login_required
def responder_on_scene(request: HttpRequest, incident_id: int) -> HttpResponse:
    user, responder = _assigned_volunteer(request)
    assignment = access.assignment_for(user, incident_id, active=True)
    assert responder is not None
    paging.respond(responder, PageResponse.ON_SCENE, incident=assignment.incident, now=timezone.now())
    messages.success(request, _("On scene noted. Stay at a safe distance."))
    return redirect("responder_incident", incident_id=incident_id)


@require_POST
@login_required
def responder_done(request: HttpRequest, incident_id: int) -> HttpResponse:
    user, _responder = _assigned_volunteer(request)
    assignment = access.assignment_for(user, incident_id, active=True)
    paging.end_assignment(assignment, timezone.now(), acting_user=user)
    messages.success(request, _("You are done with #%(id)s. Thank you.") % {"id": incident_id})
    return redirect("responder_home")


# --- my shifts ------------------------------------------------------------------------


def _my_blocks(responder: Responder, now: datetime) -> list[oncall.Block]:
    return oncall.schedule_blocks(
        responder.chapter_id, now, now + timedelta(days=SCHEDULE_DAYS), responder_ids=[responder.pk]
    )


def _zone_names(blocks: list[oncall.Block]) -> dict[int, str]:
    return dict(Zone.objects.filter(pk__in={b.zone_id for b in blocks if b.zone_id}).values_list("id", "name"))


@require_GET
@login_required
def responder_schedule(request: HttpRequest) -> HttpResponse:
    _user_, responder = _volunteer(request)
    rows: list[dict[str, Any]] = []
    if responder is not None:
        blocks = _my_blocks(responder, timezone.now())
        zone_names = _zone_names(blocks)
        kinds = {
            oncall.ROTATION: _("On call (rotation)"),
            ShiftKind.OVERRIDE: _("On call (cover)"),
            ShiftKind.AVAILABLE: _("Available"),
            ShiftKind.OFF: _("Off"),
        }
        rows = [
            {
                "starts_at": block.starts_at,
                "ends_at": block.ends_at,
                "kind": block.kind,
                "kind_label": kinds.get(block.kind, block.kind),
                "zone": zone_names.get(block.zone_id, "") if block.zone_id else _("My home zones"),
            }
            for block in blocks
        ]
    return render(
        request, "responders/mobile/schedule.html", {"responder": responder, "rows": rows, "days": SCHEDULE_DAYS}
    )


@require_GET
@login_required
def responder_schedule_ics(request: HttpRequest) -> HttpResponse:
    """My own on-call blocks as iCalendar, to add to the phone's calendar."""
    _user_, responder = _volunteer(request)
    if responder is None:
        raise PermissionDenied
    now = timezone.now()
    blocks = _my_blocks(responder, now)
    body = calendar_ics(blocks, zone_names=_zone_names(blocks), name=_("My shifts"), now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-shifts.ics"'
    return response
