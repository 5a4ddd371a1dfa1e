from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from vigil.accounts.models import Role, User
from vigil.core.models import AuditEvent
from vigil.incidents.actions import claim_incident, release_incident
from vigil.incidents.models import EventKind, Incident
from vigil.incidents.tests.conftest import incident_of


def test_a_dispatcher_claims_an_unclaimed_incident(report_from, dispatcher):
    incident = incident_of(report_from("web", source="ip-1"))

    assert claim_incident(incident, acting_user=dispatcher) is True

    incident.refresh_from_db()
    assert incident.claimed_by == dispatcher
    assert incident.claimed_at is not None
    assert incident.last_action_at == incident.claimed_at
    assert incident.events.filter(kind=EventKind.CLAIM, actor=dispatcher).count() == 1
    assert AuditEvent.objects.filter(action="incident.claim", actor=dispatcher).count() == 1


def test_the_second_claim_loses_and_leaves_no_trace(report_from, dispatcher, organizer):
    incident = incident_of(report_from("web", source="ip-1"))
    claim_incident(incident, acting_user=dispatcher)

    assert claim_incident(Incident.objects.get(pk=incident.pk), acting_user=organizer) is False
    assert claim_incident(Incident.objects.get(pk=incident.pk), acting_user=dispatcher) is False

    assert Incident.objects.get(pk=incident.pk).claimed_by == dispatcher
    assert AuditEvent.objects.filter(action="incident.claim").count() == 1
    assert incident.events.filter(kind=EventKind.CLAIM).count() == 1


def test_a_released_incident_can_be_claimed_by_the_next_shift(report_from, dispatcher, organizer):
    incident = incident_of(report_from("web", source="ip-1"))
    claim_incident(incident, acting_user=dispatcher)

    assert release_incident(incident, acting_user=dispatcher) is True
    assert release_incident(incident, acting_user=dispatcher) is False
    assert claim_incident(incident, acting_user=organizer) is True

    assert Incident.objects.get(pk=incident.pk).claimed_by == organizer
    assert incident.events.filter(kind=EventKind.RELEASE).count() == 1


@pytest.mark.parametrize("persona", ["verifier", "legal_coordinator", "outsider"])
def test_only_dispatching_staff_of_the_chapter_can_claim(report_from, request, persona):
    incident = incident_of(report_from("web", source="ip-1"))

    with pytest.raises((PermissionDenied, Incident.DoesNotExist)):
        claim_incident(incident, acting_user=request.getfixturevalue(persona))

    assert Incident.objects.get(pk=incident.pk).claimed_by is None


def test_fifty_simultaneous_claims_have_exactly_one_winner(transactional_db, report_from, chapter):
    """SECURITY-TESTS D7: each thread has its own database connection, all released at once."""
    incident = incident_of(report_from("web", source="ip-1"))
    dispatchers = [User.objects.create(username=f"shift.{n}", role=Role.DISPATCHER) for n in range(50)]
    for user in dispatchers:
        user.chapters.add(chapter)
        user.chapter_ids()  # warm the cache: the threads race on the claim, not on setup
    start = threading.Barrier(len(dispatchers))

    def attempt(user: User) -> bool:
        try:
            start.wait(timeout=30)
            return claim_incident(Incident.objects.get(pk=incident.pk), acting_user=user)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(dispatchers)) as pool:
        results = list(pool.map(attempt, dispatchers))

    assert results.count(True) == 1
    winner = dispatchers[results.index(True)]
    incident.refresh_from_db()
    assert incident.claimed_by == winner
    assert AuditEvent.objects.filter(action="incident.claim").count() == 1
    assert incident.events.filter(kind=EventKind.CLAIM).count() == 1
