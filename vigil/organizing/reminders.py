"""Event reminders by text: the day before and the hour before, each exactly once.

`send_due_reminders(now)` runs every 30 s from the scheduler (registered in OrganizingConfig).
For each due reminder one conditional UPDATE (reminded_*_at IS NULL) claims it inside the same
durable transaction that writes the messages and deliveries, so two workers at the same moment
send it once: the loser's UPDATE changes no row and it writes nothing.

Who gets them: the day before, every approved volunteer of the chapter with a working endpoint
except those who said no; the hour before, only those who said yes or maybe. An event created
less than an hour before it starts gets only the hour-before reminder.

The text carries no personal data and NOT the place (SMS is not secret): the event's kind,
number and local time, and how to answer. One SMS segment.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from vigil.channels import outbox
from vigil.channels.models import Purpose
from vigil.core.audit import audit
from vigil.organizing.models import Event, EventKind, Rsvp, RsvpAnswer
from vigil.responders.models import Responder, ResponderStatus

log = logging.getLogger("vigil.organizing.reminders")

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
LANGUAGES = ("en", "es")

TRAINING_TODAY = gettext_noop(
    "%(network)s: training #%(number)s today %(time)s. Reply RSVP %(number)s YES or RSVP %(number)s NO."
)
TRAINING_TOMORROW = gettext_noop(
    "%(network)s: training #%(number)s tomorrow %(time)s. Reply RSVP %(number)s YES or RSVP %(number)s NO."
)
MEETING_TODAY = gettext_noop(
    "%(network)s: meeting #%(number)s today %(time)s. Reply RSVP %(number)s YES or RSVP %(number)s NO."
)
MEETING_TOMORROW = gettext_noop(
    "%(network)s: meeting #%(number)s tomorrow %(time)s. Reply RSVP %(number)s YES or RSVP %(number)s NO."
)
TRAINING_SOON = gettext_noop(
    "%(network)s: training #%(number)s starts at %(time)s. Can't come? Reply RSVP %(number)s NO."
)
MEETING_SOON = gettext_noop(
    "%(network)s: meeting #%(number)s starts at %(time)s. Can't come? Reply RSVP %(number)s NO."
)
TEXTS = (TRAINING_TODAY, TRAINING_TOMORROW, MEETING_TODAY, MEETING_TOMORROW, TRAINING_SOON, MEETING_SOON)


def reminder_text(event: Event, now: datetime, *, soon: bool, language: str) -> str:
    """The reminder in one language: kind, number and local time only (never title or place)."""
    start = timezone.localtime(event.starts_at)
    training = event.kind == EventKind.TRAINING
    if soon:
        template = TRAINING_SOON if training else MEETING_SOON
    elif start.date() == timezone.localtime(now).date():
        template = TRAINING_TODAY if training else MEETING_TODAY
    else:
        template = TRAINING_TOMORROW if training else MEETING_TOMORROW
    with translation.override(language):
        return gettext(template) % {
            "network": settings.NETWORK_NAME,
            "number": event.number,
            "time": f"{start:%H:%M}",
        }


def _recipients(event: Event, *, soon: bool) -> list[Responder]:
    responders = Responder.objects.filter(
        chapter_id=event.chapter_id,
        status=ResponderStatus.APPROVED,
        endpoint__isnull=False,
        endpoint__disabled_at__isnull=True,
    ).select_related("endpoint")
    answers = Rsvp.objects.filter(event=event)
    if soon:
        responders = responders.filter(
            pk__in=answers.filter(answer__in=[RsvpAnswer.YES, RsvpAnswer.MAYBE]).values("responder_id")
        )
    else:
        responders = responders.exclude(pk__in=answers.filter(answer=RsvpAnswer.NO).values("responder_id"))
    return list(responders)


def _write(event: Event, now: datetime, *, soon: bool) -> int:
    """Messages (one per language used) and one delivery per recipient, in the caller's transaction."""
    by_language: dict[str, list[Responder]] = defaultdict(list)
    for responder in _recipients(event, soon=soon):
        by_language[responder.language if responder.language in LANGUAGES else "en"].append(responder)
    recipients = [(language, r.endpoint) for language, group in by_language.items() for r in group if r.endpoint]
    outbox.queue(
        chapter_id=event.chapter_id,
        purpose=Purpose.REMINDER,
        recipients=recipients,
        text_for=lambda language: reminder_text(event, now, soon=soon, language=language),
        now=now,
        valid_until=event.starts_at,
    )
    return len(recipients)


def _send(event_id: uuid.UUID, now: datetime, *, soon: bool) -> int | None:
    """Claim and write one reminder; None when another worker (or an earlier tick) had it."""
    column = "reminded_hour_at" if soon else "reminded_day_at"
    with transaction.atomic(durable=True):
        claimed = Event.objects.filter(
            pk=event_id, cancelled_at__isnull=True, starts_at__gt=now, **{f"{column}__isnull": True}
        )
        changes = {column: now}
        if soon:
            changes["reminded_day_at"] = now  # too late for the day-before one: never send it after
        if not claimed.update(**changes):
            return None
        event = Event.objects.select_related("chapter").get(pk=event_id)
        written = _write(event, now, soon=soon)
        audit("system", "event.reminder_hour" if soon else "event.reminder_day", event)
    return written


def send_due_reminders(now: datetime) -> int:
    """Write every reminder due at `now`; the number of deliveries written."""
    due = Event.objects.filter(cancelled_at__isnull=True, starts_at__gt=now)
    soon_ids = list(due.filter(starts_at__lte=now + HOUR, reminded_hour_at__isnull=True).values_list("pk", flat=True))
    day_ids = list(
        due.filter(starts_at__gt=now + HOUR, starts_at__lte=now + DAY, reminded_day_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    total = 0
    for event_id in soon_ids:
        total += _send(event_id, now, soon=True) or 0
    for event_id in day_ids:
        total += _send(event_id, now, soon=False) or 0
    if total:
        log.info("event reminders: %d deliveries written", total)
    return total
