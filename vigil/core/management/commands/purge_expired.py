"""Run the retention purge once, now (the worker also runs it every 15 minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vigil.core import retention


class Command(BaseCommand):
    help = "Delete every record past its retention period, then checkpoint the SQLite WAL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=retention.DEFAULT_BATCH_SIZE,
            help="Rows per transaction (default: %(default)s).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        # Flushed at once so a supervisor (or the crash test) knows the purge has begun.
        self.stdout.write("purge: started")
        self.stdout.flush()
        result = retention.purge_expired(batch_size=batch_size)
        for what, count in sorted(result.counts.items()):
            self.stdout.write(f"{what}: {count}")
        self.stdout.write(f"purge: done, {result.total} removed")
