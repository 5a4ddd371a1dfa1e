"""The incident page, the hotline call form, the map and the public rumor log."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from conftest import login, make_staff
from vigil.accounts.models import Role
from vigil.core import crypto
from vigil.core.models import AuditEvent, Zone
from vigil.incidents.actions import record_field_report, transition_incident
from vigil.incidents.models import FieldReport, Incident, IncidentReport, Outcome, Status
from vigil.incidents.tests.conftest import CICERO, FAR_AWAY, PILSEN, PILSEN_NEARBY, incident_of
from vigil.intake.models import Report

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PHONE = "+13125550187"


def detail(incident: Incident) -> str:
    return f"/staff/incidents/{incident.pk}/"


# --- the incident page ------------------------------------------------------------------


def test_the_incident_page_shows_the_decrypted_report_but_not_the_phone(as_dispatcher, report_from):
    report = report_from(
        "web", details="Two vans at the laundromat", address="1800 S Blue Island Ave", contact_phone=PHONE
    )
    incident = incident_of(report)

    response = as_dispatcher.get(detail(incident))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Two vans at the laundromat" in body
    assert "1800 S Blue Island Ave" in body
    assert "5550187" not in body
    assert "Show call-back number" in body


def test_showing_the_call_back_number_is_a_post_that_is_audited(as_dispatcher, dispatcher, report_from):
    report = report_from("web", contact_phone=PHONE)
    incident = incident_of(report)

    response = as_dispatcher.post(detail(incident), {"action": "reveal", "report": str(report.pk)})

    assert response.status_code == 200
    assert PHONE in response.content.decode()
    event = AuditEvent.objects.get(action="report.contact_view")
    assert event.actor == dispatcher
    assert event.object_id == str(report.pk)
    assert PHONE not in str(event.__dict__)


def test_a_verifier_cannot_see_the_call_back_number(client, verifier, report_from):
    report = report_from("web", contact_phone=PHONE)
    incident = incident_of(report)
    login(client, verifier)

    page = client.get(detail(incident))
    response = client.post(detail(incident), {"action": "reveal", "report": str(report.pk)})

    assert page.status_code == 200
    assert "Show call-back number" not in page.content.decode()
    assert response.status_code == 403
    assert PHONE not in response.content.decode()
    assert not AuditEvent.objects.filter(action="report.contact_view").exists()


def test_another_chapters_incident_is_not_found(client, outsider, report_from):
    incident = incident_of(report_from("web", contact_phone=PHONE))
    login(client, outsider)

    assert client.get(detail(incident)).status_code == 404
    assert client.post(detail(incident), {"action": "claim"}).status_code == 404
    assert client.get("/staff/incidents/999999999/").status_code == 404
    assert Incident.objects.get(pk=incident.pk).claimed_by is None


def test_free_text_is_escaped_on_the_incident_page(as_dispatcher, dispatcher, report_from):
    incident = incident_of(report_from("web", details=XSS, address=XSS))
    record_field_report(
        incident,
        acting_user=dispatcher,
        on_scene=False,
        size=XSS,
        activity=XSS,
        location=XSS,
        equipment=XSS,
        outcome=Outcome.UNVERIFIED,
        notes=XSS,
    )
    transition_incident(incident, Status.VERIFYING, acting_user=dispatcher, reason=XSS)

    body = as_dispatcher.get(detail(incident)).content.decode()

    assert XSS not in body
    assert "<img src=x" not in body
    assert body.count("&lt;script&gt;") >= 7


def test_values_that_cannot_be_decrypted_show_a_locked_marker(as_dispatcher, report_from):
    report = report_from("web", details="Agents at the corner store", address="1800 S Blue Island Ave")
    incident = incident_of(report)
    stored = bytearray(Report.objects.filter(pk=report.pk).values_list("address", flat=True).get())
    stored[-1] ^= 1
    Report.objects.filter(pk=report.pk).update(address=bytes(stored))

    tampered = as_dispatcher.get(detail(incident)).content.decode()
    with override_settings(DATA_KEYS="", BLIND_INDEX_KEY=""):
        crypto.reset_keyring()
        try:
            locked = as_dispatcher.get(detail(incident))
        finally:
            crypto.reset_keyring()

    assert "Agents at the corner store" in tampered
    assert "⚠" in tampered
    assert locked.status_code == 200
    assert "Agents at the corner store" not in locked.content.decode()
    assert "🔒" in locked.content.decode()


def test_a_dispatcher_claims_and_a_second_claim_is_refused(client, as_dispatcher, dispatcher, chapter, report_from):
    incident = incident_of(report_from("web"))

    claimed = as_dispatcher.post(detail(incident), {"action": "claim"})
    second = login(client.__class__(), make_staff("sam.second", Role.DISPATCHER, chapter))
    refused = second.post(detail(incident), {"action": "claim"})

    assert claimed.status_code == 302
    assert Incident.objects.get(pk=incident.pk).claimed_by == dispatcher
    assert refused.status_code == 409
    assert "already claimed" in refused.content.decode()


def test_a_status_change_without_a_reason_is_refused_on_the_page(as_dispatcher, report_from):
    incident = incident_of(report_from("web"))

    response = as_dispatcher.post(detail(incident), {"action": "transition", "t-to_status": Status.VERIFYING})

    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).status == Status.NEW


def test_confirming_without_corroboration_answers_409_with_the_reason(as_dispatcher, report_from):
    incident = incident_of(report_from("web", source="ip-1"))

    response = as_dispatcher.post(
        detail(incident), {"action": "transition", "t-to_status": Status.CONFIRMED, "t-reason": "Caller sounded sure"}
    )

    assert response.status_code == 409
    assert "cannot be confirmed yet" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).status == Status.NEW


def test_a_dispatcher_confirms_a_corroborated_incident(as_dispatcher, report_from):
    incident = incident_of(report_from("web", source="ip-1"))
    report_from("sms", source="phone-2")

    response = as_dispatcher.post(
        detail(incident), {"action": "transition", "t-to_status": Status.CONFIRMED, "t-reason": "Two neighbours"}
    )

    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == Status.CONFIRMED
    assert "Two neighbours" in as_dispatcher.get(detail(incident)).content.decode()


def test_a_verifier_records_a_field_report_but_cannot_confirm(client, verifier, report_from):
    incident = incident_of(report_from("web"))
    login(client, verifier)

    confirm = client.post(
        detail(incident), {"action": "transition", "t-to_status": Status.CONFIRMED, "t-reason": "I saw it"}
    )
    field = client.post(
        detail(incident),
        {
            "action": "field_report",
            "f-on_scene": "on",
            "f-size": "6 agents, 2 vans",
            "f-activity": "Knocking on doors",
            "f-location": "Alley behind 1800 S Blue Island",
            "f-unit": "ICE ERO",
            "f-observed_time": "03:10",
            "f-equipment": "Vests",
            "f-outcome": Outcome.CONFIRMED,
            "f-notes": "Left at 03:40",
        },
    )

    assert confirm.status_code == 403
    assert field.status_code == 302
    report = FieldReport.objects.get(incident=incident)
    assert (report.verifier, report.size, report.location) == (
        verifier,
        "6 agents, 2 vans",
        "Alley behind 1800 S Blue Island",
    )
    page = client.get(detail(incident)).content.decode()
    assert "Knocking on doors" in page and "Alley behind 1800 S Blue Island" in page


def test_a_dispatcher_merges_a_nearby_duplicate(as_dispatcher, report_from):
    target = incident_of(report_from("web", at=PILSEN))
    duplicate = incident_of(report_from("sms", at=FAR_AWAY, zip_code="60608"))
    assert target != duplicate

    page = as_dispatcher.get(detail(target)).content.decode()
    response = as_dispatcher.post(
        detail(target), {"action": "merge", "m-sources": [str(duplicate.pk)], "m-reason": "Same raid"}
    )

    assert f'value="{duplicate.pk}"' in page
    assert response.status_code == 302
    assert Incident.objects.get(pk=duplicate.pk).status == Status.CLOSED
    assert Incident.objects.get(pk=target.pk).report_count == 2


def test_a_merge_cannot_reach_another_chapters_incident(as_dispatcher, report_from):
    target = incident_of(report_from("web"))
    theirs = incident_of(report_from("web", at=CICERO))

    response = as_dispatcher.post(detail(target), {"action": "merge", "m-sources": [str(theirs.pk)], "m-reason": "x"})

    assert response.status_code == 400
    assert Incident.objects.get(pk=theirs.pk).status == Status.NEW


def test_a_dispatcher_splits_a_report_off(as_dispatcher, report_from):
    first = report_from("web", at=PILSEN)
    second = report_from("sms", at=PILSEN_NEARBY)
    incident = incident_of(first)
    assert incident_of(second) == incident

    response = as_dispatcher.post(
        detail(incident), {"action": "split", "s-reports": [str(second.pk)], "s-reason": "Different block"}
    )

    new = incident_of(second)
    assert new != incident
    assert response.status_code == 302 and response["Location"] == detail(new)


def test_an_unknown_action_is_a_400_not_a_500(as_dispatcher, report_from):
    incident = incident_of(report_from("web"))

    assert as_dispatcher.post(detail(incident), {"action": "launch"}).status_code == 400
    assert as_dispatcher.post(detail(incident), {"action": "split", "s-reports": ["nope"]}).status_code == 400


# --- the hotline call form ---------------------------------------------------------------


def test_a_dispatcher_logs_a_call_and_lands_on_its_incident(as_dispatcher, dispatcher, zone):
    response = as_dispatcher.post(
        "/staff/calls/new",
        {
            "kind": "workplace",
            "address": "2100 S Halsted",
            "zip_code": "60608",
            "when": "15",
            "agents_count": "8",
            "vehicles_count": "",
            "agency": "ice",
            "details": "At the warehouse gate",
            "contact_phone": "(312) 555-0199",
            "language": "es",
            "chapter": str(zone.chapter_id),
        },
    )

    report = Report.objects.get(channel="hotline")
    incident_id = IncidentReport.objects.get(report=report).incident_id
    assert response.status_code == 302
    assert response["Location"] == f"/staff/incidents/{incident_id}/"
    assert (report.entered_by, report.kind, report.agents_count, report.details) == (
        dispatcher,
        "workplace",
        8,
        "At the warehouse gate",
    )
    assert report.contact_phone == "+13125550199"


def test_the_call_form_says_what_is_wrong(as_dispatcher, zone):
    response = as_dispatcher.post(
        "/staff/calls/new",
        {
            "kind": "home",
            "zip_code": "6060",
            "contact_phone": "12",
            "agency": "unknown",
            "language": "es",
            "chapter": str(zone.chapter_id),
        },
    )

    assert response.status_code == 400
    assert "5 digits" in response.content.decode()
    assert "phone number" in response.content.decode()
    assert not Report.objects.exists()


def test_a_verifier_cannot_log_calls(client, verifier):
    login(client, verifier)

    assert client.get("/staff/calls/new").status_code == 403
    assert client.post("/staff/calls/new", {"kind": "home", "zip_code": "60608"}).status_code == 403


def test_the_call_form_offers_only_the_dispatchers_chapters(as_dispatcher, other_zone):
    response = as_dispatcher.post(
        "/staff/calls/new",
        {
            "kind": "home",
            "zip_code": "60608",
            "agency": "unknown",
            "language": "es",
            "chapter": str(other_zone.chapter_id),
        },
    )

    assert response.status_code == 400
    assert not Report.objects.exists()


# --- the map -----------------------------------------------------------------------------


def test_the_map_draws_zones_and_incidents_without_any_other_origin(as_dispatcher, report_from, zone):
    incident = incident_of(report_from("web", kind="checkpoint"))
    Zone.objects.create(chapter=zone.chapter, name="Quiet zone", cells=["862664c17ffffff"])

    response = as_dispatcher.get("/staff/map")

    body = response.content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert response.status_code == 200
    assert re.search(r'<path class="zone hot" d="M[\d.]+,[\d.]+ L', svg)
    assert '<path class="zone" d="M' in svg
    assert "Pilsen: 1" in svg and "Quiet zone: 0" in svg
    assert f'href="/staff/incidents/{incident.pk}/"' in svg and "<circle" in svg
    assert "http" not in svg and "//" not in svg.replace("</", "")
    assert "style=" not in body


def test_the_map_shows_only_the_users_chapter(client, outsider, report_from, other_zone):
    incident = incident_of(report_from("web"))
    login(client, outsider)

    body = client.get("/staff/map").content.decode()

    assert f"/staff/incidents/{incident.pk}/" not in body
    assert "Pilsen" not in body and "Cicero: 0" in body


# --- the public rumor log ------------------------------------------------------------------


def test_the_rumor_log_is_public_and_shows_only_coarse_places(neighbour, dispatcher, outsider, report_from):
    confirmed = incident_of(
        report_from(
            "web",
            source="ip-1",
            kind="workplace",
            address="1800 S Blue Island Ave",
            details="Vans outside the laundromat",
        )
    )
    report_from("sms", source="phone-2", address="1800 S Blue Island Ave")
    transition_incident(confirmed, Status.CONFIRMED, acting_user=dispatcher, reason="Two neighbours saw it")
    rumor = incident_of(report_from("web", at=CICERO, kind="checkpoint"))
    transition_incident(rumor, Status.FALSE_ALARM, acting_user=outsider, reason="Street fair")
    pending = incident_of(report_from("web", at=FAR_AWAY, kind="arrest"))

    response = neighbour.get("/rumors/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Pilsen" in body and "Confirmed" in body and "Raid at a workplace" in body
    assert "Cicero" in body and "False alarm" in body
    assert "Arrest" not in body
    for secret in (
        "Blue Island",
        "laundromat",
        "Two neighbours",
        "Street fair",
        confirmed.cell,
        "60608",
        f"/staff/incidents/{pending.pk}",
        "dana.dispatcher",
    ):
        assert secret not in body
    assert "http://" not in body and "https://" not in body


@pytest.mark.parametrize("path", ["/staff/", "/staff/map", "/staff/calls/new", "/rumors/"])
def test_pages_have_no_inline_script_or_style(as_dispatcher, report_from, path):
    report_from("web")

    body = as_dispatcher.get(path).content.decode()

    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "http://" not in body and "https://" not in body
