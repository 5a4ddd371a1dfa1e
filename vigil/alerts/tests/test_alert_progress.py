"""An alert's live progress: exact counts, an honest ETA, and the dead-letter list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from vigil.alerts.actions import send_alert
from vigil.alerts.bulk import add_subscribers
from vigil.alerts.models import Alert, AlertKind
from vigil.alerts.selectors import dead_letters, progress
from vigil.alerts.tests.alerting import approve_templates, confirmed_incident
from vigil.channels.models import Attempt, ChannelKind, Delivery, DeliveryStatus, Endpoint, Outcome


@pytest.fixture
def alert(chapter, zone, dispatcher, verifier, organizer) -> Alert:
    approve_templates(organizer)
    incident = confirmed_incident(dispatcher, verifier)
    add_subscribers(chapter, [zone], 10)
    return send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)


def _set(rows: list[Delivery], status: str, error: str = "") -> None:
    Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(status=status, last_error=error)


def _attempts(rows: list[Delivery], at) -> None:
    Attempt.objects.bulk_create(Attempt(delivery=d, started_at=at, outcome=Outcome.SENT) for d in rows)


def test_the_counts_add_up_exactly_to_the_recipients_with_a_fallback_in_play(chapter, alert, django_assert_num_queries):
    rows = list(Delivery.objects.filter(message__batch=alert.batch).order_by("pk"))
    _set(rows[0:3], DeliveryStatus.DELIVERED)
    _set(rows[3:5], DeliveryStatus.SENT)
    _set(rows[5:6], DeliveryStatus.FAILED, "21211 invalid number")
    _set(rows[6:7], DeliveryStatus.EXPIRED, "expired")
    _set(rows[7:8], DeliveryStatus.FELL_BACK)
    second = Endpoint.objects.create(chapter=chapter, channel=ChannelKind.EMAIL, address="x@example.org")
    Delivery.objects.create(
        message=rows[7].message,
        endpoint=second,
        channel=ChannelKind.EMAIL,
        next_attempt_at=timezone.now(),
        fallback_of=rows[7],
    )

    with django_assert_num_queries(2):
        found = progress(alert)

    assert found.recipients == alert.recipients == 10
    assert (found.delivered, found.sent, found.failed, found.expired, found.pending) == (3, 2, 1, 1, 3)
    assert found.delivered + found.sent + found.failed + found.expired + found.pending == found.recipients
    assert found.percent == 70
    assert found.pending_by_channel == {ChannelKind.SMS: 2, ChannelKind.EMAIL: 1}
    with django_assert_num_queries(1):
        letters = dead_letters(alert)
    assert {(d.status, d.channel, d.error, d.count) for d in letters} == {
        ("failed", "sms", "21211 invalid number", 1),
        ("expired", "sms", "expired", 1),
    }


def test_with_nothing_tried_yet_the_eta_comes_from_the_configured_limits(settings, alert):
    settings.SMS_PER_SECOND = 2

    found = progress(alert)

    assert found.eta_basis == "configured"
    assert found.eta_seconds == 5.0  # 10 SMS at 2 per second


def test_the_eta_follows_the_rate_observed_over_the_last_30_seconds(alert):
    now = timezone.now()
    Alert.objects.filter(pk=alert.pk).update(sent_at=now - timedelta(minutes=2))
    alert.refresh_from_db()
    rows = list(Delivery.objects.filter(message__batch=alert.batch).order_by("pk"))
    _set(rows[:6], DeliveryStatus.DELIVERED)
    _attempts(rows[:6], now - timedelta(seconds=5))

    found = progress(alert, now=now)

    assert found.eta_basis == "observed"
    assert found.rate_per_second == pytest.approx(6 / 30)
    assert found.eta_seconds == pytest.approx(4 / (6 / 30))


def test_when_nothing_moved_for_30_seconds_there_is_no_eta(alert):
    now = timezone.now()
    rows = list(Delivery.objects.filter(message__batch=alert.batch).order_by("pk"))
    _set(rows[:2], DeliveryStatus.DELIVERED)
    _attempts(rows[:2], now - timedelta(minutes=3))

    found = progress(alert, now=now)

    assert found.eta_seconds is None and found.eta_basis == ""


def test_a_finished_alert_is_at_100_percent(alert):
    Delivery.objects.filter(message__batch=alert.batch).update(status=DeliveryStatus.DELIVERED)

    found = progress(alert)

    assert found.finished and found.percent == 100 and found.eta_seconds == 0
