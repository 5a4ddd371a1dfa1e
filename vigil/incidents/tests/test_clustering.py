from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from vigil.incidents.actions import claim_incident, confirm_incident, log_hotline_call
from vigil.incidents.models import EventKind, Incident, IncidentReport, Status
from vigil.incidents.tests.conftest import (
    CICERO,
    FAR_AWAY,
    PILSEN_NEARBY,
    age_incident,
    incident_of,
    set_status,
)
from vigil.intake.actions import ReportInput, update_report_place


def test_web_sms_and_hotline_reports_of_one_raid_make_one_incident(report_from, dispatcher, chapter):
    web = report_from("web", source="ip-1", kind="workplace")
    sms = report_from("sms", source="phone-2", at=PILSEN_NEARBY)
    call = log_hotline_call(
        acting_user=dispatcher, chapter=chapter, data=ReportInput(channel="web", latitude=41.8575, longitude=-87.66)
    )

    incident = incident_of(web)
    assert incident_of(sms) == incident
    assert incident_of(call) == incident
    assert call.channel == "hotline"
    assert call.entered_by == dispatcher
    assert incident.report_count == 3
    assert incident.channels == ["hotline", "sms", "web"]
    assert incident.kind == "workplace"
    assert incident.zone is not None and incident.zone.name == "Pilsen"
    assert list(incident.events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.REPORT,
        EventKind.REPORT,
    ]


def test_a_report_three_kilometres_away_opens_its_own_incident(report_from):
    first = report_from("web", source="ip-1")
    far = report_from("web", source="ip-2", at=FAR_AWAY)

    assert incident_of(first) != incident_of(far)
    assert Incident.objects.count() == 2


def test_a_report_after_the_cluster_window_opens_a_new_incident(report_from, settings):
    first = report_from("web", source="ip-1")
    age_incident(incident_of(first), minutes=settings.CLUSTER_WINDOW.total_seconds() // 60 + 1)

    later = report_from("sms", source="phone-2")

    assert incident_of(later) != incident_of(first)


def test_a_report_inside_the_cluster_window_still_joins(report_from, settings):
    first = report_from("web", source="ip-1")
    age_incident(incident_of(first), minutes=settings.CLUSTER_WINDOW.total_seconds() // 60 - 5)

    later = report_from("sms", source="phone-2")

    assert incident_of(later) == incident_of(first)


def test_a_report_in_cicero_never_joins_a_pilsen_incident(report_from, chapter, other_chapter):
    pilsen = report_from("web", source="ip-1")
    cicero = report_from("web", source="ip-2", at=CICERO)

    assert incident_of(pilsen).chapter == chapter
    assert incident_of(cicero).chapter == other_chapter


def test_reports_giving_only_a_zip_code_cluster_together(report_from):
    first = report_from("sms", at=None, zip_code="60608", source="phone-1")
    second = report_from("sms", at=None, zip_code="60608", source="phone-2")

    assert incident_of(first) == incident_of(second)
    assert incident_of(first).zip_code == "60608"


def test_reports_with_no_place_at_all_are_never_clustered(report_from):
    first = report_from("sms", at=None, source="phone-1")
    second = report_from("sms", at=None, source="phone-2")

    assert incident_of(first) != incident_of(second)


def test_a_new_report_on_a_confirmed_incident_shows_as_corroboration(report_from, dispatcher):
    first = report_from("web", source="ip-1")
    report_from("sms", source="phone-2")
    incident = incident_of(first)
    confirm_incident(incident, acting_user=dispatcher, reason="Two neighbours, same block")

    late = report_from("web", source="ip-3")

    link = IncidentReport.objects.get(report=late)
    assert link.incident == incident
    assert link.corroboration is True
    assert Incident.objects.count() == 1
    assert not IncidentReport.objects.get(report=first).corroboration


def test_closed_and_false_alarm_incidents_collect_no_new_reports(report_from):
    first = report_from("web", source="ip-1")
    set_status(incident_of(first), Status.FALSE_ALARM)

    again = report_from("web", source="ip-2")

    assert incident_of(again) != incident_of(first)
    assert incident_of(again).status == Status.NEW


def test_a_report_that_gets_its_place_later_moves_to_the_incident_there(report_from):
    placed = report_from("web", at=None, zip_code="60608", source="ip-1")
    guided = report_from("sms", at=None, source="phone-2")
    lonely = incident_of(guided)
    assert lonely != incident_of(placed)

    update_report_place(guided, zip_code="60608")

    incident = incident_of(placed)
    assert incident_of(guided) == incident
    assert incident.report_count == 2
    assert incident.channels == ["sms", "web"]
    assert not Incident.objects.filter(pk=lonely.pk).exists()


def test_a_lone_report_that_gets_its_place_later_keeps_its_incident(report_from):
    guided = report_from("sms", at=None, source="phone-1")
    incident = incident_of(guided)

    update_report_place(guided, zip_code="60608")

    incident.refresh_from_db()
    assert incident_of(guided) == incident
    assert incident.zip_code == "60608"
    assert incident.cell == guided.cell != ""
    assert incident.zone is not None and incident.zone.name == "Pilsen"


def test_an_incident_staff_worked_on_is_closed_not_deleted_when_its_report_moves(report_from, dispatcher):
    placed = report_from("web", at=None, zip_code="60608", source="ip-1")
    guided = report_from("sms", at=None, source="phone-2")
    worked = incident_of(guided)
    assert claim_incident(worked, acting_user=dispatcher)

    update_report_place(guided, zip_code="60608")

    worked.refresh_from_db()
    assert incident_of(guided) == incident_of(placed)
    assert worked.status == Status.CLOSED
    assert worked.report_count == 0


def test_clustering_costs_the_same_queries_for_the_fiftieth_report_as_the_second(report_from):
    report_from("web", source="ip-0")
    report_from("web", source="ip-1")
    with CaptureQueriesContext(connection) as second:
        report_from("web", source="ip-2")
    for n in range(3, 50):
        report_from("sms", source=f"phone-{n}")
    with CaptureQueriesContext(connection) as fiftieth:
        report_from("web", source="ip-50")

    assert len(fiftieth) == len(second)
    assert Incident.objects.get().report_count == 51
