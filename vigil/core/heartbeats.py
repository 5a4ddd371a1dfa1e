"""Heartbeats of the background processes, read by /healthz and the dispatcher board.

The background worker (tasks, retention) and the delivery sender beat separately: the sender
may run inside the worker or as its own processes.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from vigil.core.models import WorkerHeartbeat

WORKER = "worker"
SENDER = "sender"
# Paging escalation and reminders (vigil.core.schedule), a thread of the worker.
SCHEDULER = "scheduler"
HEARTBEATS = (WORKER, SENDER, SCHEDULER)


def beat(name: str) -> None:
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since each heartbeat, None for one never seen."""
    now = now or timezone.now()
    seen = dict(WorkerHeartbeat.objects.filter(name__in=HEARTBEATS).values_list("name", "seen_at"))
    return {name: (round((now - seen[name]).total_seconds(), 1) if name in seen else None) for name in HEARTBEATS}


def stalled_heartbeats(ages: dict[str, float | None]) -> list[str]:
    """Heartbeats that were beating and stopped: older than three beat intervals."""
    limit = settings.WORKER_HEARTBEAT_SECONDS * 3
    return [name for name, age in ages.items() if age is not None and age > limit]
