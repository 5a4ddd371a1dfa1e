from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from vigil.accounts.models import User
from vigil.core.models import AuditEvent
from vigil.incidents import actions, selectors
from vigil.incidents.actions import (
    CorroborationRequired,
    InvalidInput,
    InvalidTransition,
    ReasonRequired,
    close_incident,
    confirm_incident,
    corroboration_status,
    log_hotline_call,
    mark_false_alarm,
    merge_incidents,
    record_field_report,
    reopen_incident,
    split_reports,
    start_verifying,
    transition_incident,
)
from vigil.incidents.models import EventKind, FieldReport, Incident, IncidentEvent, IncidentReport, Outcome, Status
from vigil.incidents.tests.conftest import CICERO, FAR_AWAY, age_incident, incident_of, set_status
from vigil.intake.actions import ReportInput
from vigil.intake.models import Report

# --- the corroboration gate ------------------------------------------------------------


def test_a_single_anonymous_report_cannot_be_confirmed(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(CorroborationRequired) as refused:
        confirm_incident(incident, acting_user=dispatcher, reason="Sounds real")

    assert "independent sources" in str(refused.value)
    incident.refresh_from_db()
    assert incident.status == Status.NEW
    assert not AuditEvent.objects.filter(action__startswith="incident.status").exists()
    assert corroboration_status(incident) == {"on_scene": False, "independent_sources": 1, "satisfied": False}


def test_one_neighbour_reporting_three_times_is_still_one_source(report_from, dispatcher):
    first = report_from("web", source="ip-1")
    report_from("web", source="ip-1")
    report_from("web", source="ip-1")
    incident = incident_of(first)
    assert incident.report_count == 3

    with pytest.raises(CorroborationRequired):
        confirm_incident(incident, acting_user=dispatcher, reason="Three reports")


def test_reports_with_no_source_at_all_do_not_corroborate_each_other(report_from, dispatcher):
    first = report_from("web")
    report_from("web")

    assert corroboration_status(incident_of(first))["independent_sources"] == 0
    with pytest.raises(CorroborationRequired):
        confirm_incident(incident_of(first), acting_user=dispatcher, reason="Two reports")


def test_two_independent_sources_let_the_dispatcher_confirm(report_from, dispatcher):
    first = report_from("web", source="ip-1")
    report_from("sms", source="phone-2")
    incident = incident_of(first)

    confirm_incident(incident, acting_user=dispatcher, reason="Two neighbours, same block")

    incident.refresh_from_db()
    assert incident.status == Status.CONFIRMED
    assert incident.decided_by == dispatcher
    assert incident.last_action_at is not None
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.STATUS)
    assert (event.from_status, event.to_status, event.actor) == (Status.NEW, Status.CONFIRMED, dispatcher)
    assert event.reason == "Two neighbours, same block"
    stored = IncidentEvent.objects.filter(pk=event.pk).values_list("reason", flat=True).get()
    assert b"same block" not in bytes(stored)
    audit = AuditEvent.objects.get(action="incident.status.confirmed")
    assert (audit.actor, audit.object_id, audit.chapter_id) == (dispatcher, str(incident.pk), incident.chapter_id)


def test_a_hotline_call_plus_a_web_report_are_two_sources(report_from, dispatcher, chapter):
    web = report_from("web", source="ip-1")
    log_hotline_call(
        acting_user=dispatcher, chapter=chapter, data=ReportInput(channel="hotline", latitude=41.8575, longitude=-87.66)
    )

    assert corroboration_status(incident_of(web))["satisfied"] is True


def test_a_hotline_caller_who_also_texted_is_one_source(report_from, dispatcher, chapter):
    from vigil.core.phones import normalize_phone

    sms = report_from("sms", source=normalize_phone("312-555-0100"))
    log_hotline_call(
        acting_user=dispatcher,
        chapter=chapter,
        data=ReportInput(channel="hotline", latitude=41.8575, longitude=-87.66, contact_phone="(312) 555-0100"),
    )

    assert corroboration_status(incident_of(sms))["independent_sources"] == 1


def test_a_verifier_on_scene_lets_the_dispatcher_confirm_a_single_report(report_from, dispatcher, verifier):
    incident = incident_of(report_from("web", source="ip-1"))

    record_field_report(
        incident,
        acting_user=verifier,
        on_scene=True,
        size="About 8 agents",
        activity="Detaining workers at the loading dock",
        location="Rear of the building",
        unit="ICE ERO",
        observed_time="10:40",
        equipment="Vests, two unmarked vans",
        outcome=Outcome.CONFIRMED,
        notes="Watched from across the street",
    )

    assert incident.status == Status.VERIFYING  # the field report moves it; it does not confirm
    assert corroboration_status(incident) == {"on_scene": True, "independent_sources": 1, "satisfied": True}
    confirm_incident(incident, acting_user=dispatcher, reason="Vero saw it")
    assert incident.status == Status.CONFIRMED
    kinds = [event.kind for event in selectors.incident_timeline(incident)]
    assert kinds[-3:] == [EventKind.FIELD_REPORT, EventKind.STATUS, EventKind.STATUS]
    assert AuditEvent.objects.filter(action="incident.field_report", actor=verifier).count() == 1
    field = FieldReport.objects.get()
    assert field.notes == "Watched from across the street"
    assert "not individuals" in str(FieldReport._meta.get_field("unit").help_text)


@pytest.mark.parametrize(
    ("on_scene", "outcome"),
    [(False, Outcome.CONFIRMED), (True, Outcome.UNVERIFIED), (True, Outcome.OTHER_AGENCY)],
)
def test_a_field_report_that_saw_nothing_on_scene_does_not_open_the_gate(report_from, verifier, on_scene, outcome):
    incident = incident_of(report_from("web", source="ip-1"))

    record_field_report(incident, acting_user=verifier, on_scene=on_scene, outcome=outcome)

    assert corroboration_status(incident)["satisfied"] is False
    assert incident.status == Status.NEW


def test_a_field_report_by_a_legal_coordinator_does_not_count_and_is_refused(report_from, legal_coordinator):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(Http404):
        record_field_report(incident, acting_user=legal_coordinator, on_scene=True, outcome=Outcome.CONFIRMED)


def test_a_field_report_with_an_unknown_outcome_is_refused(report_from, verifier):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(InvalidInput):
        record_field_report(incident, acting_user=verifier, on_scene=True, outcome="probably")


# --- who may move an incident -----------------------------------------------------------


def test_a_verifier_can_start_verifying_but_not_confirm(report_from, verifier):
    first = report_from("web", source="ip-1")
    report_from("sms", source="phone-2")
    incident = incident_of(first)

    start_verifying(incident, acting_user=verifier, reason="On my way")
    assert incident.status == Status.VERIFYING

    with pytest.raises(PermissionDenied):
        confirm_incident(incident, acting_user=verifier, reason="Looks real")
    with pytest.raises(PermissionDenied):
        mark_false_alarm(incident, acting_user=verifier, reason="Nothing here")


@pytest.mark.parametrize("persona", ["dispatcher", "organizer", "admin_user"])
def test_dispatching_staff_can_decide(report_from, request, persona):
    user = request.getfixturevalue(persona)
    incident = incident_of(report_from("web", source="ip-1"))

    mark_false_alarm(incident, acting_user=user, reason="Delivery truck")

    assert incident.status == Status.FALSE_ALARM
    assert incident.decided_by == user


def test_the_outsider_gets_404_for_pilsen_incidents(report_from, outsider):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(Http404):
        selectors.access_incident_by_id(outsider, incident.pk)
    with pytest.raises(Http404):
        selectors.access_incident_by_id(outsider, incident.pk + 1000)
    with pytest.raises(Incident.DoesNotExist):
        close_incident(incident, acting_user=outsider, reason="Not mine")
    with pytest.raises(Incident.DoesNotExist):
        actions.claim_incident(incident, acting_user=outsider)
    assert selectors.board_incidents(outsider) == []


def test_a_legal_coordinator_does_not_see_the_dispatch_board(report_from, legal_coordinator, verifier):
    incident = incident_of(report_from("web", source="ip-1"))

    assert selectors.board_incidents(legal_coordinator) == []
    with pytest.raises(Http404):
        selectors.access_incident_by_id(legal_coordinator, incident.pk)
    assert selectors.access_incident_by_id(verifier, incident.pk) == incident


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(report_from, dispatcher, reason):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(ReasonRequired):
        close_incident(incident, acting_user=dispatcher, reason=reason)


ALLOWED = [
    (Status.NEW, Status.VERIFYING),
    (Status.NEW, Status.CONFIRMED),
    (Status.NEW, Status.FALSE_ALARM),
    (Status.NEW, Status.UNVERIFIED),
    (Status.NEW, Status.CLOSED),
    (Status.VERIFYING, Status.CONFIRMED),
    (Status.VERIFYING, Status.FALSE_ALARM),
    (Status.VERIFYING, Status.UNVERIFIED),
    (Status.CONFIRMED, Status.CLOSED),
    (Status.CONFIRMED, Status.FALSE_ALARM),
    (Status.FALSE_ALARM, Status.CLOSED),
    (Status.FALSE_ALARM, Status.VERIFYING),
    (Status.UNVERIFIED, Status.CLOSED),
    (Status.UNVERIFIED, Status.VERIFYING),
    (Status.CLOSED, Status.VERIFYING),
]


@pytest.mark.parametrize(("from_status", "to_status"), [(a, b) for a in Status for b in Status])
def test_the_transition_table(report_from, dispatcher, from_status, to_status):
    first = report_from("web", source="ip-1")
    report_from("sms", source="phone-2")
    incident = set_status(incident_of(first), from_status)

    if (from_status, to_status) in ALLOWED:
        transition_incident(incident, to_status, acting_user=dispatcher, reason="Per protocol")
        assert Incident.objects.get(pk=incident.pk).status == to_status
    else:
        with pytest.raises(InvalidTransition):
            transition_incident(incident, to_status, acting_user=dispatcher, reason="Per protocol")
        assert Incident.objects.get(pk=incident.pk).status == from_status


def test_an_unknown_status_is_an_invalid_transition(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(InvalidTransition):
        transition_incident(incident, "raided", acting_user=dispatcher, reason="?")


def test_a_closed_incident_can_be_reopened_but_not_a_new_one(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))
    with pytest.raises(InvalidTransition):
        reopen_incident(incident, acting_user=dispatcher, reason="Again")

    close_incident(incident, acting_user=dispatcher, reason="Quiet")
    reopen_incident(incident, acting_user=dispatcher, reason="New calls from the block")

    assert incident.status == Status.VERIFYING


# --- merge and split ---------------------------------------------------------------------


def test_merge_moves_every_report_and_closes_the_duplicates(report_from, dispatcher):
    target_report = report_from("web", source="ip-1")
    duplicate_report = report_from("sms", source="phone-2", at=FAR_AWAY)
    other_report = report_from("hotline", source="phone-3", at=(41.8300, -87.6300))
    target, duplicate, other = (incident_of(r) for r in (target_report, duplicate_report, other_report))
    earlier = timezone.now() - timedelta(minutes=30)
    Report.objects.filter(pk=duplicate_report.pk).update(received_at=earlier)

    merge_incidents(target, [duplicate, other], acting_user=dispatcher, reason="Same raid, caller misplaced it")

    target.refresh_from_db()
    assert IncidentReport.objects.filter(incident=target).count() == 3
    assert target.report_count == 3
    assert target.channels == ["hotline", "sms", "web"]
    assert target.first_report_at == earlier
    assert target.last_report_at == Report.objects.get(pk=other_report.pk).received_at
    for source in (duplicate, other):
        source.refresh_from_db()
        assert (source.status, source.report_count) == (Status.CLOSED, 0)
        event = source.events.get(kind=EventKind.MERGE)
        assert event.other_incident == target
        assert event.reason == "Same raid, caller misplaced it"
    assert target.events.filter(kind=EventKind.MERGE).count() == 2
    assert AuditEvent.objects.filter(action="incident.merge").count() == 2


def test_merging_in_another_chapters_incident_is_refused(report_from, dispatcher):
    pilsen = incident_of(report_from("web", source="ip-1"))
    cicero = incident_of(report_from("web", source="ip-2", at=CICERO))

    with pytest.raises(Incident.DoesNotExist):
        merge_incidents(pilsen, [cicero], acting_user=dispatcher, reason="Same raid")

    assert IncidentReport.objects.filter(incident=cicero).count() == 1


def test_merge_needs_another_incident(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(InvalidInput):
        merge_incidents(incident, [incident], acting_user=dispatcher, reason="Itself")


def test_split_moves_the_chosen_reports_into_a_new_incident(report_from, dispatcher):
    first = report_from("web", source="ip-1", kind="workplace")
    second = report_from("sms", source="phone-2", kind="checkpoint")
    third = report_from("sms", source="phone-3", kind="checkpoint")
    incident = incident_of(first)
    confirm_incident(incident, acting_user=dispatcher, reason="Two sources")

    split = split_reports(incident, [second.pk, str(third.pk)], acting_user=dispatcher, reason="Checkpoint is separate")

    incident.refresh_from_db()
    assert (incident.report_count, incident.channels, incident.status) == (1, ["web"], Status.CONFIRMED)
    assert (split.report_count, split.channels, split.status, split.kind) == (2, ["sms"], Status.NEW, "checkpoint")
    assert split.chapter_id == incident.chapter_id
    assert incident_of(second) == split
    assert incident.events.get(kind=EventKind.SPLIT).other_incident == split
    assert split.events.get(kind=EventKind.SPLIT).other_incident == incident


def test_split_must_leave_a_report_behind_and_take_only_this_incidents_reports(report_from, dispatcher):
    first = report_from("web", source="ip-1")
    second = report_from("sms", source="phone-2")
    elsewhere = report_from("sms", source="phone-3", at=FAR_AWAY)
    incident = incident_of(first)

    with pytest.raises(InvalidInput):
        split_reports(incident, [first.pk, second.pk], acting_user=dispatcher, reason="All")
    with pytest.raises(InvalidInput):
        split_reports(incident, [elsewhere.pk], acting_user=dispatcher, reason="Not ours")
    with pytest.raises(InvalidInput):
        split_reports(incident, ["not-a-uuid"], acting_user=dispatcher, reason="Garbage")
    with pytest.raises(InvalidInput):
        split_reports(incident, [], acting_user=dispatcher, reason="Nothing")


# --- board -------------------------------------------------------------------------------


def test_the_board_puts_incidents_waiting_too_long_first(report_from, dispatcher, settings):
    waiting = incident_of(report_from("web", source="ip-1", at=FAR_AWAY))
    age_incident(waiting, minutes=settings.BOARD_STALE_MINUTES + 1)
    fresh = incident_of(report_from("web", source="ip-2"))
    confirmed_old = incident_of(report_from("web", source="ip-3", at=(41.8300, -87.6300)))
    age_incident(confirmed_old, minutes=settings.BOARD_STALE_MINUTES + 5)
    set_status(confirmed_old, Status.CONFIRMED)
    closed = incident_of(report_from("web", source="ip-4", at=(41.8000, -87.6000)))
    set_status(closed, Status.CLOSED)

    rows = selectors.board_incidents(dispatcher)

    assert [row.incident for row in rows] == [waiting, fresh, confirmed_old]
    assert [row.waiting_too_long for row in rows] == [True, False, False]
    assert rows[1].zone_name == "Pilsen"
    assert rows[1].channels == ["web"]
    assert rows[0].age >= timedelta(minutes=settings.BOARD_STALE_MINUTES)
    assert closed in [row.incident for row in selectors.board_incidents(dispatcher, include_closed=True)]


def test_a_claimed_incident_shows_who_holds_it(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))
    actions.claim_incident(incident, acting_user=dispatcher)

    (row,) = selectors.board_incidents(dispatcher)

    assert row.claimed_by == "dana.dispatcher"
    assert row.since_last_action < timedelta(minutes=1)


@pytest.mark.parametrize("count", [5, 50])
def test_the_board_query_count_does_not_grow_with_rows(report_from, dispatcher, django_assert_num_queries, count):
    for n in range(count):
        lat = 41.70 + (n % 10) * 0.04
        lng = -87.62 + (n // 10) * 0.04  # east of Cicero: every point is Pilsen's
        report = report_from("web", source=f"ip-{n}", at=(lat, lng))
        if n % 2:
            actions.claim_incident(incident_of(report), acting_user=dispatcher)
    fresh_user = User.objects.get(pk=dispatcher.pk)

    with django_assert_num_queries(2):  # the user's chapters, then the rows
        rows = selectors.board_incidents(fresh_user)
        assert len(rows) == count
        assert all(row.zone_name is not None and row.claimed_by is not None for row in rows)


def test_the_board_version_changes_with_every_change_on_the_board(report_from, dispatcher, outsider):
    start = selectors.board_version(dispatcher)
    incident = incident_of(report_from("web", source="ip-1"))
    after_report = selectors.board_version(dispatcher)
    actions.claim_incident(incident, acting_user=dispatcher)
    after_claim = selectors.board_version(dispatcher)
    close_incident(incident, acting_user=dispatcher, reason="Quiet")
    after_close = selectors.board_version(dispatcher)

    assert len({start, after_report, after_claim, after_close}) == 4
    assert selectors.board_version(dispatcher) == after_close
    outsider_view = selectors.board_version(outsider)
    report_from("web", source="ip-2")
    assert selectors.board_version(outsider) == outsider_view


# --- reporter contact ----------------------------------------------------------------------


def test_revealing_a_reporters_number_writes_an_audit_row(report_from, dispatcher):
    report = report_from("sms", source="phone-1", contact_phone="(312) 555-0100")

    number = selectors.reveal_reporter_contact(dispatcher, report)

    assert number == "+13125550100"
    audit = AuditEvent.objects.get(action="report.contact_view")
    assert (audit.actor, audit.object_id) == (dispatcher, str(report.pk))


@pytest.mark.parametrize("persona", ["verifier", "legal_coordinator", "organizer", "outsider"])
def test_only_dispatchers_and_admins_of_the_chapter_see_a_reporters_number(report_from, request, persona):
    report = report_from("sms", source="phone-1", contact_phone="(312) 555-0100")

    with pytest.raises(Http404):
        selectors.reveal_reporter_contact(request.getfixturevalue(persona), report)

    assert not AuditEvent.objects.filter(action="report.contact_view").exists()


def test_an_expired_contact_reveals_nothing(report_from, admin_user):
    report = report_from("sms", source="phone-1", contact_phone="(312) 555-0100")
    report.contact_expires_at = timezone.now() - timedelta(minutes=1)

    assert selectors.reveal_reporter_contact(admin_user, report) == ""


# --- timeline, reports, rumor log -------------------------------------------------------------


def test_the_timeline_and_reports_read_in_order(report_from, dispatcher):
    first = report_from("web", source="ip-1")
    second = report_from("sms", source="phone-2")
    incident = incident_of(first)
    confirm_incident(incident, acting_user=dispatcher, reason="Two sources")

    assert [r.pk for r in selectors.incident_reports(incident)] == [first.pk, second.pk]
    assert [e.kind for e in selectors.incident_timeline(incident)] == [
        EventKind.CREATED,
        EventKind.REPORT,
        EventKind.STATUS,
    ]


def test_the_rumor_log_shows_decisions_by_zone_and_hour_only(report_from, dispatcher):
    confirmed = incident_of(report_from("web", source="ip-1", kind="checkpoint", address="1800 S Blue Island"))
    report_from("sms", source="phone-2")
    debunked = incident_of(report_from("web", source="ip-3", at=FAR_AWAY, kind="home"))
    pending = incident_of(report_from("web", source="ip-4", at=(41.8300, -87.6300)))
    confirm_incident(confirmed, acting_user=dispatcher, reason="Two sources")
    close_incident(confirmed, acting_user=dispatcher, reason="Over")
    mark_false_alarm(debunked, acting_user=dispatcher, reason="It was a film crew")

    log = selectors.rumor_log()

    assert {(e.outcome, e.kind) for e in log} == {(Status.CONFIRMED, "checkpoint"), (Status.FALSE_ALARM, "home")}
    entry = next(e for e in log if e.outcome == Status.CONFIRMED)
    assert entry.zone_name == "Pilsen"
    assert (entry.hour.minute, entry.hour.second, entry.hour.microsecond) == (0, 0, 0)
    public = repr(log)
    for secret in ("Blue Island", "Two sources", "film crew", confirmed.cell, "dana"):
        assert secret not in public
    assert pending.pk not in [e for e in log]


def test_a_retracted_confirmation_shows_as_a_false_alarm_in_the_rumor_log(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))
    report_from("sms", source="phone-2")
    confirm_incident(incident, acting_user=dispatcher, reason="Two sources")
    mark_false_alarm(incident, acting_user=dispatcher, reason="Both were the same prank")

    assert [e.outcome for e in selectors.rumor_log()] == [Status.FALSE_ALARM]


def test_a_field_report_with_an_overlong_part_is_refused(report_from, verifier):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises(InvalidInput) as refused:
        record_field_report(incident, acting_user=verifier, on_scene=True, outcome=Outcome.CONFIRMED, unit="x" * 201)

    assert "Unit" in str(refused.value)
    assert not FieldReport.objects.exists()


# --- hotline calls ---------------------------------------------------------------------------


def test_a_call_with_no_known_place_stays_with_the_chapter_that_logged_it(report_from, outsider, other_chapter):
    report_from("web", source="ip-1")  # Pilsen is the first chapter: intake's fallback

    call = log_hotline_call(
        acting_user=outsider, chapter=other_chapter, data=ReportInput(channel="hotline", details="Vans on a highway")
    )

    call.refresh_from_db()
    assert call.chapter == other_chapter
    assert incident_of(call).chapter == other_chapter
    assert Incident.objects.filter(chapter=other_chapter).count() == 1


def test_a_dispatcher_cannot_log_a_call_for_another_chapter(dispatcher, other_chapter, zone):
    with pytest.raises(Http404):
        log_hotline_call(acting_user=dispatcher, chapter=other_chapter, data=ReportInput(channel="hotline"))

    assert not Report.objects.exists()


def test_a_verifier_cannot_log_a_call(verifier, chapter, zone):
    with pytest.raises(PermissionDenied):
        log_hotline_call(acting_user=verifier, chapter=chapter, data=ReportInput(channel="hotline", zip_code="60608"))


def test_a_call_with_a_bad_callback_number_is_refused(dispatcher, chapter, zone):
    with pytest.raises(InvalidInput):
        log_hotline_call(
            acting_user=dispatcher, chapter=chapter, data=ReportInput(channel="hotline", contact_phone="call me")
        )


def test_merge_keeps_counting_reports_that_retention_already_purged(report_from, dispatcher):
    target = incident_of(report_from("web", source="ip-1"))
    report_from("web", source="ip-2")
    old = report_from("sms", source="phone-3", at=FAR_AWAY)
    source = incident_of(old)
    IncidentReport.objects.filter(report=old).delete()  # what the purge does to raw reports

    merge_incidents(target, [source], acting_user=dispatcher, reason="Same raid")

    target.refresh_from_db()
    assert target.report_count == 3
    assert target.channels == ["sms", "web"]
