"""The dispatcher's paging panel on the incident page and the paging strip on the board."""

from __future__ import annotations

from datetime import timedelta

import h3
import pytest
from django.test import Client
from django.utils import timezone, translation

from conftest import login
from vigil.accounts.models import User
from vigil.core.models import AuditEvent, Zone
from vigil.incidents import actions as incident_actions
from vigil.incidents.models import Incident, Outcome
from vigil.responders import fieldreports, paging
from vigil.responders.models import Paging, PagingStage, Responder
from vigil.responders.tests.fixtures_mobile import CICERO, accept, page_now, raid_reported

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def named(responder: Responder, name: str) -> Responder:
    responder.name = name
    responder.save(update_fields=["name"])
    return responder


@pytest.fixture
def paged(ana: Responder, beto: Responder) -> Incident:
    named(ana, "Ana Alvarez")
    named(beto, "Beto Bravo")
    return page_now(raid_reported())


def panel(client: Client, incident: Incident, **headers: str) -> str:
    response = client.get(f"/staff/paging/incident/{incident.pk}/", headers=headers or HTMX)
    assert response.status_code == 200
    return response.content.decode()


def alarm(incident: Incident) -> Paging:
    """Let every stage run out (a controlled clock): the dispatcher is alarmed."""
    at = timezone.now()
    for _ in range(4):
        at += timedelta(hours=1)
        paging.escalate_due(at)
    current = Paging.objects.get(incident=incident)
    assert current.stage == PagingStage.DISPATCHER and current.alarm_at is not None
    return current


def spread_points(zone: Zone, count: int) -> list[tuple[float, float]]:
    """Places in the zone far enough apart (4+ cells) to open separate incidents."""
    chosen: list[str] = []
    for cell in sorted(h3.cell_to_children(zone.cells[0], 8)):
        if all(h3.grid_distance(cell, other) >= 4 for other in chosen):
            chosen.append(cell)
        if len(chosen) == count:
            break
    return [h3.cell_to_latlng(cell) for cell in chosen]


# --- the panel ------------------------------------------------------------------------


def test_the_dispatcher_sees_the_stage_countdown_and_who_was_paged(
    as_dispatcher: Client, dispatcher: User, paged: Incident
) -> None:
    body = panel(as_dispatcher, paged)
    current = Paging.objects.get(incident=paged)
    assert "On call in the zone" in body
    assert f'data-deadline="{timezone.localtime(current.deadline).isoformat()}"' in body
    assert "escalates at " + timezone.localtime(current.deadline).strftime("%H:%M:%S") in body
    assert "Ana Alvarez" in body and "Beto Bravo" in body
    assert "nobody yet" in body
    assert "<html" not in body  # a fragment for htmx
    assert AuditEvent.objects.filter(actor=dispatcher, action="paging.read").count() == 1


def test_polling_audits_the_names_once_per_session_and_again_when_someone_new_is_paged(
    as_dispatcher: Client, dispatcher: User, paged: Incident, fede: Responder
) -> None:
    for _ in range(3):
        panel(as_dispatcher, paged)
    assert AuditEvent.objects.filter(actor=dispatcher, action="paging.read").count() == 1
    paging.escalate_due(timezone.now() + timedelta(hours=1))  # the ring: Fede of the next zone
    assert "Volunteer 6" in panel(as_dispatcher, paged)
    assert AuditEvent.objects.filter(actor=dispatcher, action="paging.read").count() == 2
    login(Client(), dispatcher).get(f"/staff/paging/incident/{paged.pk}/", headers=HTMX)
    assert AuditEvent.objects.filter(actor=dispatcher, action="paging.read").count() == 3


def test_the_lead_and_answers_with_eta(as_dispatcher: Client, ana: Responder, beto: Responder, paged: Incident) -> None:
    accept(ana, paged, eta=12)
    paging.respond(beto, "declined", incident=paged)
    body = panel(as_dispatcher, paged)
    assert 'id="paging-lead">Ana Alvarez' in body
    assert "12 min" in body and "Declined" in body and "Accepted" in body
    assert "data-deadline" not in body  # nothing counts down once someone leads


def test_the_alarm_shows_in_red(as_dispatcher: Client, paged: Incident) -> None:
    alarm(paged)
    body = panel(as_dispatcher, paged)
    assert 'class="notice bad alarm"' in body and "ALARM: nobody accepted the page." in body
    assert 'id="page-verifiers"' in body  # the dispatcher may page again


def test_a_verifier_of_the_chapter_reads_the_panel_without_names_or_buttons(
    client: Client, verifier: User, paged: Incident
) -> None:
    body = panel(login(client, verifier), paged)
    assert "On call in the zone" in body
    assert "Ana Alvarez" not in body and "Beto Bravo" not in body
    assert 'id="page-verifiers"' not in body
    assert not AuditEvent.objects.filter(action="paging.read").exists()


@pytest.mark.parametrize("persona", ["outsider", "legal_coordinator", "volunteer"])
def test_others_get_404_on_the_panel(client: Client, persona: str, paged: Incident, request) -> None:
    login(client, request.getfixturevalue(persona))
    assert client.get(f"/staff/paging/incident/{paged.pk}/", headers=HTMX).status_code == 404
    assert client.post(f"/staff/paging/incident/{paged.pk}/page/").status_code == 404


def test_anonymous_is_sent_to_the_login(neighbour: Client, paged: Incident) -> None:
    assert neighbour.get(f"/staff/paging/incident/{paged.pk}/").status_code == 302
    assert neighbour.get("/staff/paging/board/").status_code == 302


def test_without_htmx_the_panel_is_a_page_of_its_own(as_dispatcher: Client, paged: Incident) -> None:
    body = panel(as_dispatcher, paged, Accept="text/html")
    assert "<html" in body and 'id="paging-panel"' in body and "escalates at" in body
    assert "responders/countdown" in body


def test_the_incident_page_polls_the_panel(as_dispatcher: Client, paged: Incident) -> None:
    body = as_dispatcher.get(f"/staff/incidents/{paged.pk}/").content.decode()
    assert f'hx-get="/staff/paging/incident/{paged.pk}/"' in body
    assert 'hx-trigger="load, every 5s"' in body
    assert "htmx.min.js" in body and "responders/countdown" in body


def test_panel_query_count(
    as_dispatcher: Client, paged: Incident, volunteers, zone, django_assert_max_num_queries
) -> None:
    panel(as_dispatcher, paged)
    with django_assert_max_num_queries(14):
        panel(as_dispatcher, paged)


# --- paging by the dispatcher ---------------------------------------------------------


def test_the_dispatcher_pages_verifiers_for_an_incident(as_dispatcher: Client, ana: Responder) -> None:
    incident = raid_reported()
    assert not Paging.objects.filter(incident=incident).exists()
    assert 'id="page-verifiers"' in panel(as_dispatcher, incident)
    response = as_dispatcher.post(f"/staff/paging/incident/{incident.pk}/page/")
    assert response.status_code == 302 and response["Location"] == f"/staff/incidents/{incident.pk}/"
    assert Paging.objects.get(incident=incident).recipients.filter(responder=ana).exists()


def test_a_verifier_may_not_page(client: Client, verifier: User, ana: Responder) -> None:
    incident = raid_reported()
    assert login(client, verifier).post(f"/staff/paging/incident/{incident.pk}/page/").status_code == 403
    assert not Paging.objects.exists()


def test_paging_a_decided_incident_is_refused_with_a_message(
    as_dispatcher: Client, dispatcher: User, ana: Responder
) -> None:
    incident = raid_reported()
    incident_actions.mark_false_alarm(incident, acting_user=dispatcher, reason="Known hoax")
    response = as_dispatcher.post(f"/staff/paging/incident/{incident.pk}/page/", follow=True)
    assert "closed" in response.content.decode() or "nobody can be paged" in response.content.decode()
    assert as_dispatcher.get(f"/staff/paging/incident/{incident.pk}/page/").status_code == 405


# --- the next step after a field report -----------------------------------------------


def test_a_confirming_field_report_offers_confirm_then_send_alert(
    as_dispatcher: Client, dispatcher: User, ana: Responder, paged: Incident
) -> None:
    assignment = accept(ana, paged)
    paging.respond(ana, "on_scene", incident=paged)
    assignment.refresh_from_db()
    fieldreports.record_from_sms(ana, assignment, "1", "S: 6 agents")
    body = panel(as_dispatcher, paged)
    assert 'data-outcome="confirmed"' in body and "Confirm and send alert" in body
    assert f'href="/staff/incidents/{paged.pk}/#status"' in body

    incident_actions.confirm_incident(paged, acting_user=dispatcher, reason="Volunteer on scene")
    body = panel(as_dispatcher, paged)
    assert f'href="/staff/alerts/new/{paged.pk}/"' in body and "Send alert" in body


def test_a_false_alarm_field_report_offers_to_mark_it(as_dispatcher: Client, ana: Responder, paged: Incident) -> None:
    assignment = accept(ana, paged)
    fieldreports.record_from_sms(ana, assignment, "2", "Film crew")
    body = panel(as_dispatcher, paged)
    assert 'data-outcome="false_alarm"' in body and "Mark false alarm" in body
    assert str(Outcome.FALSE_ALARM.label) in body


# --- the board strip ------------------------------------------------------------------


def strip(client: Client) -> str:
    response = client.get("/staff/paging/board/", headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_the_board_strip_counts_down_every_unaccepted_page_without_names(
    as_dispatcher: Client, paged: Incident
) -> None:
    body = strip(as_dispatcher)
    assert f'id="paging-{paged.pk}"' in body and "data-deadline" in body and "Pilsen" in body
    assert "Ana Alvarez" not in body and "Volunteer" not in body
    assert not AuditEvent.objects.filter(action="paging.read").exists()


def test_the_board_strip_shows_the_alarm_and_drops_accepted_pages(
    as_dispatcher: Client, ana: Responder, paged: Incident
) -> None:
    alarm(paged)
    body = strip(as_dispatcher)
    assert "ALARM" in body and 'class="notice bad alarm"' in body
    other = raid_reported(spread_points(paged.zone, 2)[1])  # type: ignore[arg-type]
    assert other.pk != paged.pk
    page_now(other)
    accept(ana, other)
    assert f'id="paging-{other.pk}"' not in strip(as_dispatcher)


def test_the_board_polls_the_strip(as_dispatcher: Client) -> None:
    body = as_dispatcher.get("/staff/").content.decode()
    assert 'hx-get="/staff/paging/board/"' in body and "responders/countdown" in body


def test_another_chapter_sees_none_of_it(client: Client, outsider: User, paged: Incident, other_zone: Zone) -> None:
    elsewhere = raid_reported(CICERO)
    body = strip(login(client, outsider))
    assert f'id="paging-{paged.pk}"' not in body
    assert elsewhere.chapter_id != paged.chapter_id


@pytest.mark.parametrize("persona", ["legal_coordinator", "volunteer"])
def test_the_strip_is_refused_to_roles_off_the_board(client: Client, persona: str, request) -> None:
    assert login(client, request.getfixturevalue(persona)).get("/staff/paging/board/").status_code == 403


def test_the_board_strip_takes_the_same_queries_for_one_or_many_pages(
    as_dispatcher: Client, ana: Responder, zone: Zone, django_assert_num_queries
) -> None:
    points = spread_points(zone, 6)
    page_now(raid_reported(points[0]))
    strip(as_dispatcher)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        strip(as_dispatcher)
    for point in points[1:]:
        page_now(raid_reported(point))
    assert Paging.objects.count() == 6
    with django_assert_num_queries(len(one.captured_queries)):
        body = strip(as_dispatcher)
    assert body.count('class="countdown"') == 6


def test_the_timeline_tells_what_paging_did_in_the_readers_language(
    as_dispatcher: Client, ana: Responder, paged: Incident
) -> None:
    """Paging writes codes, not sentences: a Spanish-speaking dispatcher reads them in Spanish
    though the worker wrote them."""
    accept(ana, paged, eta=12)
    zone_stage = str(PagingStage(PagingStage.ZONE).label)

    english = as_dispatcher.get(f"/staff/incidents/{paged.pk}/").content.decode()
    spanish = as_dispatcher.get(f"/staff/incidents/{paged.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert f"{zone_stage}: 2 paged" in english and "arriving in 12 min" in english
    with translation.override("es"):
        assert f"{PagingStage(PagingStage.ZONE).label}: 2 avisados" in spanish
    assert "llega en 12 min" in spanish
