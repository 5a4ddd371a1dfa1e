"""The composer, the alert page and the alert list, as staff use them over HTTP."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import login
from vigil.alerts.actions import send_alert
from vigil.alerts.bulk import add_subscribers
from vigil.alerts.models import Alert, AlertKind, AlertStatus
from vigil.alerts.tests.alerting import approve_templates, confirmed_incident, reported_incident
from vigil.channels.models import Delivery, DeliveryStatus, Message


@pytest.fixture
def incident(dispatcher, verifier, organizer, zone):
    approve_templates(organizer)
    return confirmed_incident(dispatcher, verifier)


def compose_url(incident) -> str:
    return reverse("alert_compose", args=[incident.pk])


def test_the_incident_page_offers_send_alert_to_a_dispatcher_once_confirmed(as_dispatcher, incident):
    page = as_dispatcher.get(reverse("incident_detail", args=[incident.pk])).content.decode()
    assert compose_url(incident) in page


def test_the_incident_page_offers_nothing_to_send_for_an_unconfirmed_incident(as_dispatcher, zone):
    incident = reported_incident()
    page = as_dispatcher.get(reverse("incident_detail", args=[incident.pk])).content.decode()
    assert compose_url(incident) not in page


def test_the_composer_shows_each_language_with_segments_and_recipients_by_zone_language_and_channel(
    as_dispatcher, chapter, zone, incident, django_assert_max_num_queries
):
    add_subscribers(chapter, [zone], 7)

    response = as_dispatcher.get(compose_url(incident), {"kind": "activity", "ring": "0"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Immigration enforcement confirmed in Pilsen" in page
    assert "Actividad de inmigracion confirmada en Pilsen" in page
    assert "GSM-7" in page and "1 SMS segment" in page
    assert "7 recipients" in page
    assert "Español" in page and "Text message" in page
    assert "Valid for 30 minutes" in page
    assert "+1" not in page  # counts, never contacts


def test_sending_takes_a_confirmation_step_then_goes_out(as_dispatcher, chapter, zone, incident):
    add_subscribers(chapter, [zone], 5)
    data = {"kind": "activity", "ring": "0"}

    first = as_dispatcher.post(compose_url(incident), data)
    assert first.status_code == 200
    assert "You are about to send" in first.content.decode()
    assert not Alert.objects.exists()

    sent = as_dispatcher.post(compose_url(incident), {**data, "confirmed": "yes"})
    alert = Alert.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("alert_detail", args=[alert.pk])
    assert alert.recipients == 5 and Delivery.objects.count() == 5


def test_sending_without_csrf_is_refused(dispatcher, chapter, zone, incident):
    client = login(Client(enforce_csrf_checks=True), dispatcher)
    response = client.post(compose_url(incident), {"kind": "activity", "ring": "0", "confirmed": "yes"})
    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_an_unconfirmed_incident_is_refused_with_a_clear_message_and_nothing_written(
    as_dispatcher, chapter, zone, organizer
):
    approve_templates(organizer)
    add_subscribers(chapter, [zone], 3)
    incident = reported_incident()

    response = as_dispatcher.post(compose_url(incident), {"kind": "activity", "ring": "0", "confirmed": "yes"})

    assert response.status_code == 409
    assert "only be sent for a confirmed incident" in response.content.decode()
    assert not Alert.objects.exists() and not Message.objects.exists() and not Delivery.objects.exists()


def test_an_unapproved_text_is_refused_on_the_page(as_dispatcher, chapter, zone, incident, organizer):
    from vigil.alerts.actions import save_template

    save_template(AlertKind.CHECKPOINT, "en", "{network}: checkpoint in {zone}.", acting_user=organizer)

    response = as_dispatcher.post(compose_url(incident), {"kind": "checkpoint", "ring": "0", "confirmed": "yes"})

    assert response.status_code == 409
    assert "not approved for: en" in response.content.decode()
    assert not Alert.objects.exists()


def test_a_bad_form_is_a_400_not_a_500(as_dispatcher, incident):
    response = as_dispatcher.post(compose_url(incident), {"kind": "<script>", "ring": "99"})
    assert response.status_code == 400
    assert not Alert.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("verifier", 403), ("legal_coordinator", 404), ("outsider", 404)])
def test_other_roles_cannot_open_the_composer_or_send(request, client, persona, status, chapter, zone, incident):
    add_subscribers(chapter, [zone], 2)
    login(client, request.getfixturevalue(persona))

    assert client.get(compose_url(incident)).status_code == status
    assert client.post(compose_url(incident), {"kind": "activity", "ring": "0", "confirmed": "yes"}).status_code == (
        status
    )
    assert not Alert.objects.exists()


def test_the_alert_page_shows_progress_polled_every_two_seconds(
    as_dispatcher, chapter, zone, dispatcher, incident, django_assert_max_num_queries
):
    add_subscribers(chapter, [zone], 4)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    Delivery.objects.filter(pk=Delivery.objects.order_by("pk")[0].pk).update(status=DeliveryStatus.DELIVERED)

    page = as_dispatcher.get(reverse("alert_detail", args=[alert.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert reverse("alert_progress", args=[alert.pk]) in page
    assert "dana.dispatcher" in page and "Pilsen" in page

    # Session and user (3), the session's activity stamp (3), the alert, counts, attempts.
    with django_assert_max_num_queries(9):
        fragment = as_dispatcher.get(reverse("alert_progress", args=[alert.pk]))
    text = fragment.content.decode()
    assert '<td id="count-recipients">4</td>' in text
    assert '<td id="count-delivered">1</td>' in text
    assert '<td id="count-pending">3</td>' in text
    assert "<html" not in text


def test_a_finished_alert_stops_polling_and_an_expired_one_says_so(as_dispatcher, chapter, zone, dispatcher, incident):
    add_subscribers(chapter, [zone], 3)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    Delivery.objects.update(status=DeliveryStatus.EXPIRED, last_error="expired")

    text = as_dispatcher.get(reverse("alert_progress", args=[alert.pk])).content.decode()

    assert "hx-trigger" not in text
    assert 'id="expired-banner"' in text and "3 deliveries expired" in text
    assert 'id="dead-letters"' in text


@pytest.mark.parametrize("persona", ["outsider", "legal_coordinator"])
def test_another_chapters_alert_is_not_found(request, client, persona, chapter, zone, dispatcher, incident):
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    login(client, request.getfixturevalue(persona))

    assert client.get(reverse("alert_detail", args=[alert.pk])).status_code == 404
    assert client.get(reverse("alert_progress", args=[alert.pk])).status_code == 404
    response = client.post(reverse("alert_detail", args=[alert.pk]), {"action": "follow_up", "kind": "all_clear"})
    assert response.status_code == 404
    assert Alert.objects.count() == 1


def test_the_all_clear_from_the_alert_page_goes_to_the_same_recipients(
    as_dispatcher, chapter, zone, dispatcher, incident
):
    add_subscribers(chapter, [zone], 6)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    add_subscribers(chapter, [zone], 2, start=100)
    url = reverse("alert_detail", args=[alert.pk])
    assert "Send all-clear" in as_dispatcher.get(url).content.decode()

    ask = as_dispatcher.post(url, {"action": "follow_up", "kind": "all_clear"})
    assert ask.status_code == 200 and "Check before sending" in ask.content.decode()
    assert Alert.objects.count() == 1

    done = as_dispatcher.post(url, {"action": "follow_up", "kind": "all_clear", "confirmed": "yes"})
    follow_up = Alert.objects.get(follows=alert)
    assert done["Location"] == reverse("alert_detail", args=[follow_up.pk])
    assert follow_up.kind == AlertKind.ALL_CLEAR and follow_up.recipients == 6


def test_two_person_approval_on_the_alert_page(settings, client, chapter, zone, dispatcher, organizer, incident):
    settings.ALERT_TWO_PERSON = True
    add_subscribers(chapter, [zone], 3)
    login(client, dispatcher)
    client.post(compose_url(incident), {"kind": "activity", "ring": "0", "confirmed": "yes"})
    alert = Alert.objects.get()
    url = reverse("alert_detail", args=[alert.pk])
    assert alert.status == AlertStatus.AWAITING_APPROVAL and not Delivery.objects.exists()

    page = client.get(url).content.decode()
    assert "Waiting for a second approval" in page and 'id="approve"' not in page
    refused = client.post(url, {"action": "approve"})
    assert refused.status_code == 409 and not Delivery.objects.exists()

    second = login(Client(), organizer)
    assert second.post(url, {"action": "approve"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SENDING and alert.approved_by == organizer
    assert Delivery.objects.count() == 3


def test_the_alert_list_shows_the_chapters_alerts_only(client, chapter, zone, dispatcher, outsider, incident):
    send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)

    mine = login(client, dispatcher).get(reverse("alert_list")).content.decode()
    theirs = login(Client(), outsider).get(reverse("alert_list")).content.decode()

    assert f"#{incident.pk}" in mine
    assert f"#{incident.pk}" not in theirs
