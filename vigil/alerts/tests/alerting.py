"""Shared setup for the alert tests: a confirmed incident in Pilsen, reached the real way."""

from __future__ import annotations

import importlib

import h3

from vigil.accounts.models import User
from vigil.alerts.actions import approve_all_templates
from vigil.alerts.models import AlertTemplate
from vigil.core.models import Chapter, Zone
from vigil.incidents import actions as incident_actions
from vigil.incidents.models import Incident, IncidentReport, Outcome
from vigil.intake.actions import ReportInput, receive_report

PILSEN = (41.8575, -87.6600)


def reported_incident() -> Incident:
    report = receive_report(ReportInput(channel="web", kind="home", latitude=PILSEN[0], longitude=PILSEN[1]))
    return IncidentReport.objects.select_related("incident").get(report=report).incident


def confirmed_incident(dispatcher: User, verifier: User) -> Incident:
    """A neighbour reports, a verifier on scene sees it, the dispatcher confirms."""
    incident = reported_incident()
    incident_actions.record_field_report(
        incident, acting_user=verifier, on_scene=True, size="6 agents", outcome=Outcome.CONFIRMED
    )
    incident_actions.confirm_incident(incident, acting_user=dispatcher, reason="Verifier saw it")
    return Incident.objects.select_related("zone").get(pk=incident.pk)


def default_texts() -> dict[tuple[str, str], str]:
    return importlib.import_module("vigil.alerts.migrations.0003_default_templates").TEXTS


def approve_templates(organizer: User) -> None:
    """The default texts approved (a transactional test's flush removes the migration's rows)."""
    for (kind, language), body in default_texts().items():
        AlertTemplate.objects.get_or_create(kind=kind, language=language, defaults={"body": body})
    approve_all_templates(organizer)


def neighbouring_zone(chapter: Chapter, zone: Zone, name: str = "Neighbour") -> Zone:
    """A zone made of a cell touching the given zone's first cell."""
    origin = zone.cells[0]
    cell = next(str(c) for c in h3.grid_ring(origin, 1))
    return Zone.objects.create(chapter=chapter, name=name, cells=[cell])


def far_zone(chapter: Chapter, name: str = "Far away") -> Zone:
    return Zone.objects.create(chapter=chapter, name=name, cells=[h3.latlng_to_cell(42.3, -88.2, 6)])
