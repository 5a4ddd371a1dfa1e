"""The observation log: the legal team reads what volunteers saw at an incident (and only that)."""

from __future__ import annotations

from django.db import transaction
from django.test import Client

from conftest import login
from vigil.accounts.models import User
from vigil.core.audit import AuditEvent
from vigil.incidents.models import Outcome
from vigil.responders import fieldreports, paging
from vigil.responders.models import Responder
from vigil.responders.tests.conftest import put_on_call, report_in


def observed_incident(ana: Responder, zone) -> int:
    """Ana is paged, accepts, and reports by text what she saw (a location with a name in it)."""
    put_on_call(ana, zone)
    incident = report_in()
    paging.start_paging(incident)
    paging.respond(ana, "accepted", eta_minutes=5, incident=incident)
    with transaction.atomic():
        fieldreports.record_from_sms(
            ana, ana.assignments.get(), "1", "S 6 agentes; L frente a la casa de Dona Marta; U ICE"
        )
    return incident.pk


def test_the_legal_coordinator_reads_the_field_reports_and_timeline_and_the_read_is_audited(
    db, zone, ana: Responder, legal_coordinator: User
) -> None:
    incident_id = observed_incident(ana, zone)
    client = login(Client(), legal_coordinator)

    listing = client.get("/staff/observations/")
    page = client.get(f"/staff/observations/{incident_id}/")

    assert f'id="observed-{incident_id}"' in listing.content.decode()
    body = page.content.decode()
    assert page.status_code == 200
    assert "frente a la casa de Dona Marta" in body and "6 agentes" in body
    assert str(Outcome.CONFIRMED.label) in body
    assert "Page accepted" in body  # the timeline
    assert AuditEvent.objects.filter(action="incident.observations_read", object_id=str(incident_id)).count() == 1


def test_an_outsider_and_a_volunteer_get_404_and_an_unobserved_incident_is_not_listed(
    db, zone, ana: Responder, outsider: User, volunteer: User, legal_coordinator: User
) -> None:
    incident_id = observed_incident(ana, zone)
    quiet = report_in(41.80, -87.60)

    assert login(Client(), outsider).get(f"/staff/observations/{incident_id}/").status_code == 404
    assert login(Client(), volunteer).get(f"/staff/observations/{incident_id}/").status_code == 404
    assert login(Client(), volunteer).get("/staff/observations/").status_code == 403
    legal = login(Client(), legal_coordinator)
    assert legal.get(f"/staff/observations/{quiet.pk}/").status_code == 404
    assert f'id="observed-{quiet.pk}"' not in legal.get("/staff/observations/").content.decode()
