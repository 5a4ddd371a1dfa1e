"""Writes of the organizing stage: events, RSVPs and attendance.

Every staff write is one durable transaction with its audit row ("event.*"). Only organizers
and admins of the event's chapter create, edit, cancel or take attendance; another chapter's
event is EventNotFound (404), never a refusal that would confirm it exists.

RSVPs come from the volunteer's phone page (durable) or from a text message, whose handler
already runs inside the inbound webhook's transaction: `rsvp_in_transaction` is the same
write without the durable block of its own.

Taking attendance at a training event records the training on the roster (Training, source
"event", completed on the event's local date, expiring `valid_months` later). Taking it twice
changes nothing; unticking someone removes the training that event recorded for them.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigil.accounts.models import Role, User
from vigil.core.audit import audit
from vigil.core.models import Chapter
from vigil.organizing.models import Attendance, Event, EventKind, Rsvp, RsvpAnswer
from vigil.organizing.selectors import EVENT_WRITER_ROLES, EventNotFound, event_chapter_ids
from vigil.responders.models import Responder, ResponderRole, ResponderStatus, Training

TRAINING_SOURCE = "event"
MAX_VALID_MONTHS = 60
_NUMBER_TRIES = 5


class EventError(ValueError):
    """A request the event's state does not allow; `message` says why (shown to the user)."""

    default_message: Any = _("This is not possible for this event.")

    def __init__(self, message: Any = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))


class EventCancelled(EventError):
    default_message = _("This event was cancelled.")


class EventStarted(EventError):
    default_message = _("This event has already started: answers are closed.")


class NotOnRoster(EventError):
    default_message = _("Only approved volunteers of the event's chapter can answer.")


@dataclass(frozen=True)
class EventInput:
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    details: str = ""
    training_role: str = ""
    valid_months: int = 12


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _require_writer(user: Any, chapter_id: int) -> None:
    if getattr(user, "role", None) not in EVENT_WRITER_ROLES:
        raise PermissionDenied
    if chapter_id not in event_chapter_ids(user):
        raise EventNotFound


def _check(data: EventInput) -> None:
    if data.kind not in EventKind.values:
        raise EventError(_("Choose a training or a meeting."))
    if data.kind == EventKind.MEETING and data.training_role:
        raise EventError(_("Only a training teaches a role."))
    if data.training_role and data.training_role not in ResponderRole.values:
        raise EventError(_("Choose one of the roles on the list."))
    if not data.title.strip():
        raise EventError(_("Give the event a title."))
    if data.ends_at <= data.starts_at:
        raise EventError(_("The event must end after it starts."))
    if not 1 <= data.valid_months <= MAX_VALID_MONTHS:
        raise EventError(_("A training stays current for 1 to 60 months."))


def _next_number() -> int:
    return int(Event.objects.aggregate(top=Max("number"))["top"] or 0) + 1


@transaction.atomic(durable=True)
def create_event(chapter: Chapter, data: EventInput, *, acting_user: User) -> Event:
    _require_writer(acting_user, chapter.pk)
    _check(data)
    now = timezone.now()
    if data.starts_at <= now:
        raise EventError(_("A new event must start in the future."))
    for attempt in range(_NUMBER_TRIES):
        event = Event(
            chapter=chapter,
            number=_next_number(),
            kind=data.kind,
            training_role=data.training_role if data.kind == EventKind.TRAINING else "",
            valid_months=data.valid_months,
            title=data.title.strip(),
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            place=data.place.strip(),
            details=data.details.strip(),
            created_by=acting_user,
            created_at=now,
        )
        try:
            with transaction.atomic():
                event.save(force_insert=True)
            break
        except IntegrityError:
            # Another organizer took the same number at the same moment: take the next one.
            if attempt == _NUMBER_TRIES - 1:
                raise
    audit(acting_user, "event.create", event)
    return event


@transaction.atomic(durable=True)
def edit_event(event: Event, data: EventInput, *, acting_user: User) -> Event:
    _require_writer(acting_user, event.chapter_id)
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.cancelled_at is not None:
        raise EventCancelled
    _check(data)
    if data.starts_at != event.starts_at:
        # A new time: the reminders go out again for it.
        event.reminded_day_at = None
        event.reminded_hour_at = None
    event.kind = data.kind
    event.training_role = data.training_role if data.kind == EventKind.TRAINING else ""
    event.valid_months = data.valid_months
    event.title = data.title.strip()
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.place = data.place.strip()
    event.details = data.details.strip()
    event.save()
    audit(acting_user, "event.edit", event)
    return event


@transaction.atomic(durable=True)
def cancel_event(event: Event, *, acting_user: User) -> bool:
    """Cancel the event (no reminders, no answers); False if it was cancelled already."""
    _require_writer(acting_user, event.chapter_id)
    now = timezone.now()
    changed = Event.objects.filter(pk=event.pk, cancelled_at__isnull=True).update(cancelled_at=now)
    if changed:
        event.cancelled_at = now
        audit(acting_user, "event.cancel", event)
    return bool(changed)


# --- RSVP -----------------------------------------------------------------------------------


def rsvp_in_transaction(responder: Responder, event: Event, answer: str, via: str, *, now: datetime) -> Rsvp:
    """The RSVP write inside the caller's transaction (the SMS webhook's)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("rsvp_in_transaction() needs the caller's transaction")
    if answer not in RsvpAnswer.values:
        raise EventError(_("Answer yes, no or maybe."))
    if via not in ("web", "sms"):
        raise ValueError(via)
    if responder.status != ResponderStatus.APPROVED or responder.chapter_id != event.chapter_id:
        raise NotOnRoster
    if event.cancelled_at is not None:
        raise EventCancelled
    if event.starts_at <= now:
        raise EventStarted
    found, _created = Rsvp.objects.update_or_create(
        event=event, responder=responder, defaults={"answer": answer, "via": via, "at": now}
    )
    actor: Any = responder.user if responder.user is not None else f"{via}:responder"
    audit(actor, "event.rsvp", found, chapter=event.chapter)
    return found


@transaction.atomic(durable=True)
def rsvp(responder: Responder, event: Event, answer: str, via: str = "web") -> Rsvp:
    return rsvp_in_transaction(responder, event, answer, via, now=timezone.now())


# --- Attendance -----------------------------------------------------------------------------


def event_local_date(event: Event) -> date:
    return timezone.localtime(event.starts_at).date()


@transaction.atomic(durable=True)
def record_attendance(event: Event, attended: Mapping[uuid.UUID, bool], acting_user: User) -> int:
    """Who came (responder id -> attended); the number of trainings newly recorded."""
    _require_writer(acting_user, event.chapter_id)
    event = Event.objects.select_for_update().get(pk=event.pk)
    now = timezone.now()
    if event.cancelled_at is not None:
        raise EventCancelled
    if event.starts_at > now:
        raise EventError(_("Attendance can be taken once the event has started."))
    ids = set(attended)
    responders = {
        r.pk: r
        for r in Responder.objects.filter(pk__in=ids, chapter_id=event.chapter_id, status=ResponderStatus.APPROVED)
    }
    if len(responders) != len(ids):
        raise EventError(_("Someone on the list is not an approved volunteer of this chapter."))
    for responder_id, came in attended.items():
        Attendance.objects.update_or_create(
            event=event,
            responder_id=responder_id,
            defaults={"attended": bool(came), "recorded_by": acting_user, "recorded_at": now},
        )
    recorded = 0
    if event.kind == EventKind.TRAINING and event.training_role:
        completed_on = event_local_date(event)
        same = Training.objects.filter(role=event.training_role, source=TRAINING_SOURCE, completed_on=completed_on)
        already = set(same.filter(responder_id__in=ids).values_list("responder_id", flat=True))
        for responder_id, came in attended.items():
            if came and responder_id not in already:
                training = Training.objects.create(
                    responder_id=responder_id,
                    role=event.training_role,
                    completed_on=completed_on,
                    expires_on=add_months(completed_on, event.valid_months),
                    recorded_by=acting_user,
                    recorded_at=now,
                    source=TRAINING_SOURCE,
                )
                audit(acting_user, "event.training_recorded", training, chapter=event.chapter)
                recorded += 1
        absent = [responder_id for responder_id, came in attended.items() if not came and responder_id in already]
        if absent:
            same.filter(responder_id__in=absent).delete()
    event.attendance_taken_at = now
    event.save(update_fields=["attendance_taken_at"])
    audit(acting_user, "event.attendance", event)
    return recorded


def is_writer(user: Any) -> bool:
    return getattr(user, "role", None) in (Role.ORGANIZER, Role.ADMIN)
