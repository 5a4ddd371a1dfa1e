"""Twilio's X-Twilio-Signature check, written here rather than imported.

The `twilio` package would bring aiohttp and a dozen other dependencies into the lock file for
fifteen lines of documented algorithm (twilio.com/docs/usage/security#validating-requests):
base64(HMAC-SHA1(auth token, URL + every POST key followed by its value, keys sorted)).
Twilio's libraries sort repeated values of one key too; so do we, so their test vectors pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, list[str]]]) -> str:
    """The signature Twilio sends for a POST to `url` with these form fields (key, values)."""
    merged: dict[str, list[str]] = {}
    for key, values in params:
        merged.setdefault(key, []).extend(values)
    payload = url + "".join(key + value for key in sorted(merged) for value in sorted(merged[key]))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid_signature(auth_token: str, url: str, params: Iterable[tuple[str, list[str]]], signature: str) -> bool:
    # Without a token every request is refused: an empty key would make signatures forgeable.
    if not auth_token or not signature:
        return False
    expected = compute_signature(auth_token, url, params).encode("ascii")
    # compare_digest only takes ASCII str; a header is attacker text, so compare bytes.
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))
