"""The sandbox: outgoing messages land in simulated phones, and a simulated phone texts back
through the same code path as Twilio's webhook."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.channels.models import Delivery, Endpoint, Message, SandboxMessage
from vigil.channels.sandbox import send_sandbox_text, store_outgoing
from vigil.channels.tests.test_transports import send
from vigil.channels.transports import transport_for
from vigil.channels.transports.base import Outgoing
from vigil.core.models import AuditEvent, Chapter
from vigil.core.phones import phone_index
from vigil.intake.models import InboundMessage, Report

PHONE = "+13125550142"
ALERT = "ALERTA Pilsen: actividad de ICE confirmada cerca de 18th y Blue Island."


@pytest.fixture
def sandbox_on(settings: Any) -> None:
    settings.SANDBOX = True


def a_delivery(chapter: Chapter, address: str, channel: str = "sms") -> Delivery:
    now = timezone.now()
    message = Message.objects.create(
        chapter=chapter, language="es", body=ALERT, created_at=now, valid_until=now + timedelta(minutes=30)
    )
    endpoint = Endpoint.objects.create(chapter=chapter, channel=channel, address=address)
    return Delivery.objects.create(message=message, endpoint=endpoint, channel=channel, next_attempt_at=now)


def outgoing_for(delivery: Delivery, address: str) -> Outgoing:
    return Outgoing(
        delivery_id=delivery.pk,
        address=address,
        body=ALERT,
        subject="",
        url="",
        language="es",
        idempotency_key=delivery.idempotency_key,
        is_drill=True,
    )


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_transport_delivers_into_the_phones_inbox(chapter: Chapter, sandbox_on: None) -> None:
    delivery = a_delivery(chapter, PHONE)
    transport = transport_for("sms")
    assert transport is not None

    receipt = send(transport, outgoing_for(delivery, PHONE))

    assert receipt.provider_id.startswith("sandbox-")
    [message] = SandboxMessage.objects.all()
    assert message.direction == "out" and message.channel == "sms" and message.delivery_id == delivery.pk
    assert message.address == PHONE and message.body == ALERT
    assert message.address_index == phone_index(PHONE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, body FROM channels_sandboxmessage")
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    assert PHONE.encode() not in raw and b"Blue Island" not in raw


@pytest.mark.django_db(transaction=True)
def test_every_channel_lands_in_the_sandbox(chapter: Chapter, sandbox_on: None) -> None:
    for channel, address in (("signal", PHONE), ("email", "vecina@example.org"), ("webpush", '{"endpoint": "x"}')):
        delivery = a_delivery(chapter, address, channel)
        transport = transport_for(channel)
        assert transport is not None
        send(transport, outgoing_for(delivery, address))

    assert sorted(SandboxMessage.objects.values_list("channel", flat=True)) == ["email", "signal", "webpush"]


# --- the simulated phone pages ------------------------------------------------------------


def test_the_sandbox_pages_do_not_exist_outside_sandbox_mode(
    as_dispatcher: Client, neighbour: Client, settings: Any
) -> None:
    settings.SANDBOX = False
    index = phone_index(PHONE)

    assert neighbour.get(reverse("sandbox_phones")).status_code == 404

    assert as_dispatcher.get(reverse("sandbox_phones")).status_code == 404
    assert as_dispatcher.get(reverse("sandbox_phone", args=[index])).status_code == 404
    assert as_dispatcher.post(reverse("sandbox_phones"), {"phone": PHONE}).status_code == 404


def test_the_sandbox_needs_a_staff_login(neighbour: Client, sandbox_on: None, db: Any) -> None:
    response = neighbour.get(reverse("sandbox_phones"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_phone_list_shows_every_inbox_labelled_as_simulated(
    as_dispatcher: Client, sandbox_on: None, chapter: Chapter
) -> None:
    store_outgoing("sms", PHONE, ALERT)
    store_outgoing("email", "vecina@example.org", ALERT)

    page = as_dispatcher.get(reverse("sandbox_phones")).content.decode()

    assert "DEMO / DRILL" in page
    assert PHONE in page and "vecina@example.org" in page
    assert reverse("sandbox_phone", args=[phone_index(PHONE)]) in page


def test_opening_a_phone_number_shows_its_empty_phone(as_dispatcher: Client, sandbox_on: None) -> None:
    response = as_dispatcher.post(reverse("sandbox_phones"), {"phone": "(312) 555-0142"})

    assert response.status_code == 302 and response["Location"] == reverse("sandbox_phone", args=[phone_index(PHONE)])
    page = as_dispatcher.get(response["Location"]).content.decode()
    assert PHONE in page and "No messages yet." in page and "SIMULATED" in page
    assert "5550142" not in str(dict(as_dispatcher.session))


def test_a_bad_number_is_refused_with_a_clear_message(as_dispatcher: Client, sandbox_on: None) -> None:
    response = as_dispatcher.post(reverse("sandbox_phones"), {"phone": "not a phone"})

    assert response.status_code == 400 and "Enter a phone number" in response.content.decode()


@pytest.mark.parametrize("index", ["0" * 64, "nothex", "a" * 63])
def test_an_unknown_phone_is_not_found(as_dispatcher: Client, sandbox_on: None, index: str) -> None:
    assert as_dispatcher.get(f"/sandbox/phone/{index}/").status_code == 404


def test_a_text_from_the_phone_goes_through_the_sms_webhook_path(
    as_dispatcher: Client, sandbox_on: None, dispatcher: User
) -> None:
    as_dispatcher.post(reverse("sandbox_phones"), {"phone": PHONE})
    url = reverse("sandbox_phone", args=[phone_index(PHONE)])

    response = as_dispatcher.post(url, {"body": "HELP"})

    assert response.status_code == 302 and response["Location"] == url
    sent, reply = SandboxMessage.objects.order_by("at")
    assert (sent.direction, sent.body) == ("in", "HELP")
    assert reply.direction == "out" and "text what you see" in reply.body
    assert InboundMessage.objects.count() == 1
    assert AuditEvent.objects.filter(action="send_sandbox_text", actor=dispatcher).count() == 1
    page = as_dispatcher.get(url).content.decode()
    assert page.index("HELP") < page.index("text what you see")


def test_a_report_texted_from_the_phone_reaches_intake(as_dispatcher: Client, sandbox_on: None, zone: Any) -> None:
    as_dispatcher.post(reverse("sandbox_phones"), {"phone": PHONE})

    as_dispatcher.post(
        reverse("sandbox_phone", args=[phone_index(PHONE)]), {"body": "ICE agents detaining people at 18th St 60608"}
    )

    assert Report.objects.filter(channel="sms").count() == 1
    assert SandboxMessage.objects.filter(direction="out", body__isnull=False).count() == 1


def test_an_empty_text_is_refused(as_dispatcher: Client, sandbox_on: None) -> None:
    as_dispatcher.post(reverse("sandbox_phones"), {"phone": PHONE})

    response = as_dispatcher.post(reverse("sandbox_phone", args=[phone_index(PHONE)]), {"body": ""})

    assert response.status_code == 400 and not SandboxMessage.objects.exists()


def test_texting_needs_the_csrf_token(sandbox_on: None, dispatcher: User) -> None:
    client = login(Client(enforce_csrf_checks=True), dispatcher)
    store_outgoing("sms", PHONE, ALERT)

    response = client.post(reverse("sandbox_phone", args=[phone_index(PHONE)]), {"body": "HELP"})

    assert response.status_code == 403 and SandboxMessage.objects.count() == 1


def test_an_alert_arriving_shows_in_the_polled_thread(as_dispatcher: Client, sandbox_on: None) -> None:
    store_outgoing("sms", PHONE, "<script>alert(1)</script> " + ALERT)
    index = phone_index(PHONE)

    page = as_dispatcher.get(reverse("sandbox_phone", args=[index])).content.decode()
    fragment = as_dispatcher.get(reverse("sandbox_thread", args=[index])).content.decode()

    assert 'hx-trigger="every 2s"' in page and reverse("sandbox_thread", args=[index]) in page
    assert "Blue Island" in fragment and "<html" not in fragment
    assert "<script>alert(1)" not in fragment and "&lt;script&gt;" in fragment


def test_any_staff_role_may_use_the_sandbox(client: Client, sandbox_on: None, verifier: User) -> None:
    assert login(client, verifier).get(reverse("sandbox_phones")).status_code == 200


def test_the_sandbox_helper_stores_the_reply_too(db: Any, sandbox_on: None, dispatcher: User) -> None:
    reply = send_sandbox_text(dispatcher, PHONE, "LANG ES")

    assert reply and SandboxMessage.objects.filter(direction="out").get().body == reply
