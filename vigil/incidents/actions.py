"""Writes for the incidents stage: claims, the verification workflow, merge and split.

Clustering lives in vigil.incidents.clustering; its receiver is re-exported here.

Every staff action is `@transaction.atomic(durable=True)` and writes its audit row and
timeline event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigil.accounts.models import Role, User
from vigil.core.audit import audit
from vigil.core.models import Chapter
from vigil.core.phones import InvalidPhone, normalize_phone
from vigil.incidents.clustering import cluster_report, incident_from, record_event, recount
from vigil.incidents.errors import (
    CorroborationRequired,
    IncidentError,
    IncidentNotFound,
    InvalidInput,
    InvalidTransition,
    ReasonRequired,
)
from vigil.incidents.models import (
    OPEN_STATUSES,
    EventKind,
    FieldReport,
    Incident,
    IncidentReport,
    Outcome,
    Status,
)
from vigil.incidents.selectors import incident_chapter_ids, staff_chapter_ids
from vigil.incidents.signals import incident_closed, incidents_merged
from vigil.intake.actions import ReportInput, receive_report
from vigil.intake.models import Channel, Report

__all__ = [
    "TRANSITIONS",
    "CorroborationRequired",
    "CorroborationStatus",
    "IncidentError",
    "IncidentNotFound",
    "InvalidInput",
    "InvalidTransition",
    "ReasonRequired",
    "claim_incident",
    "close_incident",
    "cluster_report",
    "confirm_incident",
    "corroboration_status",
    "log_hotline_call",
    "mark_false_alarm",
    "mark_unverified",
    "merge_incidents",
    "record_field_report",
    "release_incident",
    "reopen_incident",
    "split_reports",
    "start_verifying",
    "store_field_report",
    "transition_incident",
]

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.VERIFYING, Status.CONFIRMED, Status.FALSE_ALARM, Status.UNVERIFIED, Status.CLOSED}),
    Status.VERIFYING: frozenset({Status.CONFIRMED, Status.FALSE_ALARM, Status.UNVERIFIED}),
    # A confirmation can be retracted as a false alarm.
    Status.CONFIRMED: frozenset({Status.CLOSED, Status.FALSE_ALARM}),
    Status.FALSE_ALARM: frozenset({Status.CLOSED, Status.VERIFYING}),
    Status.UNVERIFIED: frozenset({Status.CLOSED, Status.VERIFYING}),
    Status.CLOSED: frozenset({Status.VERIFYING}),
}
# Trained people whose on-scene confirmation satisfies the corroboration gate. A VOLUNTEER
# reports only through the responders stage, which vouches they were paged for their current
# training and assigned to this incident (record_field_report(assigned=True)).
FIELD_ROLES = (Role.VERIFIER, Role.DISPATCHER, Role.ADMIN, Role.ORGANIZER, Role.VOLUNTEER)
MAX_REASON = 2000
MAX_NOTES = 5000
# Field report parts: (longest accepted text, name shown in the error).
FIELD_LIMITS: dict[str, tuple[int, Any]] = {
    "size": (200, _("Size")),
    "activity": (500, _("Activity")),
    "location": (MAX_NOTES, _("Location")),
    "unit": (200, _("Unit")),
    "observed_time": (100, _("Time")),
    "equipment": (500, _("Equipment")),
    "notes": (MAX_NOTES, _("Notes")),
}


class CorroborationStatus(TypedDict):
    on_scene: bool
    independent_sources: int
    satisfied: bool


# --- helpers --------------------------------------------------------------------------


def _require_incident_access(user: Any, incident: Incident) -> None:
    if incident.chapter_id not in incident_chapter_ids(user):
        raise IncidentNotFound


def _require_dispatcher(user: Any) -> None:
    if not getattr(user, "can_dispatch", False):
        raise PermissionDenied


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired
    if len(text) > MAX_REASON:
        raise InvalidInput(_("The reason is too long (at most 2,000 characters)."))
    return text


def _lock(incident: Incident) -> Incident:
    """The incident's current row, locked for the rest of the transaction (PostgreSQL)."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _copy_state(target: Incident, source: Incident) -> None:
    """Keep the caller's instance in step with what was saved."""
    for name in (
        "status",
        "decided_by_id",
        "last_action_at",
        "claimed_by_id",
        "claimed_at",
        "report_count",
        "channels",
        "first_report_at",
        "last_report_at",
        "updated_at",
    ):
        setattr(target, name, getattr(source, name))
    for relation in ("decided_by", "claimed_by"):
        if relation in target._state.fields_cache:
            del target._state.fields_cache[relation]


# --- claims ---------------------------------------------------------------------------


def _set_claim(incident: Incident, holder: User | None, *, acting_user: User) -> bool:
    """One conditional UPDATE: it changes the row only if the claim is in the expected state,
    so of many simultaneous requests exactly one wins."""
    _require_incident_access(acting_user, incident)
    _require_dispatcher(acting_user)
    now = timezone.now()
    changed = Incident.objects.filter(pk=incident.pk, claimed_by__isnull=holder is not None).update(
        claimed_by=holder, claimed_at=now if holder else None, last_action_at=now, updated_at=now
    )
    if not changed:
        return False
    incident.claimed_by = holder
    incident.claimed_at = now if holder else None
    incident.last_action_at = now
    incident.updated_at = now
    record_event(incident, EventKind.CLAIM if holder else EventKind.RELEASE, at=now, actor=acting_user)
    audit(acting_user, "incident.claim" if holder else "incident.release", incident)
    return True


@transaction.atomic(durable=True)
def claim_incident(incident: Incident, *, acting_user: User) -> bool:
    """Take the incident. Of many simultaneous claims exactly one wins."""
    return _set_claim(incident, acting_user, acting_user=acting_user)


@transaction.atomic(durable=True)
def release_incident(incident: Incident, *, acting_user: User) -> bool:
    """Give the incident back (the holder, or another dispatcher at a shift change)."""
    return _set_claim(incident, None, acting_user=acting_user)


# --- verification workflow ------------------------------------------------------------


def corroboration_status(incident: Incident) -> CorroborationStatus:
    """Whether the gate allows confirming: a trained person on scene, or 2+ independent sources.

    Sources are told apart by the keyed source hash; a report staff entered (a hotline
    call) with no hash is its own source. Anonymous reports without a hash could all be
    one person, so together they count once, and only next to a staff-entered report.
    """
    on_scene = FieldReport.objects.filter(
        incident=incident,
        on_scene=True,
        outcome=Outcome.CONFIRMED,
        verifier__role__in=FIELD_ROLES,
        verifier__is_active=True,
        verifier__chapters=incident.chapter_id,
    ).exists()
    hashes: set[str] = set()
    staff_unhashed = 0
    anonymous_unhashed = False
    any_staff = False
    for source_hash, entered_by_id in Report.objects.filter(link__incident=incident).values_list(
        "source_hash", "entered_by_id"
    ):
        any_staff = any_staff or entered_by_id is not None
        if source_hash:
            hashes.add(source_hash)
        elif entered_by_id is not None:
            staff_unhashed += 1
        else:
            anonymous_unhashed = True
    independent = len(hashes) + staff_unhashed + (1 if anonymous_unhashed and any_staff else 0)
    return {
        "on_scene": on_scene,
        "independent_sources": independent,
        "satisfied": on_scene or independent >= 2,
    }


def _may_move(user: Any, from_status: str, to_status: str) -> bool:
    if getattr(user, "can_dispatch", False):
        return True
    # Verifiers start verification of a new incident; every decision is a dispatcher's.
    return (
        getattr(user, "role", None) == Role.VERIFIER
        and to_status == Status.VERIFYING
        and from_status in (Status.NEW, Status.VERIFYING)
    )


@transaction.atomic(durable=True)
def transition_incident(incident: Incident, to_status: str, *, acting_user: User, reason: str) -> Incident:
    _require_incident_access(acting_user, incident)
    current = _lock(incident)
    if not _may_move(acting_user, current.status, to_status):
        raise PermissionDenied
    text = _clean_reason(reason)
    if to_status not in TRANSITIONS.get(current.status, frozenset()):
        raise InvalidTransition
    if to_status == Status.CONFIRMED and not corroboration_status(current)["satisfied"]:
        raise CorroborationRequired
    now = timezone.now()
    from_status = current.status
    current.status = to_status
    current.decided_by = acting_user
    current.last_action_at = now
    current.save(update_fields=["status", "decided_by", "last_action_at", "updated_at"])
    record_event(
        current, EventKind.STATUS, at=now, actor=acting_user, from_status=from_status, to_status=to_status, reason=text
    )
    audit(acting_user, f"incident.status.{to_status}", current)
    if to_status == Status.CLOSED:
        incident_closed.send(sender=Incident, incident=current, at=now, acting_user=acting_user)
    _copy_state(incident, current)
    return incident


def start_verifying(incident: Incident, *, acting_user: User, reason: str) -> Incident:
    return transition_incident(incident, Status.VERIFYING, acting_user=acting_user, reason=reason)


def confirm_incident(incident: Incident, *, acting_user: User, reason: str) -> Incident:
    """Confirm: only a dispatcher, and only past the corroboration gate (CorroborationRequired)."""
    return transition_incident(incident, Status.CONFIRMED, acting_user=acting_user, reason=reason)


def mark_false_alarm(incident: Incident, *, acting_user: User, reason: str) -> Incident:
    return transition_incident(incident, Status.FALSE_ALARM, acting_user=acting_user, reason=reason)


def mark_unverified(incident: Incident, *, acting_user: User, reason: str) -> Incident:
    return transition_incident(incident, Status.UNVERIFIED, acting_user=acting_user, reason=reason)


def close_incident(incident: Incident, *, acting_user: User, reason: str) -> Incident:
    return transition_incident(incident, Status.CLOSED, acting_user=acting_user, reason=reason)


def reopen_incident(incident: Incident, *, acting_user: User, reason: str) -> Incident:
    _require_incident_access(acting_user, incident)
    if incident.status in (Status.NEW, Status.VERIFYING, Status.CONFIRMED):
        raise InvalidTransition(_("Only a closed, false-alarm or unverified incident can be reopened."))
    return transition_incident(incident, Status.VERIFYING, acting_user=acting_user, reason=reason)


def _limited(value: str, name: str) -> str:
    limit, label = FIELD_LIMITS[name]
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(_("%(field)s: at most %(limit)s characters, please.") % {"field": label, "limit": limit})
    return text


@transaction.atomic(durable=True)
def record_field_report(incident: Incident, **kwargs: Any) -> FieldReport:
    """store_field_report in a transaction of its own (the web forms)."""
    return store_field_report(incident, **kwargs)


def store_field_report(
    incident: Incident,
    *,
    acting_user: User,
    assigned: bool = False,
    on_scene: bool,
    size: str = "",
    activity: str = "",
    location: str = "",
    unit: str = "",
    observed_time: str = "",
    equipment: str = "",
    outcome: str,
    notes: str = "",
) -> FieldReport:
    """A verifier's SALUTE return. A confirmation on scene moves a new incident to verifying;
    confirming it is still the dispatcher's decision.

    `assigned=True` is for the responders stage only: it has checked that this volunteer is
    assigned to the incident, so chapter membership is all that is checked here. Runs in the
    caller's transaction (a texted report: the SMS webhook's).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_field_report needs the caller's transaction; use record_field_report")
    if assigned:
        if incident.chapter_id not in staff_chapter_ids(acting_user):
            raise IncidentNotFound
    else:
        _require_incident_access(acting_user, incident)
        if getattr(acting_user, "role", None) == Role.VOLUNTEER:
            raise IncidentNotFound
    if getattr(acting_user, "role", None) not in FIELD_ROLES:
        raise PermissionDenied
    if outcome not in Outcome.values:
        raise InvalidInput(_("Choose one of the listed outcomes."))
    values = {
        "size": _limited(size, "size"),
        "activity": _limited(activity, "activity"),
        "unit": _limited(unit, "unit"),
        "observed_time": _limited(observed_time, "observed_time"),
        "equipment": _limited(equipment, "equipment"),
    }
    location_text = _limited(location, "location")
    notes_text = _limited(notes, "notes")
    current = _lock(incident)
    now = timezone.now()
    report = FieldReport(
        incident=current,
        verifier=acting_user,
        created_at=now,
        on_scene=bool(on_scene),
        outcome=outcome,
        **values,
    )
    report.location = location_text
    report.notes = notes_text
    report.save(force_insert=True)
    record_event(current, EventKind.FIELD_REPORT, at=now, actor=acting_user)
    fields = ["last_action_at", "updated_at"]
    if on_scene and outcome == Outcome.CONFIRMED and current.status == Status.NEW:
        current.status = Status.VERIFYING
        fields.append("status")
        # The timeline orders by time alone: the status change must sort after its cause.
        record_event(
            current,
            EventKind.STATUS,
            at=now + timedelta(microseconds=1),
            actor=acting_user,
            from_status=Status.NEW,
            to_status=Status.VERIFYING,
        )
    current.last_action_at = now
    current.save(update_fields=fields)
    audit(acting_user, "incident.field_report", current)
    _copy_state(incident, current)
    return report


# --- merge and split ------------------------------------------------------------------


@transaction.atomic(durable=True)
def merge_incidents(target: Incident, sources: Iterable[Incident], *, acting_user: User, reason: str) -> Incident:
    """Fold duplicates into the target; the sources close, each pointing at the target."""
    _require_incident_access(acting_user, target)
    _require_dispatcher(acting_user)
    text = _clean_reason(reason)
    source_ids = {source.pk for source in sources} - {target.pk}
    if not source_ids:
        raise InvalidInput(_("Choose at least one other incident to merge into this one."))
    locked = {
        row.pk: row
        for row in Incident.objects.select_for_update().filter(
            pk__in=[target.pk, *source_ids], chapter_id=target.chapter_id
        )
    }
    if len(locked) != len(source_ids) + 1:
        raise IncidentNotFound
    into = locked[target.pk]
    if into.status not in OPEN_STATUSES:
        raise InvalidInput(_("Merge into an open incident (reopen it first)."))
    now = timezone.now()
    IncidentReport.objects.filter(incident_id__in=source_ids).update(incident=into)
    expected = into.report_count
    for source_id in sorted(source_ids):
        source = locked[source_id]
        expected += source.report_count
        into.channels = sorted({*into.channels, *source.channels})
        into.first_report_at = min(into.first_report_at, source.first_report_at)
        into.last_report_at = max(into.last_report_at, source.last_report_at)
        from_status = source.status
        source.status = Status.CLOSED
        source.report_count = 0
        source.channels = []
        source.decided_by = acting_user
        source.last_action_at = now
        source.save(update_fields=["status", "report_count", "channels", "decided_by", "last_action_at", "updated_at"])
        record_event(
            source,
            EventKind.MERGE,
            at=now,
            actor=acting_user,
            from_status=from_status,
            to_status=Status.CLOSED,
            reason=text,
            other=into,
        )
        record_event(into, EventKind.MERGE, at=now, actor=acting_user, reason=text, other=source)
        audit(acting_user, "incident.merge", source)
        incidents_merged.send(sender=Incident, source=source, into=into, at=now, acting_user=acting_user)
    recount(into, expected=expected)
    into.last_action_at = now
    into.save(
        update_fields=["report_count", "channels", "first_report_at", "last_report_at", "last_action_at", "updated_at"]
    )
    audit(acting_user, "incident.merge_into", into)
    _copy_state(target, into)
    return target


def _report_uuids(report_ids: Iterable[Any]) -> set[uuid.UUID]:
    try:
        return {value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)) for value in report_ids}
    except ValueError:
        raise InvalidInput(_("Choose reports of this incident to split off.")) from None


@transaction.atomic(durable=True)
def split_reports(
    incident: Incident, report_ids: Iterable[uuid.UUID | str], *, acting_user: User, reason: str
) -> Incident:
    """Move the given reports of the incident into a new incident (status new)."""
    _require_incident_access(acting_user, incident)
    _require_dispatcher(acting_user)
    text = _clean_reason(reason)
    ids = _report_uuids(report_ids)
    current = _lock(incident)
    links = list(IncidentReport.objects.filter(incident=current, report_id__in=ids).select_related("report"))
    if not ids or len(links) != len(ids):
        raise InvalidInput(_("Choose reports of this incident to split off."))
    if len(links) >= IncidentReport.objects.filter(incident=current).count():
        raise InvalidInput(_("At least one report must stay with the incident."))
    now = timezone.now()
    first = min((link.report for link in links), key=lambda report: report.received_at)
    split = incident_from(first, last_action_at=now)
    IncidentReport.objects.filter(pk__in=ids).update(incident=split, corroboration=False)
    moved = len(links)
    for changed, expected in ((current, current.report_count - moved), (split, moved)):
        recount(changed, expected=expected)
        changed.last_action_at = now
        changed.save(
            update_fields=[
                "report_count",
                "channels",
                "first_report_at",
                "last_report_at",
                "last_action_at",
                "updated_at",
            ]
        )
    record_event(current, EventKind.SPLIT, at=now, actor=acting_user, reason=text, other=split)
    record_event(split, EventKind.SPLIT, at=now, actor=acting_user, reason=text, other=current)
    audit(acting_user, "incident.split", current)
    audit(acting_user, "incident.split_from", split)
    _copy_state(incident, current)
    return split


# --- hotline --------------------------------------------------------------------------


def log_hotline_call(*, acting_user: User, chapter: Chapter, data: ReportInput) -> Report:
    """A dispatcher writes down a phone report; it goes through intake like any other.

    Not atomic itself: receive_report is a durable action of its own.
    """
    _require_dispatcher(acting_user)
    if chapter.pk not in staff_chapter_ids(acting_user):
        raise Http404
    source = data.source
    if data.contact_phone:
        try:
            phone = normalize_phone(data.contact_phone)
        except InvalidPhone:
            raise InvalidInput(_("That phone number does not look right.")) from None
        # The caller's number tells this call apart from (or matches it to) their texts.
        source = source or phone
    return receive_report(
        replace(data, channel=Channel.HOTLINE, source=source, fallback_chapter=chapter), entered_by=acting_user
    )
