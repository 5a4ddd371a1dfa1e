"""The background worker: django_tasks_db's worker loop for the default queue, plus a
heartbeat (for /healthz), the retention schedule, the delivery sender (its own thread and
event loop, its own "sender" heartbeat) and the clock of periodic jobs (vigil.core.schedule:
paging escalation, reminders; its own thread and "scheduler" heartbeat), in one process.
`--no-sender` leaves sending to separate `manage.py send_deliveries` processes;
`--no-scheduler` leaves the periodic jobs to another worker (they are safe to run in two).

Stops cleanly on SIGTERM or SIGINT: a task in progress finishes (a purge stops after its
current batch), sends in flight finish and unsent leases are handed back, then the process
exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from vigil.channels.sender import Sender, run_in_thread
from vigil.core import heartbeats, retention
from vigil.core.schedule import Scheduler
from vigil.core.tasks import purge_expired

log = logging.getLogger("vigil.worker")

PURGE_EVERY = timedelta(minutes=15)


def schedule_purge() -> bool:
    """Enqueue the purge unless one is already waiting. A purge that was killed mid-run
    (its row stuck in RUNNING) is simply superseded by this next one: purges are
    idempotent and resume from whatever the killed one committed."""
    waiting = DBTaskResult.objects.ready().filter(task_path=purge_expired.module_path).exists()
    if waiting:
        return False
    purge_expired.enqueue()
    return True


class Housekeeping(threading.Thread):
    """Heartbeat every WORKER_HEARTBEAT_SECONDS and a purge enqueued every `purge_every`."""

    def __init__(self, purge_every: timedelta) -> None:
        super().__init__(name="vigil-housekeeping", daemon=True)
        self.purge_every = purge_every
        self.stopped = threading.Event()

    def run(self) -> None:
        next_purge = time.monotonic()
        try:
            while not self.stopped.is_set():
                close_old_connections()
                try:
                    heartbeats.beat(heartbeats.WORKER)
                    if time.monotonic() >= next_purge:
                        schedule_purge()
                        next_purge = time.monotonic() + self.purge_every.total_seconds()
                except DatabaseError:
                    # A locked or restarting database must not end the heartbeat: the next
                    # beat tries again, and /healthz shows the gap meanwhile.
                    log.exception("worker housekeeping failed; retrying")
                self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)
        finally:
            connection.close()


class Command(BaseCommand):
    help = "Run background tasks, the worker heartbeat and the retention schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between queue polls when idle (default: 1)."
        )
        parser.add_argument(
            "--purge-every",
            type=float,
            default=PURGE_EVERY.total_seconds(),
            help="Seconds between retention purges (default: 900).",
        )
        parser.add_argument(
            "--no-sender", action="store_true", help="Do not send deliveries here (run send_deliveries instead)."
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not run the periodic jobs (paging escalation, reminders) in this process.",
        )

    def handle(
        self,
        *args: Any,
        interval: float,
        purge_every: float,
        no_sender: bool,
        no_scheduler: bool = False,
        **options: Any,
    ) -> None:
        worker = Worker(
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            interval=interval,
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        housekeeping = Housekeeping(timedelta(seconds=purge_every))
        sender = None if no_sender else Sender()
        scheduler = None if no_scheduler else Scheduler()

        def shutdown(signum: int, frame: FrameType | None) -> None:
            housekeeping.stopped.set()
            if scheduler is not None:
                scheduler.stopped.set()
            if sender is not None:
                sender.stop()
            retention.request_stop()
            # The library's handler ends the loop: at once when idle (SystemExit(0)), after
            # the current task otherwise; a second signal aborts that task.
            worker.shutdown(signum, frame)

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        housekeeping.start()
        sending = run_in_thread(sender) if sender is not None else None
        if scheduler is not None:
            scheduler.start()
        self.stdout.write(f"worker: started (pid {os.getpid()})")
        self.stdout.flush()
        try:
            worker.run()
        finally:
            housekeeping.stopped.set()
            if scheduler is not None:
                scheduler.stopped.set()
            if sender is not None and sending is not None:
                sender.stop()
                sending.join(timeout=60)
            housekeeping.join(timeout=30)
            if scheduler is not None:
                scheduler.join(timeout=30)
            self.stdout.write("worker: stopped")
