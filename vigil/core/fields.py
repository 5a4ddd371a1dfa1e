"""Model fields that keep sensitive values as AES-GCM ciphertext.

Reading the attribute gives the plaintext (decrypted lazily, bound to table/column/row);
assigning a str stores the plaintext until save, when it is sealed with the row's primary
key. Models using these fields must have a primary key known before save (UUIDs).
"""

from __future__ import annotations

import base64
from typing import Any

from django.db import models

from vigil.core import crypto


class Ciphertext(bytes):
    """Bytes as loaded from the database; not yet decrypted."""


class LockedValue(str):
    """Shown in place of a value that cannot be decrypted (no key, or tampered)."""

    tampered: bool = False

    def __new__(cls, *, tampered: bool = False) -> LockedValue:
        obj = super().__new__(cls, "⚠" if tampered else "🔒")
        obj.tampered = tampered
        return obj

    def __bool__(self) -> bool:
        return True


class EncryptedDescriptor:
    def __init__(self, field: EncryptedTextField) -> None:
        self.field = field

    def __get__(self, instance: models.Model | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        raw = instance.__dict__.get(self.field.attname)
        if isinstance(raw, Ciphertext):
            return self.field.open(instance, bytes(raw))
        return raw

    def __set__(self, instance: models.Model, value: Any) -> None:
        if isinstance(value, memoryview):
            value = Ciphertext(bytes(value))
        elif isinstance(value, bytes) and not isinstance(value, Ciphertext):
            value = Ciphertext(value)
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.BinaryField):
    """Text stored as ciphertext. Empty values are stored as NULL (nothing to protect)."""

    descriptor_class = EncryptedDescriptor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def context(self, instance: models.Model) -> dict[str, str]:
        return {"table": instance._meta.db_table, "column": str(self.column), "row": str(instance.pk)}

    def open(self, instance: models.Model, ciphertext: bytes) -> str:
        try:
            return self.unseal(instance, ciphertext).decode()
        except crypto.DataLocked:
            return LockedValue()
        except crypto.TamperedCiphertext:
            return LockedValue(tampered=True)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return Ciphertext(bytes(value))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        raw = model_instance.__dict__.get(self.attname)
        if raw is None or raw == "" or isinstance(raw, Ciphertext):
            return raw or None
        if isinstance(raw, LockedValue):
            raise crypto.DataLocked("refusing to save a value that could not be decrypted")
        if model_instance.pk is None:
            raise ValueError(f"{type(model_instance).__name__} needs its primary key before encryption")
        sealed = Ciphertext(self.seal(model_instance, str(raw).encode()))
        model_instance.__dict__[self.attname] = sealed
        return sealed

    def seal(self, instance: models.Model, plaintext: bytes) -> bytes:
        return crypto.encrypt(plaintext, **self.context(instance))

    def unseal(self, instance: models.Model, ciphertext: bytes) -> bytes:
        return crypto.decrypt(ciphertext, **self.context(instance))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            raise ValueError("plaintext reached the database layer; save through the model")
        return super().get_db_prep_value(bytes(value), connection, prepared)


class RowKeyTextField(EncryptedTextField):
    """Text sealed with a row family's own data key (a `core.DataKey`), not the network's.

    `key_path` names the DataKey from the instance: "data_key" on a case, "case.data_key" on
    its hearings. Deleting the DataKey crypto-shreds the value: afterwards it reads as locked
    with every key the network has. Select the key with the rows (select_related) on lists.
    """

    def __init__(self, *args: Any, key_path: str = "data_key", **kwargs: Any) -> None:
        self.key_path = key_path
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["key_path"] = self.key_path
        return name, path, args, kwargs

    def row_key(self, instance: models.Model) -> bytes | None:
        data_key: Any = instance
        for part in self.key_path.split("."):
            data_key = getattr(data_key, part, None)
            if data_key is None:
                return None
        return row_key_bytes(data_key)

    def _key(self, instance: models.Model) -> bytes:
        key = self.row_key(instance)
        if key is None:
            raise crypto.DataLocked(f"{type(instance).__name__} has no data key (shredded?)")
        return key

    def seal(self, instance: models.Model, plaintext: bytes) -> bytes:
        return crypto.encrypt_with_key(self._key(instance), plaintext, **self.context(instance))

    def unseal(self, instance: models.Model, ciphertext: bytes) -> bytes:
        return crypto.decrypt_with_key(self._key(instance), ciphertext, **self.context(instance))


def row_key_bytes(data_key: Any) -> bytes | None:
    """The 32-byte key of a `core.DataKey`, unwrapped once per instance; None if locked."""
    cached = getattr(data_key, "_vigil_key", None)
    if cached is not None:
        return bytes(cached)
    wrapped = data_key.wrapped
    if wrapped is None or isinstance(wrapped, LockedValue):
        return None
    key = base64.urlsafe_b64decode(wrapped + "=" * (-len(wrapped) % 4))
    data_key._vigil_key = key
    return key


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    """Fields sealed with the network's keys (what `rotate_keys` re-encrypts). Row-key fields
    are not among them: rotating re-wraps their DataKey instead."""
    return [
        f for f in model._meta.get_fields() if isinstance(f, EncryptedTextField) and not isinstance(f, RowKeyTextField)
    ]
