"""SQLite durability settings, asserted on every new connection (SECURITY-TESTS I1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

EXPECTED_PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1}


def sql_datetime(value: datetime | None) -> Any:
    """A datetime as the ORM stores it, for raw SQL: naive UTC text on SQLite, so comparisons
    with the ORM's own rows agree (a raw aware value becomes text ending in "+00:00", which
    sorts after the same instant written by the ORM)."""
    return connection.ops.adapt_datetimefield_value(value)


class UnsafeDatabase(RuntimeError):
    pass


def sqlite_pragmas(connection: Any) -> dict[str, Any]:
    with connection.cursor() as cursor:
        found = {}
        for name in [*EXPECTED_PRAGMAS, "busy_timeout"]:
            cursor.execute(f"PRAGMA {name}")
            found[name] = cursor.fetchone()[0]
    return found


@receiver(connection_created)
def assert_sqlite_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "sqlite":
        return
    found = sqlite_pragmas(connection)
    wrong = {k: v for k, v in EXPECTED_PRAGMAS.items() if found[k] != v}
    # In-memory databases cannot use WAL; only the file databases we ship matter.
    if str(connection.settings_dict["NAME"]).startswith(("file:memorydb", ":memory:")):
        wrong.pop("journal_mode", None)
    if wrong or found["busy_timeout"] < 1000:
        raise UnsafeDatabase(f"SQLite connection is missing durability settings: {wrong or found}")
