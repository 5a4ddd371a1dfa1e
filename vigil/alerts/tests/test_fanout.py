"""The fan-out statement: who an alert's delivery rows go to."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from vigil.alerts.bulk import add_messages, add_subscribers
from vigil.alerts.fanout import write_alert_deliveries, write_follow_up_deliveries
from vigil.alerts.models import SubscriberStatus
from vigil.channels.models import Delivery
from vigil.core.models import Chapter, Zone


def _messages(chapter: Chapter) -> uuid.UUID:
    now = timezone.now()
    return add_messages(chapter, now=now, valid_until=now)[0]


def test_one_row_per_active_subscriber_in_the_zones_in_their_language(chapter: Chapter, zone: Zone) -> None:
    elsewhere = Zone.objects.create(chapter=chapter, name="Elsewhere", cells=[])
    neighbours = add_subscribers(chapter, [zone], 6)
    add_subscribers(chapter, [elsewhere], 3, start=100)
    neighbours[0].status = SubscriberStatus.STOPPED
    neighbours[0].save(update_fields=["status"])
    batch = _messages(chapter)
    with transaction.atomic():
        written = write_alert_deliveries(
            batch=batch, chapter_id=chapter.pk, zone_ids=[zone.pk], drill=False, now=timezone.now()
        )
    assert written == 5
    rows = Delivery.objects.select_related("message", "endpoint__subscriber")
    assert {(d.endpoint.subscriber.language, d.message.language) for d in rows} == {("en", "en"), ("es", "es")}


def test_follow_up_reaches_exactly_the_original_recipients(chapter: Chapter, zone: Zone) -> None:
    add_subscribers(chapter, [zone], 4)
    original = _messages(chapter)
    write_alert_deliveries(batch=original, chapter_id=chapter.pk, zone_ids=[zone.pk], drill=False, now=timezone.now())
    add_subscribers(chapter, [zone], 2, start=50)  # joined after the alert
    follow_up = _messages(chapter)
    assert write_follow_up_deliveries(batch=follow_up, original_batch=original, now=timezone.now()) == 4
