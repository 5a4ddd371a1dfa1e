"""The volunteer's pages on the phone (/r/): pages to answer, the assigned incident with only the
facts of their role (D4), on scene / done, available / off, and their own shifts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, login
from vigil.accounts.models import User
from vigil.accounts.tests.helpers import away_from_code_boundary, current_code, submit_code
from vigil.core.models import AuditEvent, Zone
from vigil.incidents.actions import close_incident
from vigil.incidents.models import Incident
from vigil.responders.access import AFTER_DONE
from vigil.responders.models import (
    Assignment,
    PageRecipient,
    PageResponse,
    Responder,
    ResponderRole,
    Shift,
    ShiftKind,
)
from vigil.responders.tests.conftest import make_responder
from vigil.responders.tests.fixtures_mobile import (
    ADDRESS,
    CICERO,
    REPORTER_PHONE,
    accept,
    page_now,
    phone_of,
    raid_reported,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paged(ana: Responder, beto: Responder) -> Incident:
    """A raid reported in Pilsen; Ana and Beto (on call there) are paged."""
    return page_now(raid_reported())


def reads(user: User | None, incident: Incident) -> int:
    return AuditEvent.objects.filter(
        actor=user, action="responder.incident_read", object_type="incidents.incident", object_id=str(incident.pk)
    ).count()


# --- who gets in ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dispatcher", "verifier", "legal_coordinator", "organizer", "admin_user"])
def test_staff_without_a_roster_entry_are_refused_the_volunteer_pages(
    client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    login(client, request.getfixturevalue(persona))
    for url in ("/r/", "/r/schedule/", "/r/schedule.ics"):
        assert client.get(url).status_code == 403, url
    assert client.post("/r/available/", {"hours": "2"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(neighbour: Client) -> None:
    response = neighbour.get("/r/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_a_volunteer_logging_in_lands_on_their_pages(client: Client, volunteer: User) -> None:
    away_from_code_boundary()
    response = client.post(reverse("account_login"), {"login": volunteer.username, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = submit_code(client, current_code(volunteer))
    assert response.status_code == 302 and response["Location"] == "/r/"
    assert client.get("/r/").status_code == 200


def test_a_dispatcher_logging_in_still_lands_on_the_board(client: Client, dispatcher: User) -> None:
    away_from_code_boundary()
    client.post(reverse("account_login"), {"login": dispatcher.username, "password": PASSWORD})
    response = submit_code(client, current_code(dispatcher))
    assert response["Location"] == reverse("board")


def test_a_volunteer_not_yet_approved_sees_a_notice_and_no_pages(client: Client, volunteer: User) -> None:
    Responder.objects.filter(user=volunteer).update(status="applied")
    response = login(client, volunteer).get("/r/")
    assert response.status_code == 200
    assert "not active yet" in response.content.decode()


# --- pages ----------------------------------------------------------------------------


def test_ana_sees_her_open_page_and_accepts_it_with_an_eta(client: Client, ana: Responder, paged: Incident) -> None:
    phone = phone_of(client, ana)
    home = phone.get("/r/").content.decode()
    assert f'id="page-{paged.pk}"' in home
    assert ADDRESS not in home  # a page carries no place until accepted

    response = phone.post(f"/r/incidents/{paged.pk}/respond/", {"response": "accepted", "eta": "10"})

    assert response.status_code == 302 and response["Location"] == f"/r/incidents/{paged.pk}/"
    page = PageRecipient.objects.get(paging__incident=paged, responder=ana)
    assert page.response == PageResponse.ACCEPTED and page.eta_minutes == 10
    assignment = Assignment.objects.get(incident=paged, responder=ana)
    assert assignment.is_lead and assignment.ended_at is None
    home = phone.get("/r/").content.decode()
    assert f'id="page-{paged.pk}"' not in home
    assert f'href="/r/incidents/{paged.pk}/"' in home


def test_the_second_to_accept_joins_and_is_told_so(
    client: Client, ana: Responder, beto: Responder, paged: Incident
) -> None:
    accept(ana, paged)
    phone = phone_of(client, beto)
    assert "already leads" in phone.get("/r/").content.decode()
    response = phone.post(f"/r/incidents/{paged.pk}/respond/", {"response": "accepted", "eta": "20"}, follow=True)
    assert "you joined" in response.content.decode()
    assert not Assignment.objects.get(incident=paged, responder=beto).is_lead


def test_declining_records_it_and_the_page_leaves_the_list(client: Client, ana: Responder, paged: Incident) -> None:
    phone = phone_of(client, ana)
    response = phone.post(f"/r/incidents/{paged.pk}/respond/", {"response": "declined"})
    assert response.status_code == 302 and response["Location"] == "/r/"
    assert PageRecipient.objects.get(paging__incident=paged, responder=ana).response == PageResponse.DECLINED
    assert not Assignment.objects.filter(incident=paged, responder=ana).exists()
    assert f'id="page-{paged.pk}"' not in phone.get("/r/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"response": "accepted", "eta": "soon"}, "arrival time in minutes"),
        ({"response": "accepted", "eta": "-5"}, "arrival time in minutes"),
        ({"response": "accepted", "eta": "99999"}, "arrival time in minutes"),
        ({"response": "maybe"}, "accept or decline"),
        ({}, "accept or decline"),
    ],
)
def test_a_bad_answer_is_a_clear_400(
    client: Client, ana: Responder, paged: Incident, data: dict[str, str], message: str
) -> None:
    response = phone_of(client, ana).post(f"/r/incidents/{paged.pk}/respond/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Assignment.objects.filter(incident=paged).exists()


def test_answering_a_page_one_never_received_is_a_404(
    client: Client, chapter, zone: Zone, ana: Responder, paged: Incident
) -> None:
    stranger = make_responder(chapter, 40, home_zones=[zone])  # not on call: not paged
    response = phone_of(client, stranger).post(f"/r/incidents/{paged.pk}/respond/", {"response": "accepted"})
    assert response.status_code == 404
    assert phone_of(Client(), ana).post("/r/incidents/999999/respond/", {"response": "accepted"}).status_code == 404


# --- the incident, as the role sees it (D4) -------------------------------------------


def test_the_verifier_sees_what_was_reported_and_where_never_the_reporters_phone(
    client: Client, ana: Responder, paged: Incident
) -> None:
    accept(ana, paged)
    response = phone_of(client, ana).get(f"/r/incidents/{paged.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert ADDRESS in body
    assert "Three grey vans" in body
    assert "&lt;script&gt;alert" in body and "<script>alert" not in body
    assert REPORTER_PHONE not in body and "5550199" not in body
    assert "Volunteer 2" not in body and "Volunteer 1" not in body  # nobody's name, not even hers
    report_id = str(paged.links.get().report_id)
    assert report_id not in body
    assert 'id="incident-status"' in body
    assert reads(ana.user, paged) == 1


def test_a_driver_gets_the_place_but_not_what_the_neighbour_said(
    client: Client, ana: Responder, paged: Incident
) -> None:
    accept(ana, paged, role=ResponderRole.DRIVER)
    body = phone_of(client, ana).get(f"/r/incidents/{paged.pk}/").content.decode()
    assert ADDRESS in body
    assert "Three grey vans" not in body
    assert 'id="incident-status"' not in body
    assert REPORTER_PHONE not in body


def test_a_legal_observer_reads_like_a_verifier(client: Client, ana: Responder, paged: Incident) -> None:
    accept(ana, paged, role=ResponderRole.LEGAL_OBSERVER)
    body = phone_of(client, ana).get(f"/r/incidents/{paged.pk}/").content.decode()
    assert ADDRESS in body and "Three grey vans" in body


def test_every_read_of_the_incident_is_audited(client: Client, ana: Responder, paged: Incident) -> None:
    accept(ana, paged)
    phone = phone_of(client, ana)
    for _ in range(3):
        assert phone.get(f"/r/incidents/{paged.pk}/").status_code == 200
    assert reads(ana.user, paged) == 3


def test_a_volunteer_only_sees_incidents_they_are_assigned_to(
    client: Client, ana: Responder, beto: Responder, paged: Incident, other_zone: Zone
) -> None:
    phone = phone_of(client, beto)
    assert phone.get(f"/r/incidents/{paged.pk}/").status_code == 404  # paged, not accepted
    accept(ana, paged)
    assert phone.get(f"/r/incidents/{paged.pk}/").status_code == 404  # Ana's, not Beto's
    elsewhere = raid_reported(CICERO)
    assert elsewhere.chapter_id != paged.chapter_id
    for url in (
        f"/r/incidents/{elsewhere.pk}/",
        "/r/incidents/999999/",
        f"/r/incidents/{paged.pk}/report/",
        f"/r/incidents/{paged.pk}/on-scene/",
        f"/r/incidents/{paged.pk}/done/",
    ):
        method = phone.get if url.endswith("/") and url.count("/") == 4 else phone.post
        assert method(url).status_code == 404, url
    assert reads(beto.user, paged) == 0


def test_another_chapters_volunteer_gets_404_even_when_assigned_by_a_mistake(
    client: Client, other_chapter, other_zone: Zone, ana: Responder, paged: Incident
) -> None:
    outsider = make_responder(other_chapter, 60)
    Assignment.objects.create(
        incident=paged, responder=outsider, role=ResponderRole.VERIFIER, accepted_at=paged.first_report_at
    )
    assert phone_of(client, outsider).get(f"/r/incidents/{paged.pk}/").status_code == 404


def test_staff_with_a_roster_entry_may_use_the_volunteer_pages(
    client: Client, verifier: User, chapter, zone: Zone
) -> None:
    responder = make_responder(chapter, 70, account=False)
    Responder.objects.filter(pk=responder.pk).update(user=verifier)
    assert login(client, verifier).get("/r/").status_code == 200


# --- on scene, done -------------------------------------------------------------------


def test_on_scene_and_done(client: Client, ana: Responder, paged: Incident) -> None:
    accept(ana, paged)
    phone = phone_of(client, ana)
    response = phone.post(f"/r/incidents/{paged.pk}/on-scene/")
    assert response.status_code == 302
    assert Assignment.objects.get(incident=paged, responder=ana).on_scene_at is not None
    body = phone.get(f"/r/incidents/{paged.pk}/").content.decode()
    assert "You arrived on scene" in body and 'id="on-scene"' not in body

    response = phone.post(f"/r/incidents/{paged.pk}/done/")
    assert response.status_code == 302 and response["Location"] == "/r/"
    assert Assignment.objects.get(incident=paged, responder=ana).ended_at is not None
    # Past assignments stay readable (her own record), without the buttons.
    body = phone.get(f"/r/incidents/{paged.pk}/").content.decode()
    assert "no longer working on this incident" in body and 'id="send-field-report"' not in body
    assert phone.post(f"/r/incidents/{paged.pk}/on-scene/").status_code == 404


def test_closing_the_incident_ends_her_assignment_and_a_day_later_her_access(
    client: Client, ana: Responder, beto: Responder, paged: Incident, dispatcher: User
) -> None:
    accept(ana, paged)
    accept(beto, paged)
    Assignment.objects.filter(responder=ana).update(
        accepted_at=timezone.now() - timedelta(hours=settings.LONG_DEPLOYMENT_HOURS)
    )
    phone = phone_of(client, ana)

    close_incident(paged, acting_user=dispatcher, reason="Agents left; family is with the lawyer.")

    assert not Assignment.objects.filter(incident=paged, ended_at__isnull=True).exists()
    ana.refresh_from_db()
    assert ana.rest_until is not None  # her long deployment earns the rest
    assert f"/r/incidents/{paged.pk}/" not in phone.get("/r/").content.decode()
    assert phone.get(f"/r/incidents/{paged.pk}/").status_code == 200  # home, writing it up
    report = phone.post(f"/r/incidents/{paged.pk}/report/", {"outcome": "confirmed", "notes": "late"})
    assert report.status_code == 409
    Assignment.objects.filter(responder=ana).update(ended_at=timezone.now() - AFTER_DONE - timedelta(minutes=1))
    assert phone.get(f"/r/incidents/{paged.pk}/").status_code == 404  # D4: not for ever


def test_get_is_not_allowed_on_the_buttons(client: Client, ana: Responder, paged: Incident) -> None:
    accept(ana, paged)
    phone = phone_of(client, ana)
    for url in (f"/r/incidents/{paged.pk}/on-scene/", f"/r/incidents/{paged.pk}/done/", "/r/available/", "/r/off/"):
        assert phone.get(url).status_code == 405, url


# --- available / off ------------------------------------------------------------------


def test_available_now_and_off_now(client: Client, ana: Responder) -> None:
    phone = phone_of(client, ana)
    response = phone.post("/r/available/", {"hours": "3"}, follow=True)
    assert "You are available until" in response.content.decode()
    shift = Shift.objects.get(responder=ana, kind=ShiftKind.AVAILABLE)
    assert round((shift.ends_at - shift.starts_at).total_seconds() / 3600) == 3

    response = phone.post("/r/off/", follow=True)
    assert "You are off call until" in response.content.decode()
    assert Shift.objects.filter(responder=ana, kind=ShiftKind.OFF).count() == 1


@pytest.mark.parametrize("hours", ["0", "25", "two", "1e3"])
def test_bad_hours_are_a_400(client: Client, ana: Responder, hours: str) -> None:
    response = phone_of(client, ana).post("/r/available/", {"hours": hours})
    assert response.status_code == 400
    assert "hours from 1 to 24" in response.content.decode()
    assert not Shift.objects.filter(responder=ana).exists()


# --- my shifts ------------------------------------------------------------------------


def test_my_shifts_lists_my_blocks_only(client: Client, ana: Responder, beto: Responder, zone: Zone) -> None:
    body = phone_of(client, ana).get("/r/schedule/").content.decode()
    assert "On call (rotation)" in body
    assert zone.name in body
    assert body.count('class="card shift') >= 1


def test_my_shifts_as_icalendar(client: Client, ana: Responder, zone: Zone) -> None:
    response = phone_of(client, ana).get("/r/schedule.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in text
    assert f"On call: {zone.name}" in text
    assert "Volunteer 1" not in text


def test_home_page_query_count(client: Client, ana: Responder, paged: Incident, django_assert_max_num_queries) -> None:
    phone = phone_of(client, ana)
    with django_assert_max_num_queries(10):
        assert phone.get("/r/").status_code == 200


@pytest.mark.parametrize("persona", ["dispatcher", "outsider", "verifier"])
def test_staff_get_404_never_403_on_an_incidents_volunteer_routes(
    client: Client, persona: str, request: pytest.FixtureRequest, ana: Responder, paged: Incident
) -> None:
    accept(ana, paged)
    login(client, request.getfixturevalue(persona))
    assert client.get(f"/r/incidents/{paged.pk}/").status_code == 404
    for action in ("respond", "report", "on-scene", "done"):
        assert client.post(f"/r/incidents/{paged.pk}/{action}/", {"response": "accepted"}).status_code == 404
