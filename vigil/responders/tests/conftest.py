"""Shared fixtures for the responders tests: volunteers on the roster, on call the real way.

Import the helpers (`make_responder`, `put_on_call`, `text_from`, `report_in`) from here or use
the fixtures: `volunteers` (a factory), `ana`/`beto`/`carla` (three trained verifiers on call in
Pilsen, `zone`), `dario` (trained, on the backup list, on call nowhere), `elena` (a Spanish
speaking verifier on call in Pilsen), `lone_zone` (a far zone with nobody on call),
`neighbour_zone` (touches Pilsen, one verifier on call: `fede`).

Every volunteer has an SMS endpoint on the ledger, a VOLUNTEER account and a current verifier
training; "on call" is a one-member rotation of their zone that started an hour ago (12-hour
slots), so the weekly hours guardrail stays far off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import h3
import pytest
from django.utils import timezone

from conftest import make_staff
from tests.twilio import text_via_webhook
from vigil.accounts.models import Role, User
from vigil.channels.models import ChannelKind, Endpoint
from vigil.core.models import Chapter, Zone
from vigil.core.phones import phone_index
from vigil.incidents.models import Incident, IncidentReport
from vigil.intake.actions import ReportInput, receive_report
from vigil.responders.models import (
    Responder,
    ResponderRole,
    ResponderStatus,
    Rotation,
    RotationMember,
    Training,
)

PILSEN = (41.8575, -87.6600)


def phone_of(n: int) -> str:
    return f"+1773555{n:04d}"


def make_responder(
    chapter: Chapter,
    n: int,
    *,
    trained: bool = True,
    backup: bool = False,
    language: str = "en",
    status: str = ResponderStatus.APPROVED,
    account: bool = True,
    home_zones: list[Zone] | None = None,
    username: str = "",
    mfa: bool = False,
) -> Responder:
    """A volunteer numbered `n` (phone +1773555nnnn) with an SMS endpoint and, if `trained`,
    a verifier training current until next year. With `account`, a login of role VOLUNTEER
    (named `username`, MFA enrolled with `mfa`) that they may or may not use."""
    phone = phone_of(n)
    index = phone_index(phone)
    endpoint = Endpoint(chapter=chapter, channel=ChannelKind.SMS, address_index=index)
    endpoint.address = phone
    endpoint.save()
    now = timezone.now()
    user = None
    if account and (username or mfa):
        user = make_staff(username or f"volunteer{n}-{chapter.slug}", Role.VOLUNTEER, chapter, mfa=mfa)
    elif account:
        # No usable password: no Argon2 hash, which a test making 50 volunteers would feel.
        user = User.objects.create_user(f"volunteer{n}-{chapter.slug}", role=Role.VOLUNTEER)
        user.chapters.add(chapter)
    responder = Responder(
        chapter=chapter,
        user=user,
        phone_index=index,
        endpoint=endpoint,
        status=status,
        language=language,
        languages=[language],
        applied_at=now - timedelta(days=60, seconds=-n),
        approved_at=now - timedelta(days=50) if status == ResponderStatus.APPROVED else None,
        is_backup=backup,
    )
    responder.name = f"Volunteer {n}"
    responder.phone = phone
    responder.save()
    if home_zones:
        responder.home_zones.set(home_zones)
    if trained:
        today = now.date()
        Training.objects.create(
            responder=responder,
            role=ResponderRole.VERIFIER,
            completed_on=date(today.year - 1, 1, 1),
            expires_on=today + timedelta(days=365),
            recorded_at=now,
        )
    return responder


def put_on_call(responder: Responder, zone: Zone, *, since: datetime | None = None, hours: int = 12) -> Rotation:
    """A one-member rotation of `zone` whose current slot (from `since`, an hour ago) is theirs."""
    rotation = Rotation.objects.create(
        chapter=zone.chapter,
        zone=zone,
        name=f"On call {zone.name}",
        starts_at=since or timezone.now() - timedelta(hours=1),
        shift_hours=hours,
    )
    RotationMember.objects.create(rotation=rotation, responder=responder, position=0)
    return rotation


def report_in(latitude: float = PILSEN[0], longitude: float = PILSEN[1], *, kind: str = "home") -> Incident:
    """A neighbour's web report, stored the real way; the incident it opened."""
    report = receive_report(ReportInput(channel="web", kind=kind, latitude=latitude, longitude=longitude))
    return IncidentReport.objects.select_related("incident").get(report=report).incident


def text_from(phone: str, body: str) -> str | None:
    """Post one inbound SMS as Twilio does (signed) through the real webhook; the reply text."""
    return text_via_webhook(phone, body)


@pytest.fixture
def volunteers(chapter: Chapter) -> Callable[..., Responder]:
    """make_responder for the test chapter: volunteers(n, zone=..., **options)."""

    def make(n: int, *, zone: Zone | None = None, **options: Any) -> Responder:
        responder = make_responder(chapter, n, **options)
        if zone is not None:
            put_on_call(responder, zone)
        return responder

    return make


@pytest.fixture
def ana(volunteers: Callable[..., Responder], zone: Zone) -> Responder:
    return volunteers(1, zone=zone)


@pytest.fixture
def beto(volunteers: Callable[..., Responder], zone: Zone) -> Responder:
    return volunteers(2, zone=zone)


@pytest.fixture
def carla(volunteers: Callable[..., Responder], zone: Zone) -> Responder:
    return volunteers(3, zone=zone)


@pytest.fixture
def dario(volunteers: Callable[..., Responder]) -> Responder:
    return volunteers(4, backup=True)


@pytest.fixture
def elena(volunteers: Callable[..., Responder], zone: Zone) -> Responder:
    return volunteers(5, zone=zone, language="es")


@pytest.fixture
def neighbour_zone(chapter: Chapter, zone: Zone) -> Zone:
    """A zone of one cell touching Pilsen's (within PAGE_RING = 1 ring)."""
    cell = next(str(c) for c in h3.grid_ring(zone.cells[0], 1))
    return Zone.objects.create(chapter=chapter, name="Little Village", cells=[cell])


@pytest.fixture
def fede(volunteers: Callable[..., Responder], neighbour_zone: Zone) -> Responder:
    return volunteers(6, zone=neighbour_zone)


@pytest.fixture
def lone_zone(chapter: Chapter) -> Zone:
    return Zone.objects.create(chapter=chapter, name="Elgin", cells=[h3.latlng_to_cell(42.037, -88.281, 6)])
