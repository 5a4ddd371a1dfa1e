"""Subscribing by text: JOIN/ALTA <ZIP>, YES/SI (double opt-in), START, LANG, through the real webhook."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import h3
import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, override

from tests.twilio import text_via_webhook
from vigil.alerts import sms_keywords
from vigil.alerts.models import Subscriber, SubscriberStatus, Suppression
from vigil.channels.models import Delivery, Endpoint
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.core.phones import phone_index
from vigil.intake import sms
from vigil.intake import webhooks as intake_webhooks

NEIGHBOUR = "+13125550142"


def text(body: str, *, sender: str = NEIGHBOUR) -> str | None:
    return text_via_webhook(sender, body)


def translated(message: str, language: str) -> str:
    with override(language):
        return gettext(message)


@pytest.fixture(autouse=True)
def _keywords() -> Iterator[None]:
    # Another module's test registers and unregisters a "join" of its own.
    sms_keywords.register()
    yield


@pytest.fixture
def little_village(chapter: Chapter) -> Zone:
    return Zone.objects.create(
        chapter=chapter, name="Little Village", cells=[h3.latlng_to_cell(41.849, -87.7157, 6)], zip_codes=[]
    )


def subscriber_of(phone: str = NEIGHBOUR) -> Subscriber:
    return Subscriber.objects.select_related("endpoint").get(endpoint__address_index=phone_index(phone))


def test_join_with_a_zip_asks_for_a_yes_and_creates_a_pending_subscriber(db, zone):
    reply = text("JOIN 60608")

    assert reply == translated(sms_keywords.JOIN_ASK, "en") % {"network": "Vigil", "zones": "Pilsen"}
    subscriber = subscriber_of()
    assert subscriber.status == SubscriberStatus.PENDING
    assert subscriber.language == "en"
    assert list(subscriber.zones.all()) == [zone]
    assert subscriber.endpoint.address == NEIGHBOUR
    assert subscriber.endpoint.channel == "sms"
    assert AuditEvent.objects.filter(action="subscriber.request", object_id=str(subscriber.pk)).exists()


def test_join_finds_a_zone_by_the_zip_centroid_cell(db, little_village):
    # Little Village has no ZIP list: 60623's centroid falls in its cell.
    reply = text("join 60623")
    assert "Little Village" in (reply or "")
    assert list(subscriber_of().zones.all()) == [little_village]


def test_alta_replies_in_spanish_and_subscribes_in_spanish(db, zone):
    reply = text("ALTA 60608")

    assert reply == translated(sms_keywords.JOIN_ASK, "es") % {"network": "Vigil", "zones": "Pilsen"}
    assert subscriber_of().language == "es"


@pytest.mark.parametrize("yes", ["YES", "yes", "Yes!"])
def test_yes_confirms_the_pending_subscription(db, zone, yes):
    text("JOIN 60608")
    reply = text(yes)

    assert reply == translated(sms_keywords.CONFIRMED, "en") % {"network": "Vigil", "zones": "Pilsen"}
    subscriber = subscriber_of()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.confirmed_at is not None
    assert AuditEvent.objects.filter(action="subscriber.confirm", object_id=str(subscriber.pk)).exists()


@pytest.mark.parametrize("si", ["SI", "si", "Sí", "SÍ"])
def test_si_confirms_in_spanish(db, zone, si):
    text("ALTA 60608")
    reply = text(si)

    assert reply == translated(sms_keywords.CONFIRMED, "es") % {"network": "Vigil", "zones": "Pilsen"}
    assert subscriber_of().status == SubscriberStatus.ACTIVE


def test_a_yes_after_the_confirmation_window_confirms_nothing(db, zone):
    text("JOIN 60608")
    later = timezone.now() + timedelta(minutes=16)
    with mock.patch("django.utils.timezone.now", return_value=later):
        reply = text("YES")
    assert reply == translated(sms_keywords.NOTHING_TO_CONFIRM, "en")
    assert subscriber_of().status == SubscriberStatus.PENDING


def test_yes_without_a_join_confirms_nothing(db, zone):
    assert text("YES") == translated(sms_keywords.NOTHING_TO_CONFIRM, "en")
    assert not Subscriber.objects.exists()


def test_a_pending_subscriber_gets_no_alert_deliveries(db, chapter, zone):
    from vigil.alerts.fanout import write_alert_deliveries
    from vigil.channels.models import Message

    text("JOIN 60608")
    batch = uuid.uuid4()
    now = timezone.now()
    Message.objects.create(chapter=chapter, batch=batch, language="en", body="alert", created_at=now, valid_until=now)
    assert write_alert_deliveries(batch=batch, chapter_id=chapter.pk, zone_ids=[zone.pk], drill=False, now=now) == 0
    assert not Delivery.objects.exists()


def test_join_with_an_unknown_zip_says_so(db, zone):
    assert text("JOIN 99950") == translated(sms_keywords.JOIN_UNKNOWN_ZIP, "en")
    assert text("ALTA 00000") == translated(sms_keywords.JOIN_UNKNOWN_ZIP, "es")
    assert not Subscriber.objects.exists()


def test_join_without_a_zip_explains_how(db, zone):
    assert text("JOIN") == translated(sms_keywords.JOIN_USAGE, "en")
    assert text("JOIN please") == translated(sms_keywords.JOIN_USAGE, "en")


def test_join_from_an_active_subscriber_adds_the_zone_at_once(db, zone, little_village):
    text("JOIN 60608")
    text("YES")
    reply = text("JOIN 60623")

    assert reply == translated(sms_keywords.JOIN_ADDED, "en") % {"network": "Vigil", "zones": "Little Village"}
    subscriber = subscriber_of()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert set(subscriber.zones.all()) == {zone, little_village}


def test_lang_es_changes_the_subscribers_alert_language(db, zone):
    text("JOIN 60608")
    text("YES")
    reply = text("LANG ES")

    assert reply == translated(intake_webhooks.LANGUAGE_SET, "es")
    assert subscriber_of().language == "es"
    text("idioma ingles")
    assert subscriber_of().language == "en"


def test_start_after_stop_lifts_the_suppression_and_join_subscribes_again(db, zone):
    text("JOIN 60608")
    text("YES")
    text("STOP")
    assert Suppression.objects.filter(address_index=phone_index(NEIGHBOUR)).exists()

    assert text("START") == translated(sms_keywords.NOTHING_TO_CONFIRM, "en")
    assert not Suppression.objects.exists()
    text("JOIN 60608")
    text("YES")
    active = Subscriber.objects.get(status=SubscriberStatus.ACTIVE)
    assert active.endpoint.address == NEIGHBOUR


def test_join_is_an_explicit_re_opt_in(db, zone):
    text("ALTA 60608")
    text("BAJA")
    text("ALTA 60608")
    assert not Suppression.objects.exists()
    assert text("SI") == translated(sms_keywords.CONFIRMED, "es") % {"network": "Vigil", "zones": "Pilsen"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_subscription_reply_fits_one_sms_segment(db, language):
    names = ["Pilsen", "Little Village", "Back of the Yards", "Brighton Park", "McKinley Park", "Bridgeport"]
    for message in sms_keywords.REPLIES:

        def render(zones: str, message: str = message) -> str:
            text = gettext(message)
            return text % {"network": settings.NETWORK_NAME, "zones": zones} if "%(" in text else text

        with override(language):
            reply = sms_keywords.fit_zones(render, names)
        assert sms.sms_segments(reply) == 1, (language, reply)


def test_a_long_list_of_zones_is_shortened_to_stay_in_one_segment(db, chapter):
    for n in range(12):
        Zone.objects.create(chapter=chapter, name=f"Neighbourhood number {n}", cells=[], zip_codes=["60608"])
    reply = text("JOIN 60608") or ""
    assert sms.sms_segments(reply) == 1
    assert "+" in reply
    assert subscriber_of().zones.count() == 12


def test_help_mentions_join_and_ayuda_mentions_alta(db):
    assert "JOIN" in (text("HELP") or "")
    assert "ALTA" in (text("AYUDA") or "")


def test_a_zip_in_two_chapters_subscribes_in_each(db, zone, other_chapter):
    Zone.objects.create(chapter=other_chapter, name="Pilsen West", cells=[], zip_codes=["60608"])
    text("JOIN 60608")
    assert text("YES") is not None
    assert Subscriber.objects.filter(status=SubscriberStatus.ACTIVE).count() == 2
    assert Endpoint.objects.filter(address_index=phone_index(NEIGHBOUR)).count() == 2


def test_joining_again_after_a_provider_error_switches_the_number_back_on(db, zone):
    text("JOIN 60608")
    text("YES")
    Endpoint.objects.update(disabled_at=timezone.now(), disabled_reason="21610")
    text("JOIN 60608")
    assert text("YES") is not None
    assert subscriber_of().endpoint.enabled
