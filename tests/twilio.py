"""Sign requests the way Twilio does, for tests and benchmarks (the provider edge)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    payload = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def inbound_sms(sid: str, sender: str, body: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+13125550100",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
