"""What the ledger and sender tests share: an alert's rows, a simulated clock, a fake Twilio
wired to the real SMS transport, and `send_deliveries` as a real process. No tests here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tests import live
from tests.fakes.fixtures import fake_twilio_fixture, fake_twilio_server_fixture, twilio_env
from tests.fakes.twilio import FakeTwilio
from vigil.alerts.bulk import add_messages, add_subscribers
from vigil.alerts.fanout import write_alert_deliveries
from vigil.channels.models import Delivery, DeliveryStatus, Message
from vigil.channels.sender import Sender
from vigil.channels.transports.base import Transport
from vigil.core.models import Chapter, Zone

BODIES = {"en": "ALERT: immigration enforcement confirmed near you. Stay inside.", "es": "ALERTA: actividad de ICE."}


class SimClock:
    """Simulated wall clock the tests step instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or timezone.now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class AlertRows:
    batch: uuid.UUID
    messages: list[Message]
    count: int

    def deliveries(self) -> Any:
        return Delivery.objects.filter(message__batch=self.batch)

    def statuses(self) -> Counter[str]:
        return Counter(self.deliveries().values_list("status", flat=True))


def make_alert(
    chapter: Chapter,
    zones: Sequence[Zone],
    count: int,
    *,
    now: datetime | None = None,
    valid_minutes: float = 30,
    subscribers: bool = True,
) -> AlertRows:
    """`count` SMS subscribers in `zones` and one alert to all of them (rows only, no sending)."""
    now = now or timezone.now()
    if subscribers:
        add_subscribers(chapter, zones, count)
    with transaction.atomic():
        batch, messages = add_messages(
            chapter, now=now, valid_until=now + timedelta(minutes=valid_minutes), bodies=BODIES
        )
        written = write_alert_deliveries(
            batch=batch, chapter_id=chapter.pk, zone_ids=[z.pk for z in zones], drill=False, now=now
        )
    return AlertRows(batch=batch, messages=messages, count=written)


# Re-exported for the test modules (the shared fake Twilio, reset per test).
FIXTURES = (fake_twilio_fixture, fake_twilio_server_fixture)


def real_transports(channel: str) -> Transport | None:
    from vigil.channels.transports import PROVIDERS

    provider = PROVIDERS.get(channel)
    return provider() if provider is not None else None


class Drive:
    """Runs a sender's cycles on one event loop (its transports' connections belong to it)."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.loop = asyncio.new_event_loop()

    def steps(self, clock: SimClock, *, seconds: float, every: float) -> int:
        """Step every `every` simulated seconds for `seconds`; deliveries claimed."""
        handled = 0
        end = clock.now + timedelta(seconds=seconds)
        while clock.now < end:
            handled += self.loop.run_until_complete(self.sender.step())
            clock.advance(every)
        return handled

    def drain(self) -> int:
        """Step until nothing is due at the sender's current clock."""
        total = 0
        while claimed := self.loop.run_until_complete(self.sender.step()):
            total += claimed
        return total

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.sender.close())
        finally:
            self.loop.close()


def sender_env(twilio: FakeTwilio, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a `send_deliveries` process over the test database, sending to the fake."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigil.settings_test",
        "DATABASE_URL": live.test_database_url(),
        "VIGIL_VAR_DIR": str(tmp_path),
        **twilio_env(twilio),
        "VIGIL_SMS_PER_SECOND": "100000",
        "VIGIL_WORKER_HEARTBEAT_SECONDS": "1",
    }
    env.pop("VIGIL_TEST_DATABASE", None)
    env.update(extra)
    return env


def start_sender(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "manage.py", "send_deliveries", *args],
            cwd=live.ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    finally:
        handle.close()


def open_count(batch: uuid.UUID) -> int:
    return Delivery.objects.filter(
        message__batch=batch, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).count()
