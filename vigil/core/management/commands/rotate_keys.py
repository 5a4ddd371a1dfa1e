"""Re-encrypt every encrypted value that is not under the primary data key (SECURITY-TESTS A7).

Put the new key first in VIGIL_DATA_KEYS and keep the old ones after it, run this, then
drop the old keys. Each batch commits on its own, and rows already on the primary key are
skipped, so an interrupted run is simply started again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models import Q, Value

from vigil.core import crypto
from vigil.core.audit import audit
from vigil.core.fields import Ciphertext, EncryptedTextField, encrypted_fields


@dataclass
class Tally:
    rows: int = 0
    values: int = 0
    unreadable: int = 0


def rotate_model(model: type[models.Model], fields: list[EncryptedTextField], primary: str, batch: int) -> Tally:
    tally = Tally()
    present = Q()
    for field in fields:
        present |= Q(**{f"{field.attname}__isnull": False})
    base = model._default_manager.filter(present).only("pk", *(f.attname for f in fields)).order_by("pk")
    last: Any = None
    while True:
        # A batch holds the write lock (SQLite IMMEDIATE) or row locks (PostgreSQL) between
        # reading and writing back, so a value changed by the app meanwhile is never overwritten.
        with transaction.atomic():
            page = base if last is None else base.filter(pk__gt=last)
            rows = list(page.select_for_update()[:batch])
            if not rows:
                return tally
            last = rows[-1].pk
            changed: list[models.Model] = []
            changed_fields: set[str] = set()
            for row in rows:
                touched = False
                for field in fields:
                    raw = row.__dict__.get(field.attname)
                    if not isinstance(raw, Ciphertext):
                        continue
                    try:
                        if crypto.key_id_of(raw) == primary:
                            continue
                        context = field.context(row)
                        plaintext = crypto.decrypt(bytes(raw), **context)
                    except (crypto.DataLocked, crypto.TamperedCiphertext):
                        tally.unreadable += 1
                        continue
                    sealed = Ciphertext(crypto.encrypt(plaintext, **context))
                    # bulk_update reads the attribute through the field's descriptor, which
                    # would decrypt a Ciphertext; an expression is passed through untouched.
                    row.__dict__[field.attname] = Value(sealed, output_field=field)
                    changed_fields.add(field.name)
                    tally.values += 1
                    touched = True
                if touched:
                    changed.append(row)
            if changed:
                model._default_manager.bulk_update(changed, sorted(changed_fields))
                tally.rows += len(changed)


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field value under the primary (first) key of VIGIL_DATA_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        ring = crypto.keyring()
        if ring.primary is None:
            raise CommandError("No data key is loaded (VIGIL_DATA_KEYS).")
        batch = max(1, int(options["batch_size"]))
        total = Tally()
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            fields = encrypted_fields(model)
            if not fields:
                continue
            tally = rotate_model(model, fields, ring.primary, batch)
            total.rows += tally.rows
            total.values += tally.values
            total.unreadable += tally.unreadable
            self.stdout.write(
                f"{model._meta.label}: {tally.rows} rows re-encrypted ({tally.values} values), "
                f"{tally.unreadable} unreadable"
            )
        with transaction.atomic():
            audit("manage.py", "keys.rotate", object_type="data_key", object_id=ring.primary)
        self.stdout.write(
            f"Done: {total.rows} rows re-encrypted ({total.values} values) under key {ring.primary!r}, "
            f"{total.unreadable} values unreadable."
        )
        if total.unreadable:
            raise CommandError(
                f"{total.unreadable} values could not be decrypted (missing key or tampered); "
                "they were left as they were."
            )
