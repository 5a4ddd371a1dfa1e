"""Sending alerts: who may, for what, to whom, and that a failure leaves nothing half-written."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from vigil.alerts.actions import (
    ALERT_EVENT,
    AlertError,
    ApprovalRefused,
    NotConfirmed,
    TemplateNotApproved,
    approve_alert,
    cancel_alert,
    save_template,
    send_alert,
    send_all_clear,
    send_false_alarm,
)
from vigil.alerts.bulk import add_subscribers
from vigil.alerts.models import Alert, AlertKind, AlertStatus, AlertTemplate
from vigil.alerts.selectors import AlertNotFound
from vigil.alerts.tests.alerting import (
    approve_templates,
    confirmed_incident,
    far_zone,
    neighbouring_zone,
    reported_incident,
)
from vigil.channels.models import Delivery, Message
from vigil.core.models import AuditEvent
from vigil.incidents.errors import IncidentNotFound
from vigil.incidents.models import IncidentEvent


@pytest.fixture
def incident(dispatcher, verifier, organizer, zone):
    approve_templates(organizer)
    return confirmed_incident(dispatcher, verifier)


def nothing_written() -> bool:
    return not Alert.objects.exists() and not Message.objects.exists() and not Delivery.objects.exists()


def test_a_dispatcher_alerts_every_subscriber_of_the_zone_in_their_language(chapter, zone, dispatcher, incident):
    add_subscribers(chapter, [zone], 10)
    add_subscribers(chapter, [far_zone(chapter)], 3, start=100)
    before = timezone.now()

    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)

    assert alert.status == AlertStatus.SENDING
    assert alert.recipients == 10
    assert Delivery.objects.count() == 10
    messages = {m.language: m for m in Message.objects.filter(batch=alert.batch)}
    assert set(messages) == {"en", "es"}
    assert "Pilsen" in messages["en"].body and "Immigration enforcement" in messages["en"].body
    assert "inmigracion" in messages["es"].body
    assert messages["en"].url.endswith(f"/alerts/{alert.batch}/")
    assert not messages["en"].is_drill
    expected_until = before + timedelta(minutes=30)
    assert expected_until <= alert.valid_until <= expected_until + timedelta(seconds=30)
    assert messages["es"].valid_until == alert.valid_until
    rows = Delivery.objects.select_related("message", "endpoint__subscriber")
    pairs = {(d.endpoint.subscriber.language, d.message.language) for d in rows}
    assert pairs == {("en", "en"), ("es", "es")}
    assert AuditEvent.objects.filter(action="alert.send", actor=dispatcher, object_id=str(alert.pk)).count() == 1
    assert IncidentEvent.objects.filter(incident=incident, kind=ALERT_EVENT, actor=dispatcher).count() == 1
    assert list(alert.zones.all()) == [zone]


def test_nothing_is_sent_for_an_incident_nobody_confirmed(chapter, zone, dispatcher, organizer):
    approve_templates(organizer)
    add_subscribers(chapter, [zone], 5)
    incident = reported_incident()

    with pytest.raises(NotConfirmed):
        send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)

    assert nothing_written()


def test_only_dispatchers_organizers_and_admins_of_the_chapter_may_send(
    chapter, zone, incident, verifier, legal_coordinator, outsider, organizer, admin_user
):
    add_subscribers(chapter, [zone], 2)
    with pytest.raises(PermissionDenied):
        send_alert(incident, AlertKind.ACTIVITY, acting_user=verifier)
    for stranger in (legal_coordinator, outsider):
        with pytest.raises(IncidentNotFound):
            send_alert(incident, AlertKind.ACTIVITY, acting_user=stranger)
    assert nothing_written()

    assert send_alert(incident, AlertKind.CHECKPOINT, acting_user=organizer).recipients == 2
    assert send_alert(incident, AlertKind.ACTIVITY, acting_user=admin_user).recipients == 2


def test_a_template_edited_since_its_approval_cannot_be_sent(chapter, zone, dispatcher, organizer, incident):
    add_subscribers(chapter, [zone], 2)
    save_template(AlertKind.ACTIVITY, "es", "{network}: Actividad en {zone} a las {time}.", acting_user=organizer)

    with pytest.raises(TemplateNotApproved) as refused:
        send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)

    assert "es" in str(refused.value.message)
    assert nothing_written()


def test_a_follow_up_kind_or_a_bad_ring_is_refused(dispatcher, incident):
    with pytest.raises(AlertError):
        send_alert(incident, AlertKind.ALL_CLEAR, acting_user=dispatcher)
    with pytest.raises(AlertError):
        send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher, ring=9)
    assert nothing_written()


def test_a_ring_reaches_neighbouring_zones_and_not_far_ones(chapter, zone, dispatcher, incident):
    neighbour = neighbouring_zone(chapter, zone)
    far = far_zone(chapter)
    add_subscribers(chapter, [zone], 4)
    add_subscribers(chapter, [neighbour], 3, start=100)
    add_subscribers(chapter, [far], 5, start=200)

    narrow = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    wide = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher, ring=1)

    assert narrow.recipients == 4
    assert wide.recipients == 7
    assert set(wide.zones.all()) == {zone, neighbour}


def test_two_person_approval_needs_a_second_different_staff_member(
    settings, chapter, zone, dispatcher, organizer, incident
):
    settings.ALERT_TWO_PERSON = True
    add_subscribers(chapter, [zone], 6)

    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    assert alert.status == AlertStatus.AWAITING_APPROVAL
    assert not Message.objects.exists() and not Delivery.objects.exists()

    with pytest.raises(ApprovalRefused):
        approve_alert(alert, acting_user=dispatcher)
    assert not Delivery.objects.exists()

    approved = approve_alert(alert, acting_user=organizer)
    assert approved.status == AlertStatus.SENDING
    assert approved.approved_by == organizer
    assert approved.recipients == 6 == Delivery.objects.count()
    assert AuditEvent.objects.filter(action="alert.approve", actor=organizer).count() == 1
    with pytest.raises(ApprovalRefused):
        approve_alert(alert, acting_user=organizer)
    assert Delivery.objects.count() == 6


def test_an_alert_waiting_for_approval_can_be_cancelled_and_then_never_sent(
    settings, chapter, zone, dispatcher, organizer, incident
):
    settings.ALERT_TWO_PERSON = True
    add_subscribers(chapter, [zone], 3)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)

    assert cancel_alert(alert, acting_user=dispatcher).status == AlertStatus.CANCELLED
    with pytest.raises(ApprovalRefused):
        approve_alert(alert, acting_user=organizer)
    assert not Delivery.objects.exists()


def test_a_follow_up_reaches_exactly_the_original_recipients(chapter, zone, dispatcher, incident):
    original_subscribers = add_subscribers(chapter, [zone], 8)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    add_subscribers(chapter, [zone], 4, start=500)  # joined after the alert

    follow_up = send_all_clear(alert, acting_user=dispatcher)

    assert follow_up.follows == alert
    assert follow_up.recipients == 8
    reached = set(
        Delivery.objects.filter(message__batch=follow_up.batch).values_list("endpoint__subscriber__id", flat=True)
    )
    assert reached == {s.pk for s in original_subscribers}
    assert "ALL CLEAR" in Message.objects.get(batch=follow_up.batch, language="en").body
    with pytest.raises(AlertError):
        send_all_clear(alert, acting_user=dispatcher)
    with pytest.raises(AlertError):
        send_false_alarm(follow_up, acting_user=dispatcher)


def test_a_follow_up_is_refused_to_a_stranger(chapter, zone, dispatcher, verifier, outsider, incident):
    add_subscribers(chapter, [zone], 2)
    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    with pytest.raises(AlertNotFound):
        send_false_alarm(alert, acting_user=outsider)
    with pytest.raises(PermissionDenied):
        send_false_alarm(alert, acting_user=verifier)
    assert Alert.objects.count() == 1


def test_a_drill_reaches_only_drill_participants_and_is_labelled(chapter, zone, dispatcher, incident):
    add_subscribers(chapter, [zone], 10)
    volunteers = add_subscribers(chapter, [zone], 3, start=100, drill_participant=True)

    drill = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher, drill=True)
    clear = send_all_clear(drill, acting_user=dispatcher)

    assert drill.is_drill and drill.recipients == 3
    drilled = Delivery.objects.filter(message__batch=drill.batch)
    reached = set(drilled.values_list("endpoint__subscriber__id", flat=True))
    assert reached == {s.pk for s in volunteers}
    texts = {m.language: m for m in Message.objects.filter(batch=drill.batch)}
    assert texts["en"].body.startswith("DRILL: ") and texts["en"].is_drill
    assert texts["es"].body.startswith("SIMULACRO: ")
    assert clear.is_drill and clear.recipients == 3
    assert Message.objects.get(batch=clear.batch, language="es").body.startswith("SIMULACRO: ")


# --- H1 -------------------------------------------------------------------------------------

AUDIT_TABLE = AuditEvent._meta.db_table


def _fail_audit_of_sends() -> None:
    """A real database failure at the last write of send_alert, after every delivery row."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER h1_fail BEFORE INSERT ON {AUDIT_TABLE} WHEN NEW.action = 'alert.send' "
                "BEGIN SELECT RAISE(ABORT, 'h1 injected failure'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION h1_fail() RETURNS trigger AS $$ BEGIN "
                "IF NEW.action = 'alert.send' THEN RAISE EXCEPTION 'h1 injected failure'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER h1_fail BEFORE INSERT ON {AUDIT_TABLE} FOR EACH ROW EXECUTE FUNCTION h1_fail()"
            )


def _stop_failing() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER h1_fail")
        else:
            cursor.execute(f"DROP TRIGGER h1_fail ON {AUDIT_TABLE}")
            cursor.execute("DROP FUNCTION h1_fail()")


def _break_spanish_text() -> None:
    """A stored, approved text that cannot be filled: it fails after the alert and English rows."""
    AlertTemplate.objects.filter(kind=AlertKind.ACTIVITY, language="es").update(body="{zone")


@pytest.mark.django_db(transaction=True)
def test_h1_a_failure_between_alert_creation_and_commit_leaves_nothing_half_written(
    chapter, zone, dispatcher, verifier, organizer
):
    approve_templates(organizer)
    incident = confirmed_incident(dispatcher, verifier)
    add_subscribers(chapter, [zone], 20)
    good_text = AlertTemplate.objects.get(kind=AlertKind.ACTIVITY, language="es").body
    rng = random.Random(1)  # which failure each round, reproducibly
    failures = 0
    for _round in range(100):
        broken_template = rng.random() < 0.5
        if broken_template:
            _break_spanish_text()
        else:
            _fail_audit_of_sends()
        try:
            send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
        except Exception:  # noqa: BLE001 - any failure must roll the whole send back
            failures += 1
        finally:
            if broken_template:
                AlertTemplate.objects.filter(kind=AlertKind.ACTIVITY, language="es").update(body=good_text)
            else:
                _stop_failing()
    assert failures == 100
    assert Alert.objects.count() == 0
    assert Message.objects.count() == 0
    assert Delivery.objects.count() == 0

    alert = send_alert(incident, AlertKind.ACTIVITY, acting_user=dispatcher)
    assert Delivery.objects.filter(message__batch=alert.batch).count() == alert.recipients == 20
    orphans = Delivery.objects.exclude(message__batch__in=Alert.objects.values("batch")).count()
    assert orphans == 0
