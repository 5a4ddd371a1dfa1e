"""Field encryption and keyed blind indexes.

We write this ourselves (on top of `cryptography`'s AES-GCM) because the Django field
packages we looked at derive keys from SECRET_KEY or keep them in the database; Vigil's
keys live only in the environment (or a file) and rotate by key id.

Ciphertext layout: b"V1" | key id (1 length byte + ascii) | 12-byte nonce | AES-GCM output.
The associated data binds a ciphertext to its table, column and row, so a value copied
into another row or column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

security_log = logging.getLogger("vigil.security")

MAGIC = b"V1"


class DataLocked(Exception):
    """No data key is loaded (or not the one this value was written with)."""


class TamperedCiphertext(Exception):
    """A ciphertext failed authentication: it was changed, moved or truncated."""


@dataclass(frozen=True)
class Keyring:
    primary: str | None
    keys: dict[str, bytes]
    blind_key: bytes | None
    rate_key: bytes | None

    @property
    def loaded(self) -> bool:
        return self.primary is not None and self.blind_key is not None


def _decode_key(kid: str, text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ValueError(f"data key {kid!r} is not base64") from None
    if len(key) != 32:
        raise ValueError(f"data key {kid!r} must be 32 bytes (256 bits)")
    return key


def parse_data_keys(spec: str) -> tuple[str | None, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    primary = None
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kid, sep, text = item.partition(":")
        if not sep or not kid.isalnum() or len(kid) > 16:
            raise ValueError("VIGIL_DATA_KEYS entries look like kid:base64key (kid alphanumeric)")
        keys[kid] = _decode_key(kid, text)
        primary = primary or kid
    return primary, keys


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    primary, keys = parse_data_keys(settings.DATA_KEYS)
    blind = _decode_key("blind", settings.BLIND_INDEX_KEY) if settings.BLIND_INDEX_KEY else None
    rate = _decode_key("rate", settings.RATE_LIMIT_KEY) if settings.RATE_LIMIT_KEY else None
    return Keyring(primary=primary, keys=keys, blind_key=blind, rate_key=rate)


def reset_keyring() -> None:
    keyring.cache_clear()


def _aad(header: bytes, table: str, column: str, row: str) -> bytes:
    # The header (format + key id) is authenticated too, so moving a value to another key id
    # fails like any other tampering.
    return header + f"{table}\x1f{column}\x1f{row}".encode()


def encrypt(plaintext: bytes, *, table: str, column: str, row: str) -> bytes:
    ring = keyring()
    if ring.primary is None:
        raise DataLocked("no data key loaded")
    kid = ring.primary.encode()
    header = MAGIC + bytes([len(kid)]) + kid
    nonce = os.urandom(12)
    sealed = AESGCM(ring.keys[ring.primary]).encrypt(nonce, plaintext, _aad(header, table, column, row))
    return header + nonce + sealed


# Ciphertexts sealed with a row's own data key (vigil.core.rowkeys) carry this key id: the key
# is not in the keyring, and rotating the network's keys does not touch them (the row key is
# itself stored wrapped under the network's key, and that is what rotates).
ROW_KEY_ID = "row"


def encrypt_with_key(key: bytes, plaintext: bytes, *, table: str, column: str, row: str) -> bytes:
    kid = ROW_KEY_ID.encode()
    header = MAGIC + bytes([len(kid)]) + kid
    nonce = os.urandom(12)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(header, table, column, row))


def decrypt_with_key(key: bytes, ciphertext: bytes, *, table: str, column: str, row: str) -> bytes:
    kid = key_id_of(ciphertext)
    return _open(key, kid, ciphertext, table, column, row)


def _open(key: bytes, kid: str, ciphertext: bytes, table: str, column: str, row: str) -> bytes:
    start = 3 + len(kid)
    nonce, sealed = ciphertext[start : start + 12], ciphertext[start + 12 :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, _aad(ciphertext[:start], table, column, row))
    except (InvalidTag, ValueError):
        # Never log the value or the row's contents: the table and column say enough.
        security_log.warning("tampered ciphertext in %s.%s", table, column)
        raise TamperedCiphertext(f"{table}.{column} failed authentication") from None


def key_id_of(ciphertext: bytes) -> str:
    if ciphertext[:2] != MAGIC:
        raise TamperedCiphertext("unknown ciphertext format")
    length = ciphertext[2] if len(ciphertext) > 2 else 0
    kid = ciphertext[3 : 3 + length]
    # The key id is not covered by the GCM tag; a damaged one must still count as tampering
    # (logged), not as a key that merely isn't loaded.
    if not 1 <= length <= 16 or len(kid) != length or not kid.isascii() or not kid.isalnum():
        security_log.warning("tampered ciphertext header")
        raise TamperedCiphertext("damaged key id")
    return kid.decode("ascii")


def decrypt(ciphertext: bytes, *, table: str, column: str, row: str) -> bytes:
    kid = key_id_of(ciphertext)
    key = keyring().keys.get(kid)
    if key is None:
        raise DataLocked(f"key {kid!r} is not loaded")
    return _open(key, kid, ciphertext, table, column, row)


def blind_index(normalized: str, *, purpose: str = "phone") -> str:
    """Keyed HMAC of a normalized value, for exact-match lookups without the value."""
    key = keyring().blind_key
    if key is None:
        raise DataLocked("no blind index key loaded")
    return hmac.new(key, f"{purpose}\x1f{normalized}".encode(), hashlib.sha256).hexdigest()


def rate_key(value: str, *, purpose: str) -> str:
    """Keyed hash for rate-limit buckets: an IP address or phone never reaches the database."""
    key = keyring().rate_key or keyring().blind_key
    if key is None:
        raise DataLocked("no rate-limit key loaded")
    return hmac.new(key, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:40]
