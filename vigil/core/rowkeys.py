"""Per-row data keys for crypto-shredding (envelope encryption).

A case, or a family's preparedness plan, gets its own random 256-bit key. Its sensitive
fields (`RowKeyTextField`) are sealed with that key; the key is stored in `core.DataKey`,
itself sealed with the network's key. Shredding deletes the DataKey row: the ciphertexts that
remain (in the table, the WAL or an old backup taken afterwards) cannot be opened with any
key the network holds. Rotating the network's keys re-wraps DataKeys (they are ordinary
EncryptedTextFields) and leaves the row ciphertexts alone.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from vigil.core.models import DataKey


def new_data_key(purpose: str) -> DataKey:
    raw = secrets.token_bytes(32)
    data_key = DataKey(purpose=purpose[:32])
    data_key.wrapped = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    data_key.save()
    data_key._vigil_key = raw  # type: ignore[attr-defined]
    return data_key


def shred(data_key_id: uuid.UUID | str | None) -> bool:
    """Destroy a data key. True if there was one to destroy."""
    if data_key_id is None:
        return False
    deleted, _ = DataKey.objects.filter(pk=data_key_id).delete()
    return bool(deleted)
