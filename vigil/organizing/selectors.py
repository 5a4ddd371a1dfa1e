"""Reads of the organizing stage. Events are fetched only through the access_* functions here.

Staff: organizers and admins write, dispatchers read, of their own chapters. Volunteers see
the upcoming events of their chapter, place included: that read of ciphertext is audited, as
is a staff member's read of who answered (names are decrypted).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404

from vigil.accounts.models import Role
from vigil.core.audit import audit
from vigil.organizing.models import Attendance, Event, Rsvp, RsvpAnswer
from vigil.responders.models import Responder, ResponderStatus

EVENT_READER_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER)
EVENT_WRITER_ROLES = (Role.ADMIN, Role.ORGANIZER)
# How long a past event stays on the staff list's "past" part.
PAST_WINDOW = timedelta(days=180)


class EventNotFound(Event.DoesNotExist, Http404):
    """Missing, or another chapter's: the same error either way (no existence leak)."""


def event_chapter_ids(user: Any) -> list[int]:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    if getattr(user, "role", None) not in EVENT_READER_ROLES:
        return []
    return list(user.chapter_ids())


def _as_uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise EventNotFound from None


def access_event_by_id(user: Any, event_id: Any) -> Event:
    key = _as_uuid(event_id)
    event = Event.objects.select_related("chapter", "created_by").filter(pk=key, chapter_id__in=event_chapter_ids(user))
    found = event.first()
    if found is None:
        raise EventNotFound
    return found


@dataclass
class Counts:
    yes: int = 0
    no: int = 0
    maybe: int = 0

    @property
    def total(self) -> int:
        return self.yes + self.no + self.maybe


def rsvp_counts(event_ids: list[uuid.UUID]) -> dict[uuid.UUID, Counts]:
    counts: dict[uuid.UUID, Counts] = {pk: Counts() for pk in event_ids}
    rows = Rsvp.objects.filter(event_id__in=event_ids).values_list("event_id", "answer").annotate(n=Count("id"))
    for event_id, answer, n in rows.order_by():
        if answer in RsvpAnswer.values:
            setattr(counts[event_id], answer, n)
    return counts


@dataclass
class StaffList:
    upcoming: list[Event] = field(default_factory=list)
    past: list[Event] = field(default_factory=list)
    counts: dict[uuid.UUID, Counts] = field(default_factory=dict)


def staff_events(user: Any, now: datetime) -> StaffList:
    """Upcoming (and under way) events first by start, then the recent past, latest first. No ciphertext."""
    chapter_ids = event_chapter_ids(user)
    events = Event.objects.filter(chapter_id__in=chapter_ids).defer("place", "details").select_related("chapter")
    upcoming = list(events.filter(ends_at__gte=now).order_by("starts_at")[:200])
    past = list(events.filter(ends_at__lt=now, ends_at__gte=now - PAST_WINDOW).order_by("-starts_at")[:200])
    counts = rsvp_counts([e.pk for e in upcoming + past])
    return StaffList(upcoming=upcoming, past=past, counts=counts)


@dataclass(frozen=True)
class RosterRow:
    responder: Responder
    answer: str
    answer_label: str
    via: str
    attended: bool | None


def _answer_label(answer: str) -> str:
    return str(RsvpAnswer(answer).label) if answer in RsvpAnswer.values else ""


def event_roster(user: Any, event: Event, *, everyone: bool = False) -> list[RosterRow]:
    """Who answered (and, with `everyone`, every approved volunteer of the chapter), names
    decrypted: the read is audited. Those who said yes or maybe come first."""
    rsvps = {r.responder_id: r for r in Rsvp.objects.filter(event=event)}
    attendance = dict(Attendance.objects.filter(event=event).values_list("responder_id", "attended"))
    query = Q(pk__in=list(rsvps) + list(attendance))
    if everyone:
        query |= Q(chapter_id=event.chapter_id, status=ResponderStatus.APPROVED)
    responders = list(Responder.objects.filter(query).filter(chapter_id=event.chapter_id))
    order: dict[str, int] = {RsvpAnswer.YES: 0, RsvpAnswer.MAYBE: 1, RsvpAnswer.NO: 3}
    rows = []
    for responder in responders:
        found = rsvps.get(responder.pk)
        answer = found.answer if found else ""
        rows.append(
            RosterRow(
                responder=responder,
                answer=answer,
                answer_label=_answer_label(answer),
                via=found.via if found else "",
                attended=attendance.get(responder.pk),
            )
        )
    rows.sort(key=lambda row: (order.get(row.answer, 2), str(row.responder.name).casefold()))
    with transaction.atomic(durable=True):
        audit(user, "event.roster_viewed", event)
    return rows


# --- Volunteers -----------------------------------------------------------------------------


def responder_for_user(user: Any) -> Responder:
    """The approved responder behind a volunteer's own account, or 404 for anyone else."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) != Role.VOLUNTEER:
        raise Http404
    found = Responder.objects.select_related("chapter").filter(user=user, status=ResponderStatus.APPROVED).first()
    if found is None:
        raise Http404
    found.user = user
    return found


@dataclass(frozen=True)
class VolunteerEvent:
    event: Event
    answer: str
    answer_label: str


def volunteer_events(responder: Responder, now: datetime) -> list[VolunteerEvent]:
    """Upcoming events of the volunteer's chapter with their own answer; places decrypted (audited)."""
    events = list(
        Event.objects.filter(chapter_id=responder.chapter_id, ends_at__gte=now, cancelled_at__isnull=True).order_by(
            "starts_at"
        )[:50]
    )
    answers = dict(
        Rsvp.objects.filter(responder=responder, event_id__in=[e.pk for e in events]).values_list("event_id", "answer")
    )
    if events:
        with transaction.atomic(durable=True):
            audit(
                responder.user,
                "event.places_viewed",
                chapter=responder.chapter,
                object_type="organizing.event",
                object_id="",
            )
    return [VolunteerEvent(e, answers.get(e.pk, ""), _answer_label(answers.get(e.pk, ""))) for e in events]


def access_volunteer_event(responder: Responder, event_id: Any) -> Event:
    """One event of the volunteer's chapter (cancelled ones too: they learn it was cancelled)."""
    event = Event.objects.filter(pk=_as_uuid(event_id), chapter_id=responder.chapter_id).first()
    if event is None:
        raise EventNotFound
    return event


def volunteer_answer(responder: Responder, event: Event) -> str:
    return str(Rsvp.objects.filter(responder=responder, event=event).values_list("answer", flat=True).first() or "")


def audit_place_read(user: Any, event: Event) -> None:
    with transaction.atomic(durable=True):
        audit(user, "event.place_viewed", event)
