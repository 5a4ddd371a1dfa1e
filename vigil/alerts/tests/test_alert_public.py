"""The public page of active alerts: no login, English and Spanish, no drills, no personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from vigil.alerts.actions import send_alert, send_false_alarm
from vigil.alerts.bulk import add_subscribers, fake_phone
from vigil.alerts.models import Alert, AlertKind
from vigil.alerts.tests.alerting import approve_templates, confirmed_incident
from vigil.channels.models import Message


@pytest.fixture
def incident(dispatcher, verifier, organizer, zone):
    approve_templates(organizer)
    return confirmed_incident(dispatcher, verifier)


def test_an_active_alert_is_shown_to_anyone_in_their_language(neighbour, chapter, zone, dispatcher, incident):
    add_subscribers(chapter, [zone], 2)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)

    english = neighbour.get(reverse("public_alerts")).content.decode()
    neighbour.cookies["django_language"] = "es"
    spanish = neighbour.get(reverse("public_alerts")).content.decode()

    assert "Immigration enforcement confirmed in Pilsen" in english
    assert "Actividad de inmigracion confirmada en Pilsen" in spanish
    assert reverse("rumor_log") in english
    assert fake_phone(0) not in english and fake_phone(1) not in spanish
    assert dispatcher.username not in english
    detail = neighbour.get(Message.objects.get(batch=alert.batch, language="en").url.removeprefix("http://testserver"))
    assert detail.status_code == 200 and "Pilsen" in detail.content.decode()


def test_drills_and_expired_alerts_are_not_shown(neighbour, chapter, zone, dispatcher, incident):
    add_subscribers(chapter, [zone], 2, drill_participant=True)
    send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher, drill=True)
    old = send_alert(incident, AlertKind.CHECKPOINT, acting_user=dispatcher)
    Alert.objects.filter(pk=old.pk).update(valid_until=timezone.now() - timedelta(minutes=1))

    page = neighbour.get(reverse("public_alerts")).content.decode()

    assert "DRILL" not in page and "Checkpoint" not in page
    assert "There is no active alert right now." in page


def test_a_false_alarm_replaces_the_alert_it_corrects(neighbour, chapter, zone, dispatcher, incident):
    add_subscribers(chapter, [zone], 2)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    send_false_alarm(alert, acting_user=dispatcher)

    page = neighbour.get(reverse("public_alerts")).content.decode()

    assert "FALSE ALARM" in page
    assert "Immigration enforcement confirmed" not in page


def test_an_unknown_alert_link_is_not_found(neighbour, db):
    assert neighbour.get("/alerts/6f1c1a44-1111-4bbb-8ccc-000000000000/").status_code == 404
    assert neighbour.get("/alerts/not-a-uuid/").status_code == 404
