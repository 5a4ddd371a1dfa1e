"""B5: STOP/BAJA (any case) deletes the subscriber's contact; only a keyed hash stays, in Suppression."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from vigil.alerts import subscriptions
from vigil.alerts.bulk import add_messages, add_subscribers
from vigil.alerts.fanout import write_alert_deliveries, write_follow_up_deliveries
from vigil.alerts.models import Subscriber, SubscriberStatus, SubscriberZone, Suppression
from vigil.alerts.subscriptions import WebRequest
from vigil.alerts.tests.test_subscribe_sms import NEIGHBOUR, _keywords, text  # noqa: F401
from vigil.channels.models import Delivery, DeliveryStatus, Endpoint
from vigil.core.models import AuditEvent
from vigil.core.phones import phone_index

STOP_WORDS = ["STOP", "stop", "Stop", "sToP", "BAJA", "baja", "Baja", "UNSUBSCRIBE", "cancel", "parar"]


def _subscribe(zone) -> Subscriber:
    text("JOIN 60608")
    text("YES")
    return Subscriber.objects.select_related("endpoint").get(endpoint__address_index=phone_index(NEIGHBOUR))


def _alert(chapter, zone) -> uuid.UUID:
    now = timezone.now()
    batch, _ = add_messages(chapter, now=now, valid_until=now)
    with transaction.atomic():
        write_alert_deliveries(batch=batch, chapter_id=chapter.pk, zone_ids=[zone.pk], drill=False, now=now)
    return batch


def _raw_address(endpoint_id: uuid.UUID) -> object:
    table = Endpoint._meta.db_table
    key = endpoint_id if connection.vendor == "postgresql" else endpoint_id.hex
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT address, address_index FROM {table} WHERE id = %s", [key])  # noqa: S608
        return cursor.fetchone()


@pytest.mark.parametrize("word", STOP_WORDS)
def test_stop_in_any_case_deletes_the_contact_and_keeps_only_the_keyed_hash(db, chapter, zone, word):
    subscriber = _subscribe(zone)
    first_alert = _alert(chapter, zone)
    assert Delivery.objects.filter(endpoint=subscriber.endpoint, status=DeliveryStatus.PENDING).count() == 1

    assert text(word) is None  # Twilio answers opt-outs itself

    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.STOPPED
    assert _raw_address(subscriber.endpoint_id) == (None, "")
    endpoint = Endpoint.objects.get(pk=subscriber.endpoint_id)
    assert not endpoint.enabled and endpoint.disabled_reason == subscriptions.OPTED_OUT
    assert not SubscriberZone.objects.filter(subscriber=subscriber).exists()
    assert list(Suppression.objects.values_list("address_index", flat=True)) == [phone_index(NEIGHBOUR)]
    # What was still queued is cancelled, and nothing new is written for that endpoint.
    assert not Delivery.objects.filter(endpoint=endpoint, status__in=["pending", "sending"]).exists()
    _alert(chapter, zone)
    follow_up = _alert(chapter, zone)
    Delivery.objects.filter(message__batch=follow_up).delete()
    with transaction.atomic():
        write_follow_up_deliveries(batch=follow_up, original_batch=first_alert, now=timezone.now())
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1  # the cancelled one: history kept
    assert AuditEvent.objects.filter(action="subscriber.stop", object_id=str(subscriber.pk)).exists()


def test_stop_leaves_no_trace_of_the_number_anywhere_in_the_subscription_tables(db, chapter, zone):
    subscriber = _subscribe(zone)
    text("BAJA")
    e164_digits = NEIGHBOUR.lstrip("+").encode()
    for model in (Endpoint, Subscriber, Suppression, SubscriberZone):
        for row in model.objects.values_list():
            assert not any(e164_digits in (v if isinstance(v, bytes) else str(v).encode()) for v in row)
    assert subscriber.pk


def test_a_suppressed_number_is_never_texted_from_the_web_page(db, chapter, zone):
    _subscribe(zone)
    text("STOP")
    before = Delivery.objects.count()
    subscriptions.request_subscription(
        WebRequest(contact=subscriptions.phone_contact(NEIGHBOUR), zones=[zone], language="en")
    )
    assert Delivery.objects.count() == before
    assert not Endpoint.objects.filter(address_index=phone_index(NEIGHBOUR)).exists()


def test_stop_forgets_the_number_where_it_is_only_a_second_channel(db, chapter, zone):
    (subscriber,) = add_subscribers(chapter, [zone], 1, channel="email")
    fallback = Endpoint(chapter=chapter, channel="sms", address_index=phone_index(NEIGHBOUR))
    fallback.address = NEIGHBOUR
    fallback.save()
    Endpoint.objects.filter(pk=subscriber.endpoint_id).update(fallback=fallback)

    text("STOP")

    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.ACTIVE  # still gets email
    assert _raw_address(fallback.pk) == (None, "")


def test_stopping_a_subscriber_forgets_its_second_channel_too(db, chapter, zone):
    subscriber = _subscribe(zone)
    second = Endpoint(chapter=chapter, channel="email", address_index="x" * 64)
    second.address = "neighbour@example.org"
    second.save()
    Endpoint.objects.filter(pk=subscriber.endpoint_id).update(fallback=second)
    text("stop")
    assert _raw_address(second.pk) == (None, "")


def test_stop_by_phone_index_is_idempotent(db, zone):
    _subscribe(zone)
    assert subscriptions.stop_by_phone_index(phone_index(NEIGHBOUR)) == 1
    assert subscriptions.stop_by_phone_index(phone_index(NEIGHBOUR)) == 0
    assert Suppression.objects.count() == 1
