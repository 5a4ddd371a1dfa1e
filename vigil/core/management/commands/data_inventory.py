from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vigil.core.inventory import markdown


class Command(BaseCommand):
    help = "Print every table and column as ciphertext, keyed hash or plaintext (docs/data-inventory.md)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(markdown(), ending="")
