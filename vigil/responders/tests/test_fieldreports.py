"""Field reports from the scene: the volunteer's web form (SALUTE + outcome) and "INFORME 1 ..." by
text. A confirmation on scene moves a new incident to verifying; the dispatcher decides."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from conftest import login
from vigil.accounts.models import User
from vigil.core.models import AuditEvent
from vigil.incidents.models import EventKind, FieldReport, Incident, IncidentEvent, Outcome, Status
from vigil.responders import fieldreports, paging
from vigil.responders.models import Assignment, PageResponse, Responder
from vigil.responders.tests.conftest import text_from
from vigil.responders.tests.fixtures_mobile import accept, page_now, phone_of, raid_reported

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"
SALUTE = {
    "on_scene": "on",
    "size": "6 agents, 3 vans",
    "activity": "Knocking on doors on 18th St",
    "location": "1800 block of S Blue Island",
    "unit": "ICE ERO",
    "observed_time": "10:15",
    "equipment": "Vests, no warrant shown",
    "outcome": Outcome.CONFIRMED,
    "notes": "Kids outside " + XSS,
}


@pytest.fixture
def assigned(ana: Responder) -> Assignment:
    """A raid reported in Pilsen; Ana was paged and accepted (she leads)."""
    return accept(ana, page_now(raid_reported()))


def post_report(client: Client, incident_id: int, data: dict[str, str]):
    return client.post(f"/r/incidents/{incident_id}/report/", data)


# --- by the web form ------------------------------------------------------------------


def test_a_confirming_field_report_from_the_phone(client: Client, ana: Responder, assigned: Assignment) -> None:
    incident = assigned.incident
    assert incident.status == Status.NEW
    response = post_report(phone_of(client, ana), incident.pk, SALUTE)

    assert response.status_code == 302 and response["Location"] == f"/r/incidents/{incident.pk}/"
    report = FieldReport.objects.get(incident=incident)
    assert report.verifier == ana.user
    assert report.on_scene and report.outcome == Outcome.CONFIRMED
    assert (report.size, report.unit, report.observed_time) == ("6 agents, 3 vans", "ICE ERO", "10:15")
    assert report.location == "1800 block of S Blue Island"
    incident.refresh_from_db()
    assert incident.status == Status.VERIFYING
    assert IncidentEvent.objects.filter(incident=incident, kind=EventKind.FIELD_REPORT, actor=ana.user).exists()
    assert AuditEvent.objects.filter(actor=ana.user, action="incident.field_report").count() == 1
    page = client.get(f"/r/incidents/{incident.pk}/").content.decode()
    assert "You filed a field report: Confirmed: enforcement seen" in page
    # The assignment stays open until the volunteer or the dispatcher ends it.
    assert Assignment.objects.get(pk=assigned.pk).ended_at is None


def test_a_volunteers_confirmation_on_scene_satisfies_the_corroboration_gate(
    client: Client, ana: Responder, assigned: Assignment, dispatcher: User
) -> None:
    from vigil.incidents import actions

    post_report(phone_of(client, ana), assigned.incident_id, SALUTE)
    incident = Incident.objects.get(pk=assigned.incident_id)
    assert actions.corroboration_status(incident)["on_scene"]
    actions.confirm_incident(incident, acting_user=dispatcher, reason="Volunteer on scene")


def test_the_notes_are_escaped_on_the_dispatchers_page(
    client: Client, ana: Responder, assigned: Assignment, dispatcher: User
) -> None:
    post_report(phone_of(client, ana), assigned.incident_id, SALUTE)
    body = login(Client(), dispatcher).get(f"/staff/incidents/{assigned.incident_id}/").content.decode()
    assert "Kids outside &lt;script&gt;" in body
    assert "<script>alert" not in body and "<img src=x" not in body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcome": ""}, "Please correct the field report."),
        ({"outcome": "arrested"}, "Please correct the field report."),
        ({"size": "x" * 201}, "Please correct the field report."),
        ({"location": "x" * 501}, "Please correct the field report."),
        ({"notes": "x" * 4001}, "Please correct the field report."),
    ],
)
def test_a_bad_field_report_is_a_clear_400_and_nothing_is_stored(
    client: Client, ana: Responder, assigned: Assignment, change: dict[str, str], message: str
) -> None:
    response = post_report(phone_of(client, ana), assigned.incident_id, {**SALUTE, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not FieldReport.objects.exists()


def test_extra_fields_posted_change_nothing_else(
    client: Client, ana: Responder, assigned: Assignment, dispatcher: User
) -> None:
    data = {**SALUTE, "verifier": str(dispatcher.pk), "incident": "1", "assigned": "0", "role": "admin"}
    assert post_report(phone_of(client, ana), assigned.incident_id, data).status_code == 302
    report = FieldReport.objects.get()
    assert report.verifier == ana.user and report.incident_id == assigned.incident_id
    assert User.objects.get(pk=ana.user.pk).role == "volunteer"


def test_only_an_assigned_volunteer_may_report(
    client: Client, ana: Responder, beto: Responder, assigned: Assignment
) -> None:
    assert post_report(phone_of(client, beto), assigned.incident_id, SALUTE).status_code == 404
    assert post_report(phone_of(Client(), ana), 999999, SALUTE).status_code == 404
    paging.end_assignment(assigned)
    response = post_report(phone_of(Client(), ana), assigned.incident_id, SALUTE)
    assert response.status_code == 409
    assert not FieldReport.objects.exists()


def test_a_volunteer_cannot_use_the_staff_form_of_the_incident_page(
    client: Client, ana: Responder, assigned: Assignment
) -> None:
    phone = phone_of(client, ana)
    staff = {f"f-{k}": v for k, v in SALUTE.items()} | {"action": "field_report"}
    assert phone.post(f"/staff/incidents/{assigned.incident_id}/", staff).status_code == 404
    assert not FieldReport.objects.exists()


# --- by text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("3 vans", {"notes": "3 vans"}),
        (
            "S: 10 agents; A: knocking on doors; L 18th and Blue Island; U ICE; T 10:15; E vests",
            {
                "size": "10 agents",
                "activity": "knocking on doors",
                "location": "18th and Blue Island",
                "unit": "ICE",
                "observed_time": "10:15",
                "equipment": "vests",
            },
        ),
        (
            "s:4 agentes\na: arresto\nniños llorando",
            {"size": "4 agentes", "activity": "arresto", "notes": "niños llorando"},
        ),
        ("Agents everywhere; Trucks", {"notes": "Agents everywhere; Trucks"}),
        ("S 2 vans; S 5 agents", {"size": "2 vans; 5 agents"}),
        ("S:; ;;\n", {"notes": "S:"}),
    ],
)
def test_salute_parts_of_a_texted_report(text: str, expected: dict[str, str]) -> None:
    assert fieldreports.parse_salute(text) == expected


def test_a_texted_report_is_recorded(ana: Responder, assigned: Assignment) -> None:
    reply = fieldreports.record_from_sms(ana, assigned, "1", "S: 10 agents; A: knocking; kids outside")
    report = FieldReport.objects.get()
    assert (report.size, report.activity, report.notes, report.outcome) == (
        "10 agents",
        "knocking",
        "kids outside",
        Outcome.CONFIRMED,
    )
    assert not report.on_scene  # she never said she was on scene
    assert reply == f"Field report for #{assigned.incident_id} recorded. Thank you."


def test_a_texted_report_after_on_scene_counts_as_on_scene(ana: Responder, assigned: Assignment) -> None:
    paging.respond(ana, PageResponse.ON_SCENE, incident=assigned.incident)
    assigned.refresh_from_db()
    fieldreports.record_from_sms(ana, assigned, "1", "")
    assert FieldReport.objects.get().on_scene
    assert Incident.objects.get(pk=assigned.incident_id).status == Status.VERIFYING


@pytest.mark.parametrize(
    ("digit", "outcome"), [("2", Outcome.FALSE_ALARM), ("3", Outcome.UNVERIFIED), ("4", Outcome.OTHER_AGENCY)]
)
def test_each_outcome_digit(ana: Responder, assigned: Assignment, digit: str, outcome: str) -> None:
    fieldreports.record_from_sms(ana, assigned, digit, "")
    assert FieldReport.objects.get().outcome == outcome


def test_a_bad_digit_gets_the_usage_and_nothing_is_stored(ana: Responder, assigned: Assignment) -> None:
    reply = fieldreports.record_from_sms(ana, assigned, "7", "S: 3")
    assert reply.startswith("INFORME")
    assert not FieldReport.objects.exists()


def test_too_long_or_ended_is_not_saved(ana: Responder, beto: Responder, assigned: Assignment) -> None:
    reply = fieldreports.record_from_sms(ana, assigned, "1", "S " + "x" * 300)
    assert "not saved" in reply
    assert "not saved" in fieldreports.record_from_sms(beto, assigned, "1", "")  # not hers
    paging.end_assignment(assigned)
    assigned.refresh_from_db()
    assert "not saved" in fieldreports.record_from_sms(ana, assigned, "1", "")
    assert not FieldReport.objects.exists()


def test_the_reply_is_in_the_volunteers_language(elena: Responder) -> None:
    assignment = accept(elena, page_now(raid_reported()))
    with translation.override("en"):
        reply = fieldreports.record_from_sms(elena, assignment, "2", "")
    with translation.override("es"):
        expected = translation.gettext(fieldreports.SMS_REPORT_SAVED).format(number=assignment.incident_id)
    assert reply == expected


@pytest.mark.parametrize("text", ["", "S: 10 agents", "no puedo hablar ahora"])
def test_every_reply_fits_one_sms_segment(ana: Responder, assigned: Assignment, text: str) -> None:
    for digit in ("1", "9"):
        assert len(fieldreports.record_from_sms(ana, assigned, digit, text)) <= 160
    for language in ("en", "es"):
        with translation.override(language):
            for constant in (
                fieldreports.SMS_REPORT_SAVED,
                fieldreports.SMS_REPORT_USAGE,
                fieldreports.SMS_REPORT_NOT_SAVED,
            ):
                assert len(translation.gettext(constant).format(number=123456)) <= 160


def test_informe_by_text_through_the_webhook(ana: Responder, assigned: Assignment) -> None:
    reply = text_from(str(ana.phone), "INFORME 1 S: 10 agents; E: vests; kids outside")
    report = FieldReport.objects.get()
    assert (report.size, report.equipment, report.notes) == ("10 agents", "vests", "kids outside")
    assert reply is not None and f"#{assigned.incident_id}" in reply
