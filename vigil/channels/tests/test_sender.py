"""The sender against a fake Twilio on 127.0.0.1 through the real SMS transport, on simulated
time: each test steps a clock instead of sleeping (SECURITY-TESTS H5-H8, H10, H11)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from vigil.channels.models import Attempt, ChannelKind, Delivery, DeliveryStatus, Endpoint, Outcome
from vigil.channels.sender import Sender, run_in_thread
from vigil.channels.tests.test_ledger_support import (
    Drive,
    SimClock,
    fake_twilio_fixture,  # noqa: F401 - fixture
    fake_twilio_server_fixture,  # noqa: F401 - fixture
    make_alert,
    real_transports,
)
from vigil.core.models import WorkerHeartbeat


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def sms(settings, fake_twilio):
    settings.SMS_PER_SECOND = 100_000
    return fake_twilio


def new_sender(clock: SimClock, **options) -> Drive:
    return Drive(Sender(clock=clock, transports=real_transports, **options))


def test_every_subscriber_gets_the_alert_once_with_its_idempotency_key(transactional_db, chapter, zone, sms, clock):
    alert = make_alert(chapter, [zone], 60, now=clock.now)
    drive = new_sender(clock, batch_size=25, concurrency=10)
    try:
        assert drive.drain() == 60
    finally:
        drive.close()
    assert alert.statuses() == {"sent": 60}
    requests = sms.requests()
    keys = Counter(r["idempotency_key"] for r in requests)
    expected = {f"vigil-{d.message_id}-{d.pk}" for d in alert.deliveries()}
    assert set(keys) == expected and set(keys.values()) == {1}
    bodies = Counter(r["body"] for r in requests)
    assert sorted(bodies.values()) == [30, 30]
    assert set(alert.deliveries().values_list("provider_id", flat=True)) == {r["sid"] for r in requests}
    assert Attempt.objects.filter(outcome=Outcome.SENT).count() == 60


def test_h5_a_provider_down_for_five_minutes_still_reaches_everyone_within_seven(
    transactional_db, chapter, zone, sms, clock, settings
):
    settings.DELIVERY_BACKOFF_MAX_SECONDS = 60
    start = clock.now
    alert = make_alert(chapter, [zone], 60, now=start)
    sms.set_mode("503")
    drive = new_sender(clock, concurrency=50)
    try:
        drive.steps(clock, seconds=300, every=5)
        assert alert.statuses() == {"pending": 60}
        retry_times = set(alert.deliveries().values_list("next_attempt_at", flat=True))
        sms.set_mode("ok")
        drive.steps(clock, seconds=120, every=5)
    finally:
        drive.close()
    assert alert.statuses() == {"sent": 60}
    assert max(alert.deliveries().values_list("sent_at", flat=True)) <= start + timedelta(minutes=7)
    # Full jitter: the retries were spread over the whole backoff window, not one wave.
    assert len(retry_times) == 60
    assert (max(retry_times) - min(retry_times)).total_seconds() >= 10


def test_h6_an_invalid_number_is_tried_once_and_its_endpoint_disabled(transactional_db, chapter, zone, sms, clock):
    alert = make_alert(chapter, [zone], 10, now=clock.now)
    bad = Delivery.objects.filter(message__batch=alert.batch).order_by("pk").first()
    assert bad is not None
    number = str(bad.endpoint.address)
    sms.fail_numbers([number], code=21211)
    drive = new_sender(clock)
    try:
        drive.steps(clock, seconds=600, every=10)
    finally:
        drive.close()
    assert [r["to"] for r in sms.requests()].count(number) == 1
    assert alert.statuses() == {"sent": 9, "failed": 1}
    endpoint = Endpoint.objects.get(pk=bad.endpoint_id)
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "Twilio 21211 invalid To number"
    assert Attempt.objects.filter(delivery_id=bad.pk).count() == 1


def test_h7_a_429_retry_after_pauses_the_channel_until_it_has_passed(transactional_db, chapter, zone, sms, clock):
    alert = make_alert(chapter, [zone], 5, now=clock.now)
    start = clock.now
    sms.set_mode("429", count=1, retry_after=30)
    drive = new_sender(clock, concurrency=1)
    try:
        drive.steps(clock, seconds=1, every=1)
        assert sms.count() == 1
        drive.steps(clock, seconds=28, every=1)
        assert sms.count() == 1, "nothing is sent on the channel before Retry-After"
        assert alert.statuses() == {"pending": 5}
        assert set(alert.deliveries().values_list("next_attempt_at", flat=True)) == {start + timedelta(seconds=30)}
        drive.steps(clock, seconds=3, every=1)
    finally:
        drive.close()
    assert sms.count() == 6
    assert alert.statuses() == {"sent": 5}


def test_h8_a_provider_down_past_the_window_means_no_late_sends_and_all_dead_letters(
    transactional_db, chapter, zone, sms, clock
):
    start = clock.now
    alert = make_alert(chapter, [zone], 30, now=start, valid_minutes=5)
    sms.set_mode("503")
    drive = new_sender(clock)
    try:
        drive.steps(clock, seconds=300, every=5)
        requests_in_window = sms.count()
        drive.steps(clock, seconds=600, every=20)
    finally:
        drive.close()
    assert requests_in_window >= 30
    assert sms.count() == requests_in_window, "0 sends after valid_until"
    assert alert.statuses() == {"expired": 30}
    assert all(f <= start + timedelta(minutes=5) for f in alert.deliveries().values_list("finished_at", flat=True))


def test_h10_the_fallback_channel_is_used_after_repeated_failures_and_each_subscriber_gets_one(
    transactional_db, chapter, zone, sms, clock, settings
):
    settings.DELIVERY_FALLBACK_AFTER = 3
    settings.EMAIL_PER_SECOND = 100_000
    settings.DEFAULT_FROM_EMAIL = "alerts@vigil.example"
    alert = make_alert(chapter, [zone], 20, now=clock.now)
    for n, delivery in enumerate(alert.deliveries().select_related("endpoint")):
        fallback = Endpoint.objects.create(chapter=chapter, channel=ChannelKind.EMAIL, address=f"n{n}@example.org")
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(fallback=fallback)
    sms.set_mode("503")
    drive = new_sender(clock)
    try:
        drive.steps(clock, seconds=600, every=5)
    finally:
        drive.close()
    per_number = Counter(r["to"] for r in sms.requests())
    assert len(per_number) == 20 and max(per_number.values()) <= 3
    assert Counter(alert.statuses()) == {"fell_back": 20, "sent": 20}
    recipients = Counter(address for message in mail.outbox for address in message.to)
    assert len(recipients) == 20 and set(recipients.values()) == {1}


def test_h11_status_callbacks_make_the_delivered_and_failed_counts_exact(
    transactional_db, chapter, zone, sms, clock, settings, live_asgi
):
    settings.PUBLIC_URL = live_asgi.url
    alert = make_alert(chapter, [zone], 20, now=clock.now)
    numbers = [str(d.endpoint.address) for d in alert.deliveries().select_related("endpoint").order_by("pk")]
    sms.callbacks(
        status="delivered", delay_ms=300, per_number={numbers[0]: ("undelivered", 30006), numbers[1]: ("failed", 30003)}
    )
    drive = new_sender(clock)
    try:
        drive.drain()
    finally:
        drive.close()
    stats = sms.wait_for("callbacks_204", 20)
    assert stats["callbacks_204"] == 20
    assert alert.statuses() == {"delivered": 18, "failed": 2}
    assert Counter(Attempt.objects.values_list("callback_status", flat=True)) == {
        "delivered": 18,
        "undelivered": 1,
        "failed": 1,
    }
    # 30006 (landline) says the number cannot get texts; 30003 (handset off) does not.
    first, second = alert.deliveries().order_by("pk")[:2]
    assert not Endpoint.objects.get(pk=first.endpoint_id).enabled
    assert Endpoint.objects.get(pk=second.endpoint_id).enabled


def test_the_sender_beats_and_stops_cleanly_handing_back_what_it_did_not_send(transactional_db, chapter, zone, sms):
    import asyncio

    alert = make_alert(chapter, [zone], 40)
    sms.set_mode("slow", delay_ms=200)
    sender = Sender(transports=real_transports, concurrency=2, batch_size=40)

    async def go() -> None:
        task = asyncio.ensure_future(sender.run(idle_wait=0.05))
        while sms.count() < 2:
            await asyncio.sleep(0.01)
        sender.stop()
        await task

    asyncio.run(go())
    statuses = alert.statuses()
    assert statuses["sent"] >= 2 and statuses["sent"] + statuses["pending"] == 40
    assert "sending" not in statuses
    assert WorkerHeartbeat.objects.filter(name="sender", seen_at__gte=timezone.now() - timedelta(minutes=1)).exists()
    assert DeliveryStatus.SENDING not in set(Delivery.objects.values_list("status", flat=True))


def test_in_sandbox_mode_the_alert_lands_in_the_phone_inbox(transactional_db, chapter, zone, clock, settings):
    from vigil.channels.models import SandboxMessage

    settings.SANDBOX = True
    alert = make_alert(chapter, [zone], 4, now=clock.now)
    drive = Drive(Sender(clock=clock))
    try:
        assert drive.drain() == 4
    finally:
        drive.close()
    assert alert.statuses() == {"sent": 4}
    inbox = SandboxMessage.objects.filter(direction="out")
    assert inbox.count() == 4
    assert {str(m.body) for m in inbox} == {
        "ALERT: immigration enforcement confirmed near you. Stay inside.",
        "ALERTA: actividad de ICE.",
    }


def test_stopping_a_sender_that_has_already_finished_is_harmless(transactional_db, sms):
    # manage.py worker stops the sender from its signal handler and again on the way out; by
    # the second call the sender's event loop may be closed.
    sender = Sender(transports=real_transports)
    thread = run_in_thread(sender, until_idle=True)
    thread.join(timeout=30)
    assert not thread.is_alive()
    sender.stop()
    sender.stop()
    assert sender.stopping
