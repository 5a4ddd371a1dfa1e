"""Paging verifiers: who gets paged, escalation on a controlled clock, the one lead, the page text."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from vigil.accounts.models import User
from vigil.channels.models import Delivery, Message, Purpose
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.incidents.models import EventKind, Incident, IncidentEvent, IncidentReport, Status
from vigil.intake import sms
from vigil.intake.actions import ReportInput, receive_report
from vigil.responders import paging
from vigil.responders.models import (
    Assignment,
    PageRecipient,
    PageResponse,
    Paging,
    PagingStage,
    Responder,
    ResponderStatus,
    Shift,
    ShiftKind,
)
from vigil.responders.tests.conftest import make_responder, put_on_call, report_in

ESCALATE = timedelta(seconds=settings.PAGE_ESCALATE_SECONDS)
TICK = timedelta(seconds=1)


def incident_in(zone: Zone | None, *, kind: str = "home") -> Incident:
    """A NEW incident in `zone` written directly (no signal: the test decides when to page)."""
    now = timezone.now()
    return Incident.objects.create(
        chapter=zone.chapter if zone else Chapter.objects.get(slug="pilsen"),
        kind=kind,
        zone=zone,
        first_report_at=now,
        last_report_at=now,
        report_count=1,
    )


def paged(incident: Incident) -> set[Responder]:
    return {
        row.responder for row in PageRecipient.objects.filter(paging__incident=incident).select_related("responder")
    }


def timeline(incident: Incident) -> list[str]:
    return list(IncidentEvent.objects.filter(incident=incident).order_by("at", "kind").values_list("kind", flat=True))


# --- Who is paged ----------------------------------------------------------------------------


def test_only_trained_on_call_rested_under_hours_enabled_volunteers_are_paged(
    chapter: Chapter, zone: Zone, volunteers, ana: Responder
) -> None:
    untrained = volunteers(10, zone=zone, trained=False)
    resting = volunteers(11, zone=zone)
    resting.rest_until = timezone.now() + timedelta(hours=5)
    resting.save()
    over_hours = volunteers(12)
    put_on_call(over_hours, zone, since=timezone.now() - timedelta(hours=60), hours=72)
    muted = volunteers(13, zone=zone)
    assert muted.endpoint is not None
    muted.endpoint.disabled_at = timezone.now()
    muted.endpoint.save()
    suspended = volunteers(14, zone=zone, status=ResponderStatus.SUSPENDED)
    off_duty = volunteers(15)  # trained, on no rotation
    taken_off = volunteers(16, zone=zone)
    Shift.objects.create(
        chapter=chapter,
        responder=taken_off,
        kind=ShiftKind.OFF,
        starts_at=timezone.now() - timedelta(minutes=5),
        ends_at=timezone.now() + timedelta(hours=3),
        created_at=timezone.now(),
    )
    incident = incident_in(zone)

    result = paging.start_paging(incident)

    assert paged(incident) == {ana}
    assert result.stage == PagingStage.ZONE
    assert result.deadline is not None
    for nobody in (untrained, resting, over_hours, muted, suspended, off_duty, taken_off):
        assert nobody not in paged(incident)


def test_a_page_writes_one_message_per_language_and_a_delivery_ahead_of_the_queue(
    zone: Zone, ana: Responder, beto: Responder, elena: Responder
) -> None:
    incident = incident_in(zone)
    now = timezone.now()

    result = paging.start_paging(incident, now=now)

    messages = Message.objects.filter(purpose=Purpose.PAGE)
    assert sorted(messages.values_list("language", flat=True)) == ["en", "es"]
    assert len({m.batch for m in messages}) == 1
    assert all(m.valid_until == now + timedelta(minutes=settings.PAGE_VALID_MINUTES) for m in messages)
    deliveries = Delivery.objects.filter(message__in=messages)
    assert deliveries.count() == 3
    assert all(d.next_attempt_at < now - timedelta(hours=12) for d in deliveries)
    assert deliveries.get(endpoint=elena.endpoint).message.language == "es"
    assert result.deadline == now + ESCALATE
    assert timeline(incident) == [EventKind.PAGED]
    assert AuditEvent.objects.filter(action="paging.start", object_id=str(result.pk)).exists()


def test_paging_is_once_per_incident(zone: Zone, ana: Responder) -> None:
    incident = incident_in(zone)
    first = paging.start_paging(incident)
    again = paging.start_paging(incident)
    assert first.pk == again.pk
    assert PageRecipient.objects.count() == 1
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize("language", ["en", "es"])
def test_page_body_has_no_personal_data_and_fits_one_segment(zone: Zone, language: str) -> None:
    report = receive_report(
        ReportInput(
            channel="sms",
            kind="home",
            zip_code="60608",
            address="1234 S Secret St",
            details="They took Juan Perez from his home",
            contact_phone="+13125559876",
        )
    )
    incident = IncidentReport.objects.select_related("incident__zone").get(report=report).incident
    long_zone = Zone.objects.create(chapter=zone.chapter, name="Z" * 120, cells=[])
    accented = Zone.objects.create(chapter=zone.chapter, name="Pilsén Óeste Ñuñoa Río Límite Más Allá", cells=[])

    for where in (zone, long_zone, accented, None):
        incident.zone = where
        for kind in ("home", "workplace", "checkpoint", "arrest", "vehicles", "other"):
            incident.kind = kind
            body = paging.page_body(incident, language)
            assert sms.sms_segments(body) == 1, body
            assert f"#{incident.pk}" in body
            for secret in ("Secret", "1234", "Juan", "Perez", "9876", "60608"):
                assert secret not in body


def test_a_new_report_pages_the_zone_once_it_is_committed(
    zone: Zone, ana: Responder, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        incident = report_in()
    assert incident.zone == zone
    assert paged(incident) == {ana}


def test_the_sweep_pages_an_incident_the_signal_missed(zone: Zone, ana: Responder) -> None:
    incident = incident_in(zone)
    assert paging.page_new_incidents(timezone.now()) == 1
    assert paged(incident) == {ana}
    assert paging.page_new_incidents(timezone.now()) == 0


def test_an_incident_without_a_zone_goes_to_the_backup_list(chapter: Chapter, ana: Responder, dario: Responder) -> None:
    incident = incident_in(None)
    result = paging.start_paging(incident)
    assert result.stage == PagingStage.BACKUP
    assert paged(incident) == {dario}


# --- Escalation --------------------------------------------------------------------------------


def test_escalation_zone_then_ring_then_backup_then_dispatcher_alarm(
    zone: Zone, ana: Responder, fede: Responder, dario: Responder
) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    assert paged(incident) == {ana}

    assert paging.escalate_due(t0 + ESCALATE - TICK) == 0
    assert paging.escalate_due(t0 + ESCALATE) == 1
    t1 = t0 + ESCALATE
    current = Paging.objects.get(incident=incident)
    assert current.stage == PagingStage.RING
    assert current.deadline == t1 + ESCALATE
    assert paged(incident) == {ana, fede}

    assert paging.escalate_due(t1 + ESCALATE - TICK) == 0
    assert paging.escalate_due(t1 + ESCALATE) == 1
    t2 = t1 + ESCALATE
    current.refresh_from_db()
    assert current.stage == PagingStage.BACKUP
    assert paged(incident) == {ana, fede, dario}

    assert paging.escalate_due(t2 + ESCALATE - TICK) == 0
    assert paging.escalate_due(t2 + ESCALATE) == 1
    current.refresh_from_db()
    assert current.stage == PagingStage.DISPATCHER
    assert current.alarm_at == t2 + ESCALATE
    assert current.deadline is None
    assert paging.escalate_due(t2 + 10 * ESCALATE) == 0

    assert timeline(incident) == [
        EventKind.PAGED,
        EventKind.ESCALATED,
        EventKind.PAGED,
        EventKind.ESCALATED,
        EventKind.PAGED,
        EventKind.ALARM,
    ]
    assert AuditEvent.objects.filter(action="paging.escalate").count() == 3
    # Each volunteer was paged once: a stage never pages the earlier ones again.
    assert Delivery.objects.count() == 3


def test_a_stage_with_nobody_to_page_escalates_at_once(lone_zone: Zone, dario: Responder) -> None:
    incident = incident_in(lone_zone)
    result = paging.start_paging(incident)
    assert result.stage == PagingStage.BACKUP
    assert paged(incident) == {dario}
    assert timeline(incident) == [EventKind.ESCALATED, EventKind.ESCALATED, EventKind.PAGED]


def test_nobody_at_all_alarms_the_dispatcher_at_once(lone_zone: Zone) -> None:
    incident = incident_in(lone_zone)
    result = paging.start_paging(incident)
    assert result.stage == PagingStage.DISPATCHER
    assert result.alarm_at is not None
    assert EventKind.ALARM in timeline(incident)


def test_a_decided_incident_stops_paging(zone: Zone, ana: Responder, dispatcher: User) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    Incident.objects.filter(pk=incident.pk).update(status=Status.FALSE_ALARM)

    assert paging.escalate_due(t0 + ESCALATE) == 0
    current = Paging.objects.get(incident=incident)
    assert current.deadline is None
    assert current.ended_at is not None
    assert current.stage == PagingStage.ZONE


def test_escalation_is_claimed_once_by_two_workers(zone: Zone, ana: Responder, fede: Responder) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    row = Paging.objects.get(incident=incident)
    assert row.deadline is not None

    assert paging.escalate_one(row.pk, row.stage, row.deadline, t0 + ESCALATE) is True
    # The second worker read the same (stage, deadline) before the first committed.
    assert paging.escalate_one(row.pk, row.stage, row.deadline, t0 + ESCALATE) is False
    assert AuditEvent.objects.filter(action="paging.escalate").count() == 1


def test_every_decline_in_a_stage_escalates_at_once(
    zone: Zone, ana: Responder, beto: Responder, fede: Responder
) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)

    paging.respond(ana, PageResponse.DECLINED, now=t0 + TICK)
    assert Paging.objects.get(incident=incident).stage == PagingStage.ZONE
    paging.respond(beto, PageResponse.DECLINED, now=t0 + 2 * TICK)

    current = Paging.objects.get(incident=incident)
    assert current.stage == PagingStage.RING
    assert paged(incident) == {ana, beto, fede}
    assert timeline(incident).count(EventKind.DECLINED) == 2


# --- Answers --------------------------------------------------------------------------------


def test_first_accept_leads_the_next_joins(zone: Zone, ana: Responder, beto: Responder) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)

    first = paging.respond(ana, PageResponse.ACCEPTED, eta_minutes=15, now=t0 + TICK)
    second = paging.respond(beto, PageResponse.ACCEPTED, eta_minutes=5, now=t0 + 2 * TICK)

    assert first.outcome == "lead"
    assert second.outcome == "joined"
    current = Paging.objects.get(incident=incident)
    assert current.lead == ana
    assert current.deadline is None
    assert current.acknowledged_at == t0 + TICK
    lead = Assignment.objects.get(incident=incident, responder=ana)
    assert lead.is_lead
    assert lead.eta_at == t0 + TICK + timedelta(minutes=15)
    assert not Assignment.objects.get(incident=incident, responder=beto).is_lead
    assert EventKind.ACCEPTED in timeline(incident)
    assert EventKind.JOINED in timeline(incident)
    # Acknowledged: no more escalation.
    assert paging.escalate_due(t0 + 3 * ESCALATE) == 0


def test_on_scene_after_accepting_and_accepting_by_on_scene(zone: Zone, ana: Responder, beto: Responder) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    paging.respond(ana, PageResponse.ACCEPTED, now=t0)

    there = paging.respond(ana, PageResponse.ON_SCENE, now=t0 + 10 * TICK)
    assert there.outcome == "on_scene"
    assert Assignment.objects.get(responder=ana).on_scene_at == t0 + 10 * TICK

    straight_there = paging.respond(beto, PageResponse.ON_SCENE, now=t0 + 20 * TICK)
    assert straight_there.outcome == "on_scene"
    joined = Assignment.objects.get(responder=beto)
    assert not joined.is_lead
    assert joined.on_scene_at == t0 + 20 * TICK
    assert timeline(incident).count(EventKind.ON_SCENE) == 2


def test_a_reply_without_an_open_page_does_nothing(zone: Zone, ana: Responder) -> None:
    assert paging.respond(ana, PageResponse.ACCEPTED).outcome == "nothing"
    assert not Assignment.objects.exists()


def test_a_reply_may_name_another_open_incident(zone: Zone, ana: Responder) -> None:
    first = incident_in(zone)
    second = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(first, now=t0)
    paging.start_paging(second, now=t0 + TICK)

    answer = paging.respond(ana, PageResponse.ACCEPTED, incident=first.pk, now=t0 + 2 * TICK)
    assert answer.number == first.pk
    assert Paging.objects.get(incident=first).lead == ana
    assert Paging.objects.get(incident=second).lead is None


def test_a_long_deployment_earns_a_rest(zone: Zone, ana: Responder, beto: Responder) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    paging.respond(ana, PageResponse.ACCEPTED, now=t0)
    paging.respond(beto, PageResponse.ACCEPTED, now=t0)
    done = t0 + timedelta(hours=settings.LONG_DEPLOYMENT_HOURS)

    paging.end_assignment(Assignment.objects.get(responder=ana), done)

    ana.refresh_from_db()
    assert ana.rest_until == done + timedelta(hours=settings.REST_HOURS)
    # Beto, who joined, leads now.
    assert Paging.objects.get(incident=incident).lead == beto
    assert Assignment.objects.get(responder=beto).is_lead
    assert EventKind.ENDED in timeline(incident)


def test_a_short_deployment_earns_no_rest(zone: Zone, ana: Responder) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    paging.respond(ana, PageResponse.ACCEPTED, now=t0)
    paging.end_assignment(Assignment.objects.get(responder=ana), t0 + timedelta(hours=1))
    ana.refresh_from_db()
    assert ana.rest_until is None
    current = Paging.objects.get(incident=incident)
    assert current.lead is None
    assert current.deadline is not None  # Nobody leads: the page counts down again.


# --- A dispatcher's click ------------------------------------------------------------------


def test_a_dispatcher_pages_again_after_nobody_answered(
    zone: Zone, ana: Responder, dispatcher: User, outsider: User, verifier: User
) -> None:
    incident = incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(incident, now=t0)
    for step in range(1, 4):
        paging.escalate_due(t0 + step * ESCALATE)
    assert Paging.objects.get(incident=incident).stage == PagingStage.DISPATCHER

    with pytest.raises(paging.PagingNotFound):
        paging.start_paging(incident, acting_user=outsider)
    with pytest.raises(paging.PagingNotFound):
        paging.start_paging(incident, acting_user=verifier)

    again = paging.start_paging(incident, acting_user=dispatcher, now=t0 + 4 * ESCALATE)
    assert again.stage == PagingStage.ZONE
    assert again.alarm_at is None
    assert again.started_by == dispatcher
    assert Delivery.objects.filter(endpoint=ana.endpoint).count() == 2
    assert PageRecipient.objects.get(responder=ana).paged_at == t0 + 4 * ESCALATE
    assert AuditEvent.objects.filter(action="paging.restart", actor=dispatcher).exists()


# --- Fifty at once --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("count", [50])
def test_fifty_simultaneous_accepts_make_exactly_one_lead(chapter: Chapter, zone: Zone, count: int) -> None:
    crowd = [make_responder(chapter, 100 + n) for n in range(count)]
    for responder in crowd:
        put_on_call(responder, zone)
    incident = incident_in(zone)
    paging.start_paging(incident)
    assert PageRecipient.objects.count() == count
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def accept(responder: Responder) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(paging.respond(responder, PageResponse.ACCEPTED, eta_minutes=10).outcome)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=accept, args=(r,)) for r in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors[:3]
    assert sorted(outcomes).count("lead") == 1
    assert outcomes.count("joined") == count - 1
    current = Paging.objects.get(incident=incident)
    assert Assignment.objects.filter(incident=incident, is_lead=True).get().responder_id == current.lead_id
    assert Assignment.objects.filter(incident=incident).count() == count
    assert IncidentEvent.objects.filter(incident=incident, kind=EventKind.ACCEPTED).count() == 1


# --- Merging duplicates ----------------------------------------------------------------------


def two_paged(zone: Zone, ana: Responder) -> tuple[Incident, Incident]:
    """Two reports of one raid, both paging; Ana leads the one that will be merged away."""
    duplicate, kept = incident_in(zone), incident_in(zone)
    t0 = timezone.now()
    paging.start_paging(duplicate, now=t0)
    paging.start_paging(kept, now=t0)
    paging.respond(ana, PageResponse.ACCEPTED, incident=duplicate.pk, now=t0)
    return duplicate, kept


def test_merging_a_duplicate_moves_its_volunteers_and_its_lead_stops_the_other_page(
    zone: Zone, ana: Responder, beto: Responder, dispatcher: User
) -> None:
    from vigil.incidents.actions import merge_incidents

    duplicate, kept = two_paged(zone, ana)
    paging.respond(beto, PageResponse.ACCEPTED, incident=duplicate.pk)
    assert Paging.objects.get(incident=kept).deadline is not None  # still counting down

    merge_incidents(kept, [duplicate], acting_user=dispatcher, reason="Same raid, two reports")

    moved = {a.responder_id: a for a in Assignment.objects.filter(ended_at__isnull=True)}
    assert {a.incident_id for a in moved.values()} == {kept.pk}
    assert moved[ana.pk].is_lead and not moved[beto.pk].is_lead
    page = Paging.objects.get(incident=kept)
    assert page.lead_id == ana.pk and page.deadline is None
    assert EventKind.ACCEPTED in timeline(kept) and EventKind.JOINED in timeline(kept)


def test_merging_into_an_incident_with_a_lead_makes_the_moved_lead_join(
    zone: Zone, ana: Responder, beto: Responder, dispatcher: User
) -> None:
    from vigil.incidents.actions import merge_incidents

    duplicate, kept = two_paged(zone, ana)
    paging.respond(beto, PageResponse.ACCEPTED, incident=kept.pk)
    paging.respond(beto, PageResponse.ACCEPTED, incident=duplicate.pk)  # on both

    merge_incidents(kept, [duplicate], acting_user=dispatcher, reason="Same raid")

    active = Assignment.objects.filter(ended_at__isnull=True)
    assert sorted((a.responder_id == ana.pk, a.is_lead, a.incident_id) for a in active) == sorted(
        [(True, False, kept.pk), (False, True, kept.pk)]
    )
    assert Paging.objects.get(incident=kept).lead_id == beto.pk
    assert Assignment.objects.get(incident=duplicate, responder=beto).ended_at is not None
