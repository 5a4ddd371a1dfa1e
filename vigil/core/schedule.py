"""Jobs the worker runs on a clock: paging escalation several times a second, event reminders
every half minute. Later stages register theirs from AppConfig.ready():

    schedule.register("paging.escalate", every=0.25, job=escalate_due)

A job gets the current time and must be quick and idempotent (it runs again on the next tick,
and in a second worker process at the same time). One thread runs them all in
`manage.py worker`, with its own "scheduler" heartbeat; `run_due` runs them once (tests and
benchmarks call it with a controlled clock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

log = logging.getLogger("vigil.schedule")

Job = Callable[[datetime], object]


@dataclass
class Entry:
    name: str
    every: float
    job: Job
    next_run: float = field(default=0.0)


_entries: dict[str, Entry] = {}


def register(name: str, *, every: float, job: Job) -> None:
    _entries[name] = Entry(name, every, job)


def registered() -> list[str]:
    return sorted(_entries)


def run_due(
    now: datetime | None = None, *, monotonic: float | None = None, names: list[str] | None = None
) -> list[str]:
    """Run the jobs whose interval has passed (all of them when `monotonic` is None); their names."""
    now = now or timezone.now()
    ran: list[str] = []
    for entry in list(_entries.values()):
        if names is not None and entry.name not in names:
            continue
        if monotonic is not None and monotonic < entry.next_run:
            continue
        try:
            entry.job(now)
        except DatabaseError:
            # A locked or restarting database: the next tick tries again.
            log.exception("scheduled job %s failed; retrying", entry.name)
        if monotonic is not None:
            entry.next_run = monotonic + entry.every
        ran.append(entry.name)
    return ran


class Scheduler(threading.Thread):
    """Runs every registered job on its interval until `stopped` is set."""

    def __init__(self, tick: float = 0.1) -> None:
        super().__init__(name="vigil-scheduler", daemon=True)
        self.tick = tick
        self.stopped = threading.Event()

    def run(self) -> None:
        from vigil.core import heartbeats

        next_beat = 0.0
        try:
            while not self.stopped.is_set():
                close_old_connections()
                now_monotonic = time.monotonic()
                run_due(monotonic=now_monotonic)
                if now_monotonic >= next_beat:
                    try:
                        heartbeats.beat(heartbeats.SCHEDULER)
                    except DatabaseError:
                        log.exception("scheduler heartbeat failed; retrying")
                    next_beat = now_monotonic + 5
                self.stopped.wait(self.tick)
        finally:
            connection.close()
