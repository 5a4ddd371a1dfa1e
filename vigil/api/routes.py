"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query
from ninja import Status as Reply

from vigil.accounts.models import User
from vigil.api.auth import TokenAuth
from vigil.api.schemas import (
    ClaimOut,
    ErrorOut,
    FieldReportIn,
    FieldReportOut,
    HotlineCallIn,
    HotlineCallOut,
    IncidentDetailOut,
    IncidentOut,
    MergeIn,
    SplitIn,
    TransitionIn,
)
from vigil.core.models import Chapter
from vigil.incidents import actions, notes, selectors
from vigil.incidents.errors import CorroborationRequired, IncidentError, InvalidTransition
from vigil.incidents.models import FieldReport, Incident, IncidentEvent
from vigil.intake.actions import ReportInput
from vigil.intake.models import Channel, Report

api = NinjaAPI(
    title="Vigil API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url=None,
)

ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- errors ---------------------------------------------------------------------------


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    # One body for "missing" and "another chapter's": nothing tells them apart (D2).
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(ObjectDoesNotExist)
def does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
    return not_found(request, exc)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Your role does not allow this.")}, status=403)


@api.exception_handler(IncidentError)
def incident_error(request: HttpRequest, exc: IncidentError) -> HttpResponse:
    status = 409 if isinstance(exc, InvalidTransition | CorroborationRequired) else 422
    return api.create_response(request, {"detail": str(exc.message)}, status=status)


# --- shapes ---------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


def _incident_out(incident: Incident) -> dict[str, Any]:
    row = selectors.board_row(incident)
    return {
        "id": row.id,
        "status": row.status,
        "status_label": row.status_label,
        "kind": row.kind,
        "kind_label": row.kind_label,
        "report_count": row.report_count,
        "channels": row.channels,
        "zone": row.zone_name,
        "first_report_at": row.first_report_at,
        "last_report_at": row.last_report_at,
        "age_seconds": int(row.age.total_seconds()),
        "since_last_action_seconds": int(row.since_last_action.total_seconds()),
        "waiting_too_long": row.waiting_too_long,
        "claimed_by": row.claimed_by,
    }


def _report_out(report: Report) -> dict[str, Any]:
    link = getattr(report, "link", None)
    return {
        "id": report.id,
        "received_at": report.received_at,
        "channel": report.channel,
        "kind": report.kind,
        "observed_at": report.observed_at,
        "language": report.language,
        "zip_code": report.zip_code,
        "zone": report.zone.name if report.zone else "",
        "agents_count": report.agents_count,
        "vehicles_count": report.vehicles_count,
        "agency": report.agency,
        "address": str(report.address or ""),
        "details": str(report.details or ""),
        "anonymous": report.anonymous,
        "entered_by": report.entered_by.get_username() if report.entered_by else "",
        "corroboration": bool(link and link.corroboration),
        "has_contact": bool(report.contact_phone)
        and bool(report.contact_expires_at)
        and report.contact_expires_at > timezone.now(),  # type: ignore[operator]
    }


def _event_out(event: IncidentEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor.get_username() if event.actor else "",
        "from_status": event.from_status,
        "to_status": event.to_status,
        # A system note, in the caller's language, where no staff member gave a reason.
        "reason": str(event.reason or "") or (notes.render(event.note) if event.note else ""),
        "other_incident_id": event.other_incident_id,
    }


def _field_report_out(report: FieldReport) -> dict[str, Any]:
    return {
        "id": report.id,
        "created_at": report.created_at,
        "verifier": report.verifier.get_username(),
        "on_scene": report.on_scene,
        "size": report.size,
        "activity": report.activity,
        "location": str(report.location or ""),
        "unit": report.unit,
        "observed_time": report.observed_time,
        "equipment": report.equipment,
        "outcome": report.outcome,
        "notes": str(report.notes or ""),
    }


# --- incidents ------------------------------------------------------------------------


@api.get("/incidents", response=list[IncidentOut], tags=["incidents"])
def list_incidents(request: HttpRequest, include_closed: bool = False, limit: int = Query(500, ge=1, le=500)) -> Any:
    """The board: open incidents of your chapters, waiting-too-long first, then newest report."""
    rows = selectors.board_incidents(_user(request), include_closed=include_closed, limit=limit)
    return [_incident_out(row.incident) for row in rows]


@api.get("/incidents/{incident_id}", response={200: IncidentDetailOut, **ERRORS}, tags=["incidents"])
def get_incident(request: HttpRequest, incident_id: int) -> Any:
    incident = selectors.access_incident_by_id(_user(request), incident_id)
    field_reports = FieldReport.objects.filter(incident=incident).select_related("verifier").order_by("created_at")
    return {
        **_incident_out(incident),
        "corroboration": actions.corroboration_status(incident),
        "reports": [_report_out(report) for report in selectors.incident_reports(incident)],
        "timeline": [_event_out(event) for event in selectors.incident_timeline(incident)],
        "field_reports": [_field_report_out(report) for report in field_reports],
    }


@api.post("/incidents/{incident_id}/claim", response={200: ClaimOut, **ERRORS}, tags=["incidents"])
def claim(request: HttpRequest, incident_id: int) -> Any:
    user = _user(request)
    incident = selectors.access_incident_by_id(user, incident_id)
    if not actions.claim_incident(incident, acting_user=user):
        return Reply(409, {"detail": _("Someone already claimed this incident.")})
    return {"claimed": True, "claimed_by": user.get_username()}


@api.post("/incidents/{incident_id}/release", response={200: ClaimOut, **ERRORS}, tags=["incidents"])
def release(request: HttpRequest, incident_id: int) -> Any:
    user = _user(request)
    incident = selectors.access_incident_by_id(user, incident_id)
    if not actions.release_incident(incident, acting_user=user):
        return Reply(409, {"detail": _("This incident is not claimed.")})
    return {"claimed": False, "claimed_by": ""}


@api.post("/incidents/{incident_id}/transition", response={200: IncidentOut, **ERRORS}, tags=["incidents"])
def transition(request: HttpRequest, incident_id: int, payload: TransitionIn) -> Any:
    """Move the incident to another status, with a reason. Confirming needs corroboration."""
    user = _user(request)
    incident = selectors.access_incident_by_id(user, incident_id)
    actions.transition_incident(incident, str(payload.to_status), acting_user=user, reason=payload.reason)
    return _incident_out(selectors.access_incident_by_id(user, incident_id))


@api.post("/incidents/{incident_id}/merge", response={200: IncidentOut, **ERRORS}, tags=["incidents"])
def merge(request: HttpRequest, incident_id: int, payload: MergeIn) -> Any:
    """Fold the source incidents into this one; the sources close."""
    user = _user(request)
    target = selectors.access_incident_by_id(user, incident_id)
    sources = [selectors.access_incident_by_id(user, source_id) for source_id in sorted(set(payload.source_ids))]
    actions.merge_incidents(target, sources, acting_user=user, reason=payload.reason)
    return _incident_out(selectors.access_incident_by_id(user, incident_id))


@api.post("/incidents/{incident_id}/split", response={201: IncidentOut, **ERRORS}, tags=["incidents"])
def split(request: HttpRequest, incident_id: int, payload: SplitIn) -> Any:
    """Move some of this incident's reports into a new incident."""
    user = _user(request)
    incident = selectors.access_incident_by_id(user, incident_id)
    created = actions.split_reports(incident, payload.report_ids, acting_user=user, reason=payload.reason)
    return Reply(201, _incident_out(selectors.access_incident_by_id(user, created.pk)))


@api.post("/incidents/{incident_id}/field-reports", response={201: FieldReportOut, **ERRORS}, tags=["incidents"])
def add_field_report(request: HttpRequest, incident_id: int, payload: FieldReportIn) -> Any:
    """A verifier's return from the scene (SALUTE plus outcome)."""
    user = _user(request)
    incident = selectors.access_incident_by_id(user, incident_id)
    # The schema's fields are the action's keywords (mode="json" turns the outcome into its value).
    report = actions.record_field_report(incident, acting_user=user, **payload.model_dump(mode="json"))
    return Reply(201, _field_report_out(report))


@api.post("/hotline-calls", response={201: HotlineCallOut, **ERRORS}, tags=["incidents"])
def log_hotline_call(request: HttpRequest, payload: HotlineCallIn) -> Any:
    """A dispatcher logs a phone report; it is clustered like any other report."""
    user = _user(request)
    chapter_ids = selectors.staff_chapter_ids(user)
    if not user.can_dispatch:
        raise PermissionDenied
    chapter = Chapter.objects.filter(pk__in=chapter_ids).order_by("pk").first()
    if chapter is None:
        raise Http404
    data = ReportInput(
        channel=Channel.HOTLINE,
        kind=str(payload.kind),
        details=payload.details,
        address=payload.address,
        zip_code=payload.zip_code,
        latitude=payload.latitude,
        longitude=payload.longitude,
        observed_at=payload.observed_at,
        agents_count=payload.agents_count,
        vehicles_count=payload.vehicles_count,
        agency=str(payload.agency),
        language=payload.language,
        contact_phone=payload.caller_phone,
    )
    report = actions.log_hotline_call(acting_user=user, chapter=chapter, data=data)
    incident_id = (
        Incident.objects.filter(links__report=report, chapter_id__in=chapter_ids).values_list("pk", flat=True).first()
    )
    return Reply(201, {"report_id": report.id, "incident_id": incident_id})
