"""`manage.py send_deliveries`: the sender alone, for operators who run it as its own process
(several may share the ledger on PostgreSQL) and for tests and benchmarks.

SIGTERM or SIGINT: sends in flight finish, unsent leases are handed back, exit 0.

With `--name`, a sender first takes an exclusive lock on VAR_DIR/sender-<name>.lock, so a
second process under the same name on this host waits (ready to take over at once when the
first dies: the kernel drops the lock of a killed process) instead of stealing live leases.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import signal
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

import vigil.channels.transports  # noqa: F401 - loaded before waiting for the lock, not after
from vigil.channels.sender import Sender

_NAME = re.compile(r"[A-Za-z0-9-]{1,20}")


class Command(BaseCommand):
    help = "Send pending deliveries (alerts, pages, codes) through the configured channels."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--name",
            default="",
            help=(
                "A fixed name for this sender (letters, digits, '-'). Unique per running sender: on start it "
                "takes back at once what a crashed run under the same name held, instead of waiting for leases."
            ),
        )
        parser.add_argument("--batch", type=int, default=500, help="Deliveries claimed at a time (default: 500).")
        parser.add_argument(
            "--concurrency", type=int, default=0, help="Sends at once (default: VIGIL_DELIVERY_CONCURRENCY)."
        )
        parser.add_argument("--idle", type=float, default=0.2, help="Seconds between polls when idle (default: 0.2).")
        parser.add_argument("--until-idle", action="store_true", help="Exit once nothing is due.")

    def handle(
        self, *args: Any, name: str, batch: int, concurrency: int, idle: float, until_idle: bool, **options: Any
    ) -> None:
        if name and not _NAME.fullmatch(name):
            raise CommandError("--name takes 1 to 20 letters, digits or '-'.")
        if batch < 1 or concurrency < 0 or idle <= 0:
            raise CommandError("--batch, --concurrency and --idle must be positive.")
        lock = self.lock(name) if name else None
        sender = Sender(name=name, batch_size=batch, concurrency=concurrency or None)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, sender.stop)
            # Only now: a supervisor (or test) reading this line may rely on a clean SIGTERM.
            self.stdout.write(f"send_deliveries: started (pid {os.getpid()})")
            self.stdout.flush()
            await sender.run(idle_wait=idle, until_idle=until_idle, release_own=bool(name))

        try:
            asyncio.run(main())
        finally:
            if lock is not None:
                lock.close()
        self.stdout.write(f"send_deliveries: stopped ({sender.sent} sent)")

    def lock(self, name: str) -> IO[bytes]:
        path = settings.VAR_DIR / f"sender-{name}.lock"
        handle = path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.stdout.write(f"send_deliveries: another sender named {name} is running; waiting to take over")
            self.stdout.flush()
            fcntl.flock(handle, fcntl.LOCK_EX)
        return handle
