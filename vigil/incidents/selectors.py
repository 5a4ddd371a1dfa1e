"""Reads for the incidents stage. Protected objects are fetched only through access_* here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.http import Http404
from django.utils import timezone

from vigil.accounts.models import Role
from vigil.core.audit import audit
from vigil.incidents.errors import IncidentNotFound
from vigil.incidents.models import OPEN_STATUSES, EventKind, Incident, IncidentEvent, Status
from vigil.intake.models import Kind, Report

# Legal coordinators work cases, not the dispatch board.
INCIDENT_READER_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER, Role.VERIFIER)
WAITING_STATUSES = (Status.NEW, Status.VERIFYING)
PUBLIC_DECISIONS = (Status.CONFIRMED, Status.FALSE_ALARM)
_MAX_BIGINT = 2**63 - 1


def staff_chapter_ids(user: Any) -> list[int]:
    """The chapters an active staff member belongs to; nothing for anyone else."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    return list(user.chapter_ids())


def incident_chapter_ids(user: Any) -> list[int]:
    """The chapters whose incidents this user may see."""
    if getattr(user, "role", None) not in INCIDENT_READER_ROLES:
        return []
    return staff_chapter_ids(user)


def access_incident_by_id(user: Any, incident_id: int) -> Incident:
    """The incident, or IncidentNotFound (an Http404) when missing or not this user's to see."""
    if not isinstance(incident_id, int) or not 0 < incident_id <= _MAX_BIGINT:
        raise IncidentNotFound
    chapter_ids = incident_chapter_ids(user)
    incident = (
        Incident.objects.select_related("zone", "claimed_by", "decided_by", "chapter")
        .filter(pk=incident_id, chapter_id__in=chapter_ids)
        .first()
    )
    if incident is None:
        raise IncidentNotFound
    return incident


@dataclass(frozen=True)
class BoardRow:
    incident: Incident
    id: int
    status: str
    status_label: str
    kind: str
    kind_label: str
    report_count: int
    channels: list[str]
    zone_name: str
    first_report_at: datetime
    last_report_at: datetime
    age: timedelta
    since_last_action: timedelta
    waiting_too_long: bool
    claimed_by: str


def _waiting_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.BOARD_STALE_MINUTES)


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    # Translated once per board, not per row: get_FOO_display re-translates every choice.
    return {k: str(v) for k, v in Status.choices}, {k: str(v) for k, v in Kind.choices}


def board_row(
    incident: Incident, *, now: datetime | None = None, labels: tuple[dict[str, str], dict[str, str]] | None = None
) -> BoardRow:
    """One board row; the incident should come with zone and claimed_by selected."""
    now = now or timezone.now()
    statuses, kinds = labels or _labels()
    last_touch = incident.last_action_at or incident.first_report_at
    return BoardRow(
        incident=incident,
        id=incident.pk,
        status=incident.status,
        status_label=statuses.get(incident.status, incident.status),
        kind=incident.kind,
        kind_label=kinds.get(incident.kind, incident.kind),
        report_count=incident.report_count,
        channels=list(incident.channels),
        zone_name=incident.zone.name if incident.zone else "",
        first_report_at=incident.first_report_at,
        last_report_at=incident.last_report_at,
        age=now - incident.first_report_at,
        since_last_action=now - last_touch,
        waiting_too_long=incident.status in WAITING_STATUSES and last_touch < _waiting_cutoff(now),
        claimed_by=incident.claimed_by.get_username() if incident.claimed_by else "",
    )


def board_incidents(user: Any, *, include_closed: bool = False, limit: int = 1000) -> list[BoardRow]:
    """The dispatcher board: two queries whatever the number of rows (chapters, then incidents)."""
    chapter_ids = incident_chapter_ids(user)
    if not chapter_ids:
        return []
    now = timezone.now()
    cutoff = _waiting_cutoff(now)
    queryset = Incident.objects.filter(chapter_id__in=chapter_ids)
    if not include_closed:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    queryset = (
        queryset.select_related("zone", "claimed_by")
        .annotate(
            waiting=Case(
                When(
                    Q(status__in=WAITING_STATUSES)
                    & (Q(last_action_at__lt=cutoff) | Q(last_action_at__isnull=True, first_report_at__lt=cutoff)),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .order_by("-waiting", "-last_report_at", "-id")
    )
    labels = _labels()
    return [board_row(incident, now=now, labels=labels) for incident in queryset[: max(0, limit)]]


def board_version(user: Any) -> str:
    """Changes whenever anything on this user's board changes; one aggregate query.

    Every write to an incident goes through save() or an update() that sets updated_at, so
    the newest updated_at moves; the open count catches an incident leaving the board. The
    minute of the stale cutoff is included so rows turn "waiting too long" without a write.
    """
    chapter_ids = incident_chapter_ids(user)
    if not chapter_ids:
        return "none"
    found = Incident.objects.filter(chapter_id__in=chapter_ids).aggregate(
        newest=Max("updated_at"),
        total=Count("id"),
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
    )
    newest = found["newest"].timestamp() if found["newest"] else 0
    minute = int(timezone.now().timestamp() // 60)
    return f"{newest:.6f}-{found['total']}-{found['open']}-{minute}"


def incident_timeline(incident: Incident) -> list[IncidentEvent]:
    return list(
        IncidentEvent.objects.filter(incident=incident).select_related("actor", "other_incident").order_by("at")
    )


def incident_reports(incident: Incident) -> list[Report]:
    """The incident's reports, oldest first, each with its link (corroboration flag) loaded."""
    return list(
        Report.objects.filter(link__incident=incident)
        .select_related("zone", "entered_by", "link")
        .order_by("received_at")
    )


@transaction.atomic(durable=True)
def reveal_reporter_contact(user: Any, report: Report) -> str:
    """The reporter's callback number, for dispatchers and admins of the report's chapter.

    Anyone else gets Http404, as if the report did not exist. Every reveal is audited.
    """
    if not getattr(user, "can_see_contacts", False) or report.chapter_id not in staff_chapter_ids(user):
        raise Http404
    audit(user, "report.contact_view", report)
    expires = report.contact_expires_at
    if not report.contact_phone or expires is None or expires <= timezone.now():
        return ""
    return str(report.contact_phone)


@dataclass(frozen=True)
class RumorEntry:
    """A public line of the rumor log: what was decided, where (zone only) and when (hour)."""

    outcome: str
    outcome_label: str
    kind: str
    kind_label: str
    zone_name: str
    day: date
    hour: datetime


def rumor_log(*, days: int = 14, chapter_id: int | None = None) -> list[RumorEntry]:
    """Incidents confirmed or debunked in the last `days`, newest first. Public data only.

    An incident's latest public decision counts (a confirmation later retracted shows as a
    false alarm); incidents closed after a confirmation still show as confirmed.
    """
    since = timezone.now() - timedelta(days=days)
    events = IncidentEvent.objects.filter(
        kind=EventKind.STATUS, to_status__in=PUBLIC_DECISIONS, at__gte=since
    ).order_by("-at")
    if chapter_id is not None:
        events = events.filter(incident__chapter_id=chapter_id)
    decided: dict[int, str] = {}
    for incident_id, to_status in events.values_list("incident_id", "to_status"):
        decided.setdefault(incident_id, to_status)
    # Reopened for another look: the earlier decision no longer stands.
    incidents = (
        Incident.objects.filter(pk__in=decided)
        .exclude(status__in=WAITING_STATUSES)
        .select_related("zone")
        .order_by("-first_report_at")
    )
    entries = []
    for incident in incidents:
        outcome = decided[incident.pk]
        local = timezone.localtime(incident.first_report_at).replace(minute=0, second=0, microsecond=0)
        entries.append(
            RumorEntry(
                outcome=outcome,
                outcome_label=str(Status(outcome).label),
                kind=incident.kind,
                kind_label=str(incident.get_kind_display()),
                zone_name=incident.zone.name if incident.zone else "",
                day=local.date(),
                hour=local,
            )
        )
    return entries
