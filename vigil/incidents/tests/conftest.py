"""Helpers for the incidents tests: neighbours reporting from real places in Pilsen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from vigil.accounts.models import User
from vigil.core.models import Zone
from vigil.incidents.models import Incident, IncidentReport
from vigil.intake.actions import ReportInput, receive_report
from vigil.intake.models import Report

# 18th St & Blue Island, Pilsen; the next h3 cell north (~450 m); one ~3 km away (still Chicago).
PILSEN = (41.8575, -87.6600)
PILSEN_NEARBY = (41.8615, -87.6600)
FAR_AWAY = (41.8800, -87.6300)
CICERO = (41.8456, -87.7539)

ReportMaker = Callable[..., Report]


@pytest.fixture
def report_from(zone: Zone, other_zone: Zone) -> ReportMaker:
    """receive_report as a neighbour would trigger it: `report_from("web", source="ip-1")`."""

    def make(
        channel: str = "web",
        *,
        at: tuple[float, float] | None = PILSEN,
        source: str = "",
        entered_by: User | None = None,
        **fields: Any,
    ) -> Report:
        lat, lng = at if at else (None, None)
        data = ReportInput(channel=channel, latitude=lat, longitude=lng, source=source, **fields)
        return receive_report(data, entered_by=entered_by)

    return make


def incident_of(report: Report) -> Incident:
    return IncidentReport.objects.select_related("incident").get(report=report).incident


def age_incident(incident: Incident, minutes: int) -> None:
    """Pretend the incident's reports and last action happened `minutes` ago."""
    then = timezone.now() - timedelta(minutes=minutes)
    Incident.objects.filter(pk=incident.pk).update(first_report_at=then, last_report_at=then, last_action_at=None)


def set_status(incident: Incident, status: str) -> Incident:
    Incident.objects.filter(pk=incident.pk).update(status=status)
    incident.refresh_from_db()
    return incident
