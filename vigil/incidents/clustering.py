"""Clustering: every report joins an open incident near it in place and time, or opens one.

Runs inside the report's own transaction (intake's report_received signal), on every
report, so it stays at one lookup and three or four small writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from vigil.accounts.models import User
from vigil.core import geo
from vigil.incidents import signals
from vigil.incidents.models import (
    OPEN_STATUSES,
    EventKind,
    FieldReport,
    Incident,
    IncidentEvent,
    IncidentReport,
    Status,
)
from vigil.intake.models import Kind, Report


def record_event(
    incident: Incident,
    kind: str,
    *,
    at: datetime,
    actor: User | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    note: str = "",
    other: Incident | None = None,
) -> IncidentEvent:
    event = IncidentEvent(
        incident=incident,
        at=at,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        other_incident=other,
    )
    event.reason = reason
    event.save(force_insert=True)
    return event


def recount(incident: Incident, *, expected: int) -> None:
    """Recompute the cached counters after reports moved in or out.

    `expected` is the count by arithmetic on the cached counters. Purged reports have no
    link any more but still count (the incident stays the record that something happened),
    so the larger of the two wins, and cached channels and times are kept where links
    cannot tell.
    """
    links = IncidentReport.objects.filter(incident=incident)
    found = links.aggregate(n=Count("pk"), first=Min("report__received_at"), last=Max("report__received_at"))
    incident.report_count = max(found["n"], expected, 0)
    purged = incident.report_count > found["n"]
    channels = set(links.values_list("report__channel", flat=True))
    incident.channels = sorted(channels | set(incident.channels) if purged else channels)
    if found["first"] is not None:
        if purged:
            incident.first_report_at = min(incident.first_report_at, found["first"])
            incident.last_report_at = max(incident.last_report_at, found["last"])
        else:
            incident.first_report_at, incident.last_report_at = found["first"], found["last"]


def _candidates(report: Report) -> QuerySet[Incident] | None:
    """Open incidents of the report's chapter, near it in place and time."""
    if report.cell:
        place = Q(cell__in=geo.nearby_cells(report.cell))
    elif report.zip_code:
        place = Q(zip_code=report.zip_code)
    elif report.zone_id:
        place = Q(zone_id=report.zone_id)
    else:
        return None
    return Incident.objects.filter(
        place,
        chapter_id=report.chapter_id,
        status__in=OPEN_STATUSES,
        last_report_at__gte=report.received_at - settings.CLUSTER_WINDOW,
    )


def _find_incident(report: Report, *, exclude: int | None = None) -> Incident | None:
    candidates = _candidates(report)
    if candidates is None:
        return None
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude)
    return candidates.select_for_update().order_by("-last_report_at").first()


def incident_from(report: Report, **fields: Any) -> Incident:
    """A new incident at the report's place and time (clustering, and a dispatcher's split)."""
    return Incident.objects.create(
        chapter_id=report.chapter_id,
        kind=report.kind,
        cell=report.cell,
        zip_code=report.zip_code,
        zone_id=report.zone_id,
        first_report_at=report.received_at,
        last_report_at=report.received_at,
        **fields,
    )


def _open_incident(report: Report, now: datetime, *, link: IncidentReport | None = None) -> Incident:
    incident = incident_from(report, report_count=1, channels=[report.channel])
    signals.incident_opened.send(sender=Incident, incident=incident)
    if link is None:
        IncidentReport.objects.create(report=report, incident=incident, linked_at=now)
    else:
        link.incident = incident
        link.corroboration = False
        link.save(update_fields=["incident", "corroboration"])
    record_event(incident, EventKind.CREATED, at=now)
    return incident


def _add_report(incident: Incident, report: Report, now: datetime, *, link: IncidentReport | None = None) -> None:
    # Arriving after confirmation, a report corroborates; it is not a new ticket.
    corroboration = incident.status == Status.CONFIRMED
    if link is None:
        IncidentReport.objects.create(report=report, incident=incident, linked_at=now, corroboration=corroboration)
    else:
        link.incident = incident
        link.corroboration = corroboration
        link.save(update_fields=["incident", "corroboration"])
    incident.report_count += 1
    if report.channel not in incident.channels:
        incident.channels = sorted({*incident.channels, report.channel})
    incident.last_report_at = max(incident.last_report_at, report.received_at)
    incident.first_report_at = min(incident.first_report_at, report.received_at)
    if incident.kind == Kind.OTHER and report.kind != Kind.OTHER:
        incident.kind = report.kind
    if incident.zone_id is None and report.zone_id is not None:
        incident.zone_id = report.zone_id
    incident.save(
        update_fields=["report_count", "channels", "last_report_at", "first_report_at", "kind", "zone", "updated_at"]
    )
    record_event(incident, EventKind.REPORT, at=now)


def _retire_if_empty(incident: Incident, now: datetime) -> None:
    """An incident whose last report moved away: deleted, unless staff already worked on it."""
    recount(incident, expected=incident.report_count - 1)
    if incident.report_count:
        incident.save(update_fields=["report_count", "channels", "first_report_at", "last_report_at", "updated_at"])
        return
    untouched = (
        incident.status == Status.NEW
        and incident.claimed_by_id is None
        and not FieldReport.objects.filter(incident=incident).exists()
    )
    if untouched:
        incident.delete()
        return
    if incident.status == Status.CLOSED:
        incident.save(update_fields=["report_count", "channels", "updated_at"])
        return
    from_status = incident.status
    incident.status = Status.CLOSED
    incident.channels = []
    incident.save(update_fields=["status", "report_count", "channels", "updated_at"])
    record_event(incident, EventKind.STATUS, at=now, from_status=from_status, to_status=Status.CLOSED)


def recluster(report: Report, now: datetime) -> None:
    """The report got (or changed) its place: move its link where it now belongs."""
    link = IncidentReport.objects.select_related("incident").filter(report_id=report.pk).first()
    if link is None:
        _cluster(report, now)
        return
    old = link.incident
    candidates = _candidates(report)
    if candidates is not None and candidates.filter(pk=old.pk).exists():
        return
    target = _find_incident(report, exclude=old.pk)
    if target is not None:
        _add_report(target, report, now, link=link)
    elif old.chapter_id == report.chapter_id and old.report_count <= 1:
        # Its own incident, still alone: give it the place instead of opening a new one.
        old.cell, old.zip_code, old.zone_id = report.cell, report.zip_code, report.zone_id
        if old.kind == Kind.OTHER:
            old.kind = report.kind
        old.save(update_fields=["cell", "zip_code", "zone", "kind", "updated_at"])
        return
    else:
        _open_incident(report, now, link=link)
    _retire_if_empty(old, now)


def _cluster(report: Report, now: datetime) -> None:
    incident = _find_incident(report)
    if incident is None:
        _open_incident(report, now)
    else:
        _add_report(incident, report, now)


def cluster_report(sender: Any, report: Report, updated: bool = False, **kwargs: Any) -> None:
    """Receiver of intake's report_received, inside the report's transaction.

    On every report, so it stays at one lookup and three or four small writes.
    """
    now = timezone.now()
    if updated:
        recluster(report, now)
    else:
        _cluster(report, now)
