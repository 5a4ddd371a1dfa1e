"""Reminders the day before and the hour before, on a controlled clock, each exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from vigil.channels.models import Delivery, Message, Purpose
from vigil.core import schedule
from vigil.core.models import AuditEvent, Chapter
from vigil.intake import sms
from vigil.organizing import actions, reminders
from vigil.organizing.models import Event, EventKind, RsvpAnswer
from vigil.organizing.tests.conftest import future, make_event, make_responder
from vigil.responders.models import Responder, ResponderStatus


@pytest.fixture
def start() -> datetime:
    return future(days=3, hour=10)


@pytest.fixture
def training(chapter: Chapter, start: datetime) -> Event:
    return make_event(chapter, start, number=12, title="Secret title", place="Casa Aztlan, 1831 S Racine")


@pytest.fixture
def crowd(chapter: Chapter, other_chapter: Chapter, ana: Responder, beto: Responder) -> dict[str, Responder]:
    carmen = make_responder(chapter, "Carmen", "+13125550103")
    dora = make_responder(chapter, "Dora", "+13125550104")
    dora.endpoint.disabled_at = timezone.now()  # type: ignore[union-attr]
    dora.endpoint.save()  # type: ignore[union-attr]
    pending = make_responder(chapter, "Paco", "+13125550105", status=ResponderStatus.APPLIED)
    elsewhere = make_responder(other_chapter, "Eva", "+13125550106")
    return {"ana": ana, "beto": beto, "carmen": carmen, "dora": dora, "pending": pending, "elsewhere": elsewhere}


def endpoints_of(message: Message) -> set[object]:
    return set(Delivery.objects.filter(message=message).values_list("endpoint_id", flat=True))


def test_the_day_before_everyone_approved_but_those_who_said_no(
    training: Event, crowd: dict[str, Responder], start: datetime
) -> None:
    actions.rsvp(crowd["carmen"], training, RsvpAnswer.NO)
    actions.rsvp(crowd["ana"], training, RsvpAnswer.YES)

    assert reminders.send_due_reminders(start - timedelta(hours=25)) == 0
    written = reminders.send_due_reminders(start - timedelta(hours=23))

    assert written == 2
    messages = {m.language: m for m in Message.objects.all()}
    assert set(messages) == {"en", "es"}
    assert endpoints_of(messages["en"]) == {crowd["ana"].endpoint_id}
    assert endpoints_of(messages["es"]) == {crowd["beto"].endpoint_id}
    for message in messages.values():
        assert message.purpose == Purpose.REMINDER
        assert message.valid_until == start
        assert "#12" in message.body
        assert "Casa Aztlan" not in message.body and "Racine" not in message.body
        assert "Secret title" not in message.body
        assert sms.is_gsm7(message.body) and sms.sms_segments(message.body) == 1
    assert "tomorrow 10:00" in messages["en"].body
    assert "RSVP 12 YES" in messages["en"].body
    training.refresh_from_db()
    assert training.reminded_day_at == start - timedelta(hours=23)
    assert AuditEvent.objects.filter(action="event.reminder_day", object_id=str(training.pk)).count() == 1

    # Later ticks the same day send nothing more.
    assert reminders.send_due_reminders(start - timedelta(hours=22)) == 0
    assert reminders.send_due_reminders(start - timedelta(hours=2)) == 0
    assert Delivery.objects.count() == 2


def test_the_hour_before_only_those_going_or_maybe(
    training: Event, crowd: dict[str, Responder], start: datetime
) -> None:
    reminders.send_due_reminders(start - timedelta(hours=23))
    actions.rsvp(crowd["ana"], training, RsvpAnswer.YES)
    actions.rsvp(crowd["beto"], training, RsvpAnswer.MAYBE)
    actions.rsvp(crowd["carmen"], training, RsvpAnswer.NO)
    actions.rsvp(crowd["dora"], training, RsvpAnswer.YES)  # endpoint disabled: nothing to send to
    Delivery.objects.all().delete()
    Message.objects.all().delete()

    written = reminders.send_due_reminders(start - timedelta(minutes=50))

    assert written == 2
    assert set(Delivery.objects.values_list("endpoint_id", flat=True)) == {
        crowd["ana"].endpoint_id,
        crowd["beto"].endpoint_id,
    }
    english = Message.objects.get(language="en")
    assert "starts at 10:00" in english.body and "RSVP 12 NO" in english.body
    assert sms.sms_segments(english.body) == 1
    assert reminders.send_due_reminders(start - timedelta(minutes=10)) == 0
    assert reminders.send_due_reminders(start + timedelta(minutes=1)) == 0
    assert Delivery.objects.count() == 2


def test_a_late_event_gets_only_the_hour_reminder(chapter: Chapter, ana: Responder, start: datetime) -> None:
    event = make_event(chapter, start, number=5, kind=EventKind.MEETING)
    actions.rsvp(ana, event, RsvpAnswer.YES)
    Event.objects.filter(pk=event.pk).update(created_at=start - timedelta(minutes=40))

    assert reminders.send_due_reminders(start - timedelta(minutes=30)) == 1
    assert reminders.send_due_reminders(start - timedelta(minutes=20)) == 0
    event.refresh_from_db()
    assert event.reminded_day_at is not None and event.reminded_hour_at is not None
    assert Message.objects.get().body.startswith("Vigil: meeting #5 starts at 10:00")


def test_the_same_day_says_today(chapter: Chapter, ana: Responder) -> None:
    event = make_event(chapter, future(days=3, hour=20), number=6)

    reminders.send_due_reminders(event.starts_at - timedelta(hours=10))

    assert "today 20:00" in Message.objects.get().body


def test_cancelled_events_get_no_reminders(training: Event, ana: Responder, start: datetime) -> None:
    Event.objects.filter(pk=training.pk).update(cancelled_at=timezone.now())

    assert reminders.send_due_reminders(start - timedelta(hours=23)) == 0
    assert reminders.send_due_reminders(start - timedelta(minutes=30)) == 0
    assert not Message.objects.exists()


def test_the_reminder_job_is_registered_and_runs_on_the_scheduler(
    training: Event, ana: Responder, start: datetime
) -> None:
    assert "organizing.reminders" in schedule.registered()

    schedule.run_due(start - timedelta(hours=23), names=["organizing.reminders"])
    schedule.run_due(start - timedelta(hours=23), names=["organizing.reminders"])

    assert Delivery.objects.count() == 1


def test_every_reminder_text_fits_one_segment_with_a_big_number(chapter: Chapter) -> None:
    for kind in EventKind.values:
        event = make_event(chapter, future(), number=99999, kind=kind)
        for language in reminders.LANGUAGES:
            for soon in (True, False):
                for now in (event.starts_at - timedelta(hours=20), event.starts_at - timedelta(hours=2)):
                    body = reminders.reminder_text(event, now, soon=soon, language=language)
                    assert sms.is_gsm7(body) and sms.sms_segments(body) == 1
        event.delete()


def test_two_workers_at_the_same_moment_send_each_reminder_once(
    transactional_db: object, chapter: Chapter, start: datetime
) -> None:
    people = [make_responder(chapter, f"V{n}", f"+1312555{n:04d}") for n in range(300, 310)]
    events = [make_event(chapter, start + timedelta(minutes=n), number=n + 1) for n in range(3)]
    now = start - timedelta(hours=23)
    barrier = threading.Barrier(2)

    def worker() -> int:
        try:
            barrier.wait(timeout=30)
            return reminders.send_due_reminders(now)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: worker(), range(2)))

    assert sum(results) == len(people) * len(events)
    assert Delivery.objects.count() == len(people) * len(events)
    assert Message.objects.count() == len(events)
    assert AuditEvent.objects.filter(action="event.reminder_day").count() == len(events)


def test_the_reminder_reaches_the_volunteers_phone(
    transactional_db: object, chapter: Chapter, ana: Responder, fake_twilio: object, settings: object
) -> None:
    """Through the real sender and SMS transport to the fake provider: one text, no place."""
    import asyncio

    from vigil.channels.sender import Sender
    from vigil.channels.tests.test_ledger_support import real_transports
    from vigil.organizing.tests.conftest import ANA_PHONE

    now = timezone.now()
    make_event(chapter, now + timedelta(hours=23), number=31, place="Casa Aztlan")
    assert reminders.send_due_reminders(now) == 1
    try:
        asyncio.run(Sender(transports=real_transports).run(idle_wait=0.1, until_idle=True))
    finally:
        connection.close()

    sent = fake_twilio.requests()  # type: ignore[attr-defined]
    assert [r["to"] for r in sent] == [ANA_PHONE]
    assert "#31" in sent[0]["body"] and "Casa Aztlan" not in sent[0]["body"]
