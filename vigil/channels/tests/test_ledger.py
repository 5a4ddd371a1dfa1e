"""The ledger on its own: leases, conditional writes, retries, fallback, dead letters, callbacks."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from vigil.channels import ledger
from vigil.channels.ledger import RELEASED, Result
from vigil.channels.models import Attempt, ChannelHealth, ChannelKind, DeliveryStatus, Endpoint, Outcome
from vigil.channels.tests.test_ledger_support import make_alert
from vigil.core.models import AuditEvent


def result(delivery: ledger.Claimed, outcome: str, at, **kwargs) -> Result:
    return Result(delivery.pk, delivery.lease_token, outcome, at, **kwargs)


def test_a_due_delivery_is_leased_to_exactly_one_worker(chapter, zone):
    alert = make_alert(chapter, [zone], 10)
    now = timezone.now()
    first = ledger.claim("a.1", 6, now)
    second = ledger.claim("b.1", 100, now)
    assert len(first) == 6 and len(second) == 4
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert ledger.claim("c.1", 100, now) == []
    assert alert.statuses() == {"sending": 10}
    assert set(alert.deliveries().values_list("attempts", flat=True)) == {1}


def test_deliveries_not_yet_due_are_not_claimed(chapter, zone):
    now = timezone.now()
    make_alert(chapter, [zone], 3, now=now + timedelta(minutes=1))
    assert ledger.claim("a.1", 10, now) == []
    assert len(ledger.claim("a.2", 10, now + timedelta(minutes=1, seconds=1))) == 3


def test_an_expired_lease_is_taken_over_and_the_old_holder_changes_nothing(chapter, zone):
    alert = make_alert(chapter, [zone], 2)
    now = timezone.now()
    frozen = ledger.claim("frozen.1", 10, now)
    later = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1)
    taken = ledger.claim("live.1", 10, later)
    assert [d.pk for d in taken] == [d.pk for d in frozen]
    ledger.record([result(d, Outcome.SENT, later, provider_id=f"SMlive{d.pk}") for d in taken], later)
    # The frozen worker wakes up and reports its own (older) view: nothing changes.
    summary = ledger.record(
        [result(d, Outcome.TRANSIENT, later, error="Twilio 503") for d in frozen]
        + [result(d, Outcome.SENT, later, provider_id="SMfrozen") for d in frozen],
        later,
    )
    assert summary.stale == 4 and summary.counts == {}
    assert set(alert.deliveries().values_list("status", "provider_id")) == {("sent", f"SMlive{d.pk}") for d in taken}
    assert Attempt.objects.count() == 2
    assert set(alert.deliveries().values_list("attempts", flat=True)) == {2}


def test_a_message_past_its_window_becomes_a_dead_letter_instead_of_being_claimed(chapter, zone):
    now = timezone.now()
    alert = make_alert(chapter, [zone], 4, now=now, valid_minutes=5)
    assert ledger.claim("a.1", 10, now + timedelta(minutes=5)) == []
    assert alert.statuses() == {"expired": 4}
    assert set(Attempt.objects.values_list("outcome", flat=True)) == {Outcome.EXPIRED}


def test_a_transient_failure_retries_with_jittered_backoff_capped_by_the_setting(chapter, zone):
    alert = make_alert(chapter, [zone], 50)
    now = timezone.now()
    claimed = ledger.claim("a.1", 100, now)
    ledger.record([result(d, Outcome.TRANSIENT, now, error="Twilio 503") for d in claimed], now, rng=random.Random(1))
    waits = [(d.next_attempt_at - now).total_seconds() for d in alert.deliveries()]
    assert alert.statuses() == {"pending": 50}
    assert all(0 <= w <= ledger.BACKOFF_BASE_SECONDS for w in waits)
    assert len({round(w, 3) for w in waits}) > 40, "jitter spreads the retries"
    # Many failures later the wait never exceeds the cap.
    assert (
        max(ledger.backoff_seconds(30, random.Random(n)) for n in range(200)) <= settings.DELIVERY_BACKOFF_MAX_SECONDS
    )
    assert set(alert.deliveries().values_list("last_error", flat=True)) == {"Twilio 503"}


def test_a_providers_retry_after_replaces_the_backoff(chapter, zone):
    alert = make_alert(chapter, [zone], 1)
    now = timezone.now()
    [delivery] = ledger.claim("a.1", 10, now)
    ledger.record([result(delivery, Outcome.TRANSIENT, now, error="Twilio 429", retry_after=42.0)], now)
    assert alert.deliveries().get().next_attempt_at == now + timedelta(seconds=42)
    assert ledger.claim("a.2", 10, now + timedelta(seconds=41)) == []
    assert len(ledger.claim("a.3", 10, now + timedelta(seconds=42))) == 1


def test_a_retry_that_would_land_after_the_window_is_a_dead_letter_at_once(chapter, zone):
    now = timezone.now()
    alert = make_alert(chapter, [zone], 1, now=now, valid_minutes=1)
    [delivery] = ledger.claim("a.1", 10, now + timedelta(seconds=50))
    later = now + timedelta(seconds=50)
    ledger.record([result(delivery, Outcome.TRANSIENT, later, error="Twilio 429", retry_after=30.0)], later)
    assert alert.statuses() == {"expired": 1}


def test_a_permanent_error_fails_the_delivery_and_disables_the_endpoint_without_retry(chapter, zone):
    alert = make_alert(chapter, [zone], 2)
    now = timezone.now()
    bad, good = ledger.claim("a.1", 10, now)
    ledger.record(
        [
            result(bad, Outcome.PERMANENT, now, error="Twilio 21211 invalid To number"),
            result(good, Outcome.SENT, now, provider_id="SMok"),
        ],
        now,
    )
    assert alert.deliveries().get(pk=bad.pk).status == DeliveryStatus.FAILED
    endpoint = Endpoint.objects.get(pk=bad.endpoint_id)
    assert endpoint.disabled_at == now and endpoint.disabled_reason == "Twilio 21211 invalid To number"
    assert AuditEvent.objects.filter(action="disable_endpoint", object_id=str(endpoint.pk)).count() == 1
    assert ledger.claim("a.2", 10, now + timedelta(hours=1)) == []
    health = ChannelHealth.objects.get(channel="sms")
    assert health.last_success_at == now and health.last_error == "Twilio 21211 invalid To number"


def add_fallback(endpoint_id, chapter) -> Endpoint:
    primary = Endpoint.objects.get(pk=endpoint_id)
    address = f"neighbour-{primary.pk.hex[:8]}@example.org"
    fallback = Endpoint.objects.create(chapter=chapter, channel=ChannelKind.EMAIL, address=address)
    primary.fallback = fallback
    primary.save(update_fields=["fallback"])
    return fallback


def test_repeated_transient_failures_move_to_the_fallback_channel_once(chapter, zone, settings):
    settings.DELIVERY_FALLBACK_AFTER = 3
    alert = make_alert(chapter, [zone], 1)
    fallback = add_fallback(alert.deliveries().get().endpoint_id, chapter)
    now = timezone.now()
    for attempt in range(1, 4):
        [delivery] = ledger.claim(f"a.{attempt}", 10, now)
        ledger.record([result(delivery, Outcome.TRANSIENT, now, error="Twilio 503")], now)
        now += timedelta(minutes=2)
        assert alert.deliveries().filter(fallback_of__isnull=True).get().attempts == attempt
    primary = alert.deliveries().get(fallback_of__isnull=True)
    assert primary.status == DeliveryStatus.FELL_BACK
    second = alert.deliveries().get(fallback_of=primary)
    assert (second.endpoint_id, second.channel, second.status) == (fallback.pk, "email", "pending")
    # The primary is never retried; only the fallback is claimed.
    assert [d.pk for d in ledger.claim("a.9", 10, now)] == [second.pk]


def test_released_rows_are_due_again_without_counting_an_attempt(chapter, zone):
    alert = make_alert(chapter, [zone], 2)
    now = timezone.now()
    a, b = ledger.claim("a.1", 10, now)
    resume = now + timedelta(seconds=30)
    ledger.record([result(a, RELEASED, now), result(b, RELEASED, now, resume_at=resume)], now)
    assert set(alert.deliveries().values_list("status", "attempts", "lease_token")) == {("pending", 0, "")}
    assert alert.deliveries().get(pk=b.pk).next_attempt_at == resume
    assert Attempt.objects.count() == 0


def test_a_restarted_sender_takes_back_what_its_crashed_run_held(chapter, zone):
    alert = make_alert(chapter, [zone], 3)
    now = timezone.now()
    ledger.claim("s1.1", 2, now)
    ledger.claim("s2.1", 1, now)
    assert ledger.release_leases("s1.", now) == 2
    assert alert.statuses() == {"pending": 2, "sending": 1}


def sent(alert, now):
    claimed = ledger.claim("a.1", 100, now)
    ledger.record([result(d, Outcome.SENT, now, provider_id=f"SM{d.pk:032d}") for d in claimed], now)
    return claimed


def test_status_callbacks_mark_delivered_and_failed_and_repeat_harmlessly(chapter, zone):
    alert = make_alert(chapter, [zone], 3)
    now = timezone.now()
    a, b, c = sent(alert, now)
    for _ in range(2):
        assert ledger.record_status_callback(f"SM{a.pk:032d}", "sent", "", now)
        assert ledger.record_status_callback(f"SM{a.pk:032d}", "delivered", "", now)
        assert ledger.record_status_callback(f"SM{b.pk:032d}", "undelivered", "30003", now)
        assert ledger.record_status_callback(f"SM{c.pk:032d}", "failed", "30006", now)
    assert not ledger.record_status_callback("SMunknown", "delivered", "", now)
    rows = {d.pk: d for d in alert.deliveries()}
    assert (rows[a.pk].status, rows[b.pk].status, rows[c.pk].status) == ("delivered", "failed", "failed")
    assert rows[b.pk].last_error == "undelivered (error 30003)"
    assert Attempt.objects.get(delivery_id=a.pk).callback_status == "delivered"
    # 30003 (handset off) is about the moment; 30006 (landline) is about the number.
    assert Endpoint.objects.get(pk=b.endpoint_id).enabled
    assert not Endpoint.objects.get(pk=c.endpoint_id).enabled


def test_an_undelivered_callback_sends_the_fallback(chapter, zone):
    alert = make_alert(chapter, [zone], 1)
    fallback = add_fallback(alert.deliveries().get().endpoint_id, chapter)
    now = timezone.now()
    [delivery] = sent(alert, now)
    ledger.record_status_callback(f"SM{delivery.pk:032d}", "undelivered", "30005", now)
    ledger.record_status_callback(f"SM{delivery.pk:032d}", "undelivered", "30005", now)
    assert alert.deliveries().filter(endpoint=fallback, fallback_of_id=delivery.pk, status="pending").count() == 1
