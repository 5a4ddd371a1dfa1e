"""What a seizure of the database yields, column by column (SECURITY-TESTS A2)."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from vigil.core.fields import EncryptedTextField, RowKeyTextField

# Columns that hold a keyed hash (HMAC or SHA-256 of a random secret): useless without the key.
KEYED = {
    "contact_index",
    "phone_index",
    "source_hash",
    "digest",
    "key",
    "address_index",
    "confirm_hash",
    "a_number_index",
    "code_index",
    "pin_hash",
}


def classify(field: models.Field) -> str:
    if isinstance(field, RowKeyTextField):
        return "ciphertext row key"
    if isinstance(field, EncryptedTextField):
        return "ciphertext"
    if field.name in KEYED:
        return "keyed hash"
    return "plaintext"


def inventory() -> list[tuple[str, str, str]]:
    rows = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            rows.append((model._meta.db_table, str(field.column), classify(field)))
    return sorted(rows)


def markdown() -> str:
    lines = ["| column | stored as |", "|---|---|"]
    lines += [f"| `{table}.{column}` | {kind} |" for table, column, kind in inventory()]
    return "\n".join(lines) + "\n"
