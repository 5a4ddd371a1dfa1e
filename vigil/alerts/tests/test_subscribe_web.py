"""The public /subscribe/ page: phone and email with double opt-in, Web Push, G11 anti-abuse."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from vigil.alerts import subscriber_views, subscriptions
from vigil.alerts.models import Subscriber, SubscriberStatus, Suppression
from vigil.channels.models import Delivery, DeliveryStatus, Endpoint, Message, Purpose, SandboxMessage
from vigil.core.crypto import blind_index
from vigil.core.models import AuditEvent, RateBucket, Zone
from vigil.core.phones import phone_index

PHONE = "(312) 555-0199"
E164 = "+13125550199"
EMAIL = "Vecina@Example.org"
PUSH: dict[str, Any] = {
    "endpoint": "https://push.example.net/send/abc123",
    "keys": {
        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}


def form(zone: Zone, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {"zones": [str(zone.pk)], "language": "en", "channel": "sms", "phone": PHONE}
    data.update(fields)
    return data


def code_from(message: Message) -> str:
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found
    return found.group(1)


def ticket_of(response) -> str:
    found = re.search(r'name="ticket" value="([^"]+)"', response.content.decode())
    assert found
    return found.group(1)


def confirmation(endpoint_index: str) -> Delivery:
    return Delivery.objects.select_related("message", "endpoint").get(
        endpoint__address_index=endpoint_index, message__purpose=Purpose.CONFIRMATION
    )


def test_the_page_lists_zones_grouped_by_chapter_and_works_in_spanish(db, neighbour, zone, other_zone):
    response = neighbour.get("/subscribe/", headers={"accept-language": "es"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Pilsen" in page and "Cicero" in page
    assert 'name="phone"' in page and 'name="email"' in page
    assert '<html lang="es">' in page


def test_subscribing_by_phone_texts_a_code_and_the_code_confirms(db, neighbour, zone):
    response = neighbour.post("/subscribe/", form(zone))
    assert response.status_code == 200
    assert b'name="code"' in response.content

    delivery = confirmation(phone_index(E164))
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.channel == "sms"
    assert delivery.message.purpose == Purpose.CONFIRMATION
    assert E164 not in delivery.message.body and "555" not in delivery.message.body
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.PENDING
    assert code_from(delivery.message) not in subscriber.confirm_hash

    done = neighbour.post("/subscribe/code/", {"ticket": ticket_of(response), "code": code_from(delivery.message)})
    assert done.status_code == 200
    assert b'id="subscribed"' in done.content
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.confirm_hash == ""
    assert list(subscriber.zones.all()) == [zone]
    assert AuditEvent.objects.filter(action="subscriber.confirm").count() == 1


def test_a_wrong_code_is_refused_and_attempts_are_limited(db, neighbour, zone):
    response = neighbour.post("/subscribe/", form(zone))
    ticket = ticket_of(response)
    right = code_from(confirmation(phone_index(E164)).message)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(subscriptions.MAX_CONFIRM_ATTEMPTS):
        assert neighbour.post("/subscribe/code/", {"ticket": ticket, "code": wrong}).status_code == 400
    # Even the right code is refused once the attempts are spent.
    assert neighbour.post("/subscribe/code/", {"ticket": ticket, "code": right}).status_code == 400
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_a_forged_ticket_is_a_400(db, neighbour, zone):
    assert neighbour.post("/subscribe/code/", {"ticket": "forged", "code": "123456"}).status_code == 400


def test_subscribing_by_email_sends_a_link_and_the_link_confirms(db, neighbour, zone):
    response = neighbour.post("/subscribe/", form(zone, channel="email", phone="", email=EMAIL, language="es"))
    assert response.status_code == 200

    delivery = confirmation(blind_index(EMAIL.lower(), purpose="email"))
    assert delivery.channel == "email" and delivery.message.language == "es"
    assert "vecina" not in delivery.message.body.lower()
    link = re.search(r"http://testserver(/subscribe/confirm/\S+/)", delivery.message.body)
    assert link
    # Opening the link (a mail scanner may) changes nothing; pressing the button confirms.
    assert neighbour.get(link.group(1)).status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    assert neighbour.post(link.group(1)).status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.ACTIVE and subscriber.language == "es"
    assert Endpoint.objects.get().address == EMAIL.lower()


def test_a_second_channel_is_off_until_its_owner_confirms_it(db, neighbour, zone):
    neighbour.post("/subscribe/", form(zone, fallback="vecina@example.org"))
    primary = Endpoint.objects.get(channel="sms")
    fallback = primary.fallback
    assert fallback is not None and not fallback.enabled
    body = confirmation(fallback.address_index).message.body
    link = re.search(r"http://testserver(/subscribe/fallback/\S+/)", body)
    assert link
    assert neighbour.post(link.group(1)).status_code == 200
    fallback.refresh_from_db()
    assert fallback.enabled


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "not a phone"}, "phone"),
        ({"channel": "email", "email": "nope"}, "email"),
        ({"zones": [], "zip_code": ""}, "zones"),
        ({"zones": [], "zip_code": "99950"}, "zip_code"),
        ({"zones": ["999999"]}, "zones"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"language": "fr"}, "language"),
        ({"fallback": "neither"}, "fallback"),
    ],
)
def test_bad_input_is_a_400_page_and_nothing_is_stored(db, neighbour, zone, fields, field):
    response = neighbour.post("/subscribe/", form(zone, **fields))
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert not Subscriber.objects.exists() and not Endpoint.objects.exists() and not Message.objects.exists()


def test_a_zip_code_instead_of_a_list_finds_the_zone(db, neighbour, zone):
    neighbour.post("/subscribe/", form(zone, zones=[], zip_code="60608"))
    assert list(Subscriber.objects.get().zones.all()) == [zone]


# --- G11: the subscribe page cannot be used to text arbitrary numbers ------------------------


def test_g11_one_number_gets_at_most_three_codes_a_day_whoever_asks(db, zone):
    for n in range(6):
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        assert client.post("/subscribe/", form(zone)).status_code == 200
    assert (
        Delivery.objects.filter(message__purpose=Purpose.CONFIRMATION).count()
        == subscriptions.CODES_PER_CONTACT_PER_DAY
    )


def test_g11_one_source_may_ask_five_times_an_hour(db, zone):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(subscriber_views.REQUESTS_PER_SOURCE):
        assert client.post("/subscribe/", form(zone, phone=f"312555{n:04d}")).status_code == 200
    response = client.post("/subscribe/", form(zone, phone="3125550777"))
    assert response.status_code == 429
    assert Delivery.objects.count() == subscriber_views.REQUESTS_PER_SOURCE
    # Only keyed hashes in the rate buckets: never the address or the number.
    keys = " ".join(RateBucket.objects.values_list("key", flat=True))
    assert "203.0.113" not in keys and "3125550777" not in keys and "5550777" not in keys


def test_g11_a_suppressed_number_is_never_texted_and_the_answer_is_the_same(db, zone):
    Suppression.objects.create(address_index=phone_index(E164))
    suppressed = Client(REMOTE_ADDR="198.51.100.1").post("/subscribe/", form(zone))
    fresh = Client(REMOTE_ADDR="198.51.100.2").post("/subscribe/", form(zone, phone="3125550123"))

    assert suppressed.status_code == fresh.status_code == 200
    assert _without_ticket(suppressed) == _without_ticket(fresh)
    assert not Endpoint.objects.filter(address_index=phone_index(E164)).exists()
    assert Delivery.objects.count() == 1


def test_g11_an_already_subscribed_number_gets_the_same_answer(db, zone):
    first = Client(REMOTE_ADDR="198.51.100.1")
    response = first.post("/subscribe/", form(zone))
    code = code_from(confirmation(phone_index(E164)).message)
    first.post("/subscribe/code/", {"ticket": ticket_of(response), "code": code})
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE

    again = Client(REMOTE_ADDR="198.51.100.2").post("/subscribe/", form(zone))
    fresh = Client(REMOTE_ADDR="198.51.100.3").post("/subscribe/", form(zone, phone="3125550123"))
    assert again.status_code == fresh.status_code == 200
    assert _without_ticket(again) == _without_ticket(fresh)
    # The request alone changed nothing about the existing subscription.
    assert Subscriber.objects.get(endpoint__address_index=phone_index(E164)).status == SubscriberStatus.ACTIVE


def _without_ticket(response) -> str:
    page = response.content.decode()
    page = re.sub(r'name="ticket" value="[^"]+"', "", page)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


# --- Web Push ---------------------------------------------------------------------------------


def test_the_push_option_is_hidden_without_a_vapid_key(db, neighbour, zone, settings):
    settings.VAPID_PUBLIC_KEY = ""
    page = neighbour.get("/subscribe/").content.decode()
    assert 'data-vapid-key=""' in page
    data = form(zone, channel="webpush", push_subscription=json.dumps(PUSH))
    assert neighbour.post("/subscribe/push/", data).status_code == 404
    assert not Subscriber.objects.exists()


def test_a_push_subscription_is_active_at_once_and_can_unsubscribe(db, neighbour, zone, settings):
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForTests"
    response = neighbour.post("/subscribe/push/", form(zone, channel="webpush", push_subscription=json.dumps(PUSH)))
    assert response.status_code == 200 and response.json()["ok"]
    subscriber = Subscriber.objects.select_related("endpoint").get()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.endpoint.channel == "webpush"
    assert subscriber.endpoint.address_index == blind_index(PUSH["endpoint"], purpose="webpush")
    assert json.loads(str(subscriber.endpoint.address))["keys"]["auth"] == PUSH["keys"]["auth"]
    assert not Delivery.objects.exists()

    gone = neighbour.post("/subscribe/push/unsubscribe/", {"push_subscription": json.dumps(PUSH)})
    assert gone.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.STOPPED
    assert Endpoint.objects.get().address_index == ""


@pytest.mark.parametrize(
    "subscription",
    ["", "{", json.dumps({"endpoint": "http://insecure.example/x", "keys": PUSH["keys"]}), json.dumps({"endpoint": 1})],
)
def test_a_bad_push_subscription_is_a_400(db, neighbour, zone, settings, subscription):
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForTests"
    response = neighbour.post("/subscribe/push/", form(zone, channel="webpush", push_subscription=subscription))
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


def test_the_service_worker_is_served_at_the_root_scope(db, neighbour):
    response = neighbour.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert b"showNotification" in response.content and b"notificationclick" in response.content


def test_an_email_unsubscribe_link_forgets_the_address_and_suppresses_it(db, neighbour, zone):
    neighbour.post("/subscribe/", form(zone, channel="email", phone="", email=EMAIL))
    endpoint = Endpoint.objects.get()
    path = subscriptions.unsubscribe_url(endpoint).removeprefix("http://testserver")
    assert neighbour.get(path).status_code == 200
    assert neighbour.post(path).status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.address_index == "" and not endpoint.enabled
    assert Suppression.objects.filter(address_index=blind_index(EMAIL.lower(), purpose="email")).exists()
    assert neighbour.post("/subscribe/unsubscribe/forged/").status_code == 400


# --- End to end through the sender and the sandbox ---------------------------------------------


def test_the_code_reaches_the_sandbox_phone_through_the_sender(transactional_db, zone, settings):
    settings.SANDBOX = True
    client = Client()
    response = client.post("/subscribe/", form(zone))
    call_command("send_deliveries", "--until-idle", stdout=open("/dev/null", "w"))

    (received,) = SandboxMessage.objects.filter(address_index=phone_index(E164), direction="out")
    code = re.search(r"\b(\d{6})\b", str(received.body))
    assert code
    assert Delivery.objects.get().status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    assert client.post("/subscribe/code/", {"ticket": ticket_of(response), "code": code.group(1)}).status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE
