"""What the purge removes from the alerts and channels side, and what it keeps."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from vigil.alerts.bulk import add_messages, add_subscribers
from vigil.alerts.fanout import write_alert_deliveries
from vigil.alerts.models import Subscriber, SubscriberStatus
from vigil.channels.models import Attempt, Delivery, Endpoint, Message, Outcome
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.core.retention import purge_expired


def _alert_rows(chapter: Chapter, zone: Zone, *, valid_until_days_ago: int) -> uuid.UUID:
    ended = timezone.now() - timedelta(days=valid_until_days_ago)
    batch, _ = add_messages(chapter, now=ended, valid_until=ended)
    write_alert_deliveries(batch=batch, chapter_id=chapter.pk, zone_ids=[zone.pk], drill=False, now=ended)
    for delivery in Delivery.objects.filter(message__batch=batch):
        Attempt.objects.create(delivery=delivery, started_at=ended, outcome=Outcome.SENT)
    return batch


def test_the_ledger_goes_after_its_retention_and_the_subscribers_stay(chapter: Chapter, zone: Zone, settings) -> None:
    settings.RETAIN_DELIVERY_DAYS = 30
    add_subscribers(chapter, [zone], 4)
    old = _alert_rows(chapter, zone, valid_until_days_ago=31)
    recent = _alert_rows(chapter, zone, valid_until_days_ago=1)

    result = purge_expired()

    assert not Message.objects.filter(batch=old).exists()
    assert not Delivery.objects.filter(message__batch=old).exists()
    assert Delivery.objects.filter(message__batch=recent).count() == 4
    assert Attempt.objects.count() == 4
    assert Subscriber.objects.filter(status=SubscriberStatus.ACTIVE).count() == 4
    assert result.counts["channels.delivery"] == 4
    assert AuditEvent.objects.filter(action="retention.purge", object_type="channels.message").exists()


def test_an_unconfirmed_sign_up_is_forgotten_with_its_contact(chapter: Chapter, zone: Zone) -> None:
    pending, confirmed = add_subscribers(chapter, [zone], 2)
    fallback = Endpoint.objects.create(chapter=chapter, channel="email", address="n@example.org", address_index="x")
    pending.endpoint.fallback = fallback
    pending.endpoint.save(update_fields=["fallback"])
    pending.status = SubscriberStatus.PENDING
    pending.confirm_expires_at = timezone.now() - timedelta(days=2)
    pending.save(update_fields=["status", "confirm_expires_at"])

    purge_expired()

    assert list(Subscriber.objects.all()) == [confirmed]
    assert list(Endpoint.objects.all()) == [confirmed.endpoint]
