"""Personas of the organizing tests: volunteers on the roster, with and without a login."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import login, make_staff
from vigil.accounts.models import Role, User
from vigil.channels.models import ChannelKind, Endpoint
from vigil.core.models import Chapter
from vigil.core.phones import phone_index
from vigil.organizing.models import Event, EventKind
from vigil.responders.models import Responder, ResponderRole, ResponderStatus

ANA_PHONE = "+13125550101"
BETO_PHONE = "+13125550102"
CARMEN_PHONE = "+13125550103"


def make_responder(
    chapter: Chapter,
    name: str,
    phone: str,
    *,
    language: str = "en",
    status: str = ResponderStatus.APPROVED,
    user: User | None = None,
) -> Responder:
    index = phone_index(phone)
    endpoint = Endpoint(chapter=chapter, channel=ChannelKind.SMS, address_index=index)
    endpoint.address = phone
    endpoint.save()
    responder = Responder(
        chapter=chapter,
        phone_index=index,
        endpoint=endpoint,
        status=status,
        language=language,
        applied_at=timezone.now() - timedelta(days=30),
        approved_at=timezone.now() - timedelta(days=29) if status == ResponderStatus.APPROVED else None,
        user=user,
    )
    responder.name = name
    responder.phone = phone
    responder.save()
    return responder


def make_event(
    chapter: Chapter,
    starts_at: datetime,
    *,
    number: int | None = None,
    kind: str = EventKind.TRAINING,
    role: str = ResponderRole.VERIFIER,
    title: str = "Verifier training",
    place: str = "Casa Aztlan, 1831 S Racine",
) -> Event:
    event = Event(
        chapter=chapter,
        number=number or (Event.objects.count() + 1),
        kind=kind,
        training_role=role if kind == EventKind.TRAINING else "",
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        created_at=timezone.now(),
    )
    event.place = place
    event.details = "Bring a charged phone."
    event.save()
    return event


@pytest.fixture
def volunteer_user(chapter: Chapter) -> User:
    return make_staff("ana.volunteer", Role.VOLUNTEER, chapter)


@pytest.fixture
def ana(chapter: Chapter, volunteer_user: User) -> Responder:
    """An approved volunteer with her own login, who reads English."""
    return make_responder(chapter, "Ana Alvarez", ANA_PHONE, user=volunteer_user)


@pytest.fixture
def beto(chapter: Chapter) -> Responder:
    """An approved volunteer who acts by text only, in Spanish."""
    return make_responder(chapter, "Beto Baños", BETO_PHONE, language="es")


@pytest.fixture
def as_volunteer(client: Client, ana: Responder, volunteer_user: User) -> Client:
    return login(client, volunteer_user)


@pytest.fixture
def as_organizer(client: Client, organizer: User) -> Client:
    return login(client, organizer)


def future(days: int = 3, hour: int = 10) -> datetime:
    """A round local time some days ahead (events must start in the future)."""
    day = timezone.localtime() + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def as_user(user: Any) -> Client:
    return login(Client(), user)
