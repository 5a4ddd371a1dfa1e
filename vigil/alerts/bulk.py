"""Many subscribers at once, for the demo seed, tests and benchmarks (not for real sign-ups,
which go through the double opt-in in actions)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from vigil.alerts.models import Subscriber, SubscriberStatus, SubscriberZone
from vigil.channels.models import ChannelKind, Endpoint, Message
from vigil.core.models import Chapter, Zone
from vigil.core.phones import phone_index

_AREA_CODES = (312, 773, 872, 224, 630, 708, 847, 815, 779, 331, 217, 309, 618, 464, 447, 730, 262, 414, 219, 574)


def fake_phone(n: int) -> str:
    """A fictional number (the 555 exchange): 10,000 per area code, 200,000 in all."""
    area, line = divmod(n, 10_000)
    return f"+1{_AREA_CODES[area % len(_AREA_CODES)]}555{line:04d}"


def add_subscribers(
    chapter: Chapter,
    zones: Sequence[Zone],
    count: int,
    *,
    languages: Sequence[str] = ("en", "es"),
    channel: str = ChannelKind.SMS,
    start: int = 0,
    drill_participant: bool = False,
    batch_size: int = 5000,
) -> list[Subscriber]:
    """Active SMS subscribers with fictional numbers, spread round-robin over zones and languages."""
    now = timezone.now()
    made: list[Subscriber] = []
    for offset in range(0, count, batch_size):
        numbers = range(start + offset, start + min(offset + batch_size, count))
        with transaction.atomic():
            endpoints = []
            for n in numbers:
                phone = fake_phone(n)
                endpoints.append(
                    Endpoint(chapter=chapter, channel=channel, address=phone, address_index=phone_index(phone))
                )
            Endpoint.objects.bulk_create(endpoints)
            subscribers = [
                Subscriber(
                    chapter=chapter,
                    endpoint=endpoint,
                    language=languages[n % len(languages)],
                    status=SubscriberStatus.ACTIVE,
                    confirmed_at=now,
                    drill_participant=drill_participant,
                )
                for n, endpoint in zip(numbers, endpoints, strict=True)
            ]
            Subscriber.objects.bulk_create(subscribers)
            SubscriberZone.objects.bulk_create(
                SubscriberZone(subscriber=s, zone=zones[n % len(zones)])
                for n, s in zip(numbers, subscribers, strict=True)
            )
        made.extend(subscribers)
    return made


ALERT_BODIES = {
    "en": "ALERT: immigration enforcement confirmed near you. Stay inside.",
    "es": "ALERTA: actividad de ICE confirmada cerca de usted. Quedese adentro.",
}


def add_messages(
    chapter: Chapter, *, now: datetime, valid_until: datetime, bodies: Mapping[str, str] = ALERT_BODIES
) -> tuple[uuid.UUID, list[Message]]:
    """One send's messages, a language each, sharing a new batch (what send_alert writes before
    the fan-out), without an Alert: for tests and benchmarks of the ledger."""
    batch = uuid.uuid4()
    messages = [
        Message.objects.create(
            chapter=chapter, batch=batch, language=language, body=body, created_at=now, valid_until=valid_until
        )
        for language, body in bodies.items()
    ]
    return batch, messages
