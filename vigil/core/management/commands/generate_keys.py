"""Print fresh secrets for a new installation, or a new data key for rotation.

Also runs without any configuration (production settings refuse to load without keys):
    python -m vigil.core.management.commands.generate_keys
"""

from __future__ import annotations

import base64
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def new_kid() -> str:
    return "k" + datetime.now(UTC).strftime("%Y%m%d%H%M")


def key_block(kid: str) -> str:
    return "\n".join(
        [
            "# Vigil secrets. Keep them out of the database, backups and version control;",
            "# losing VIGIL_DATA_KEYS or VIGIL_BLIND_INDEX_KEY makes the encrypted data unreadable.",
            f"VIGIL_SECRET_KEY={secrets.token_urlsafe(50)}",
            f"VIGIL_DATA_KEYS={kid}:{new_key()}",
            f"VIGIL_BLIND_INDEX_KEY={new_key()}",
            f"VIGIL_RATE_LIMIT_KEY={new_key()}",
        ]
    )


def rotation_line(kid: str, current: str) -> str:
    return "\n".join(
        [
            "# New data key first, old keys kept after it; then run `manage.py rotate_keys`",
            "# and, once it reports 0 unreadable values, remove the old keys.",
            f"VIGIL_DATA_KEYS={kid}:{new_key()}" + (f",{current}" if current else ""),
        ]
    )


class Command(BaseCommand):
    help = "Print a fresh VIGIL_SECRET_KEY / VIGIL_DATA_KEYS / VIGIL_BLIND_INDEX_KEY / VIGIL_RATE_LIMIT_KEY block."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kid", default="", help="Key id for the data key (letters and digits).")
        parser.add_argument(
            "--rotate", action="store_true", help="Print only VIGIL_DATA_KEYS: a new key before the current ones."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kid = options["kid"] or new_kid()
        if not kid.isalnum() or len(kid) > 16:
            self.stderr.write("--kid must be letters and digits, at most 16")
            sys.exit(2)
        if options["rotate"]:
            from django.conf import settings

            self.stdout.write(rotation_line(kid, settings.DATA_KEYS))
        else:
            self.stdout.write(key_block(kid))


if __name__ == "__main__":
    print(key_block(new_kid()))
