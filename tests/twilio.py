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


WEBHOOK = "/webhooks/twilio/sms"


def text_via_webhook(sender: str, body: str) -> str | None:
    """Post one inbound SMS through the real webhook as Twilio does (signed); the TwiML reply
    text, if any."""
    import uuid
    import xml.etree.ElementTree as ET
    from urllib.parse import urlencode

    from django.conf import settings
    from django.test import Client

    fields = inbound_sms(f"SM{uuid.uuid4().hex}", sender, body)
    signature = twilio_signature(settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_URL + WEBHOOK, fields)
    response = Client().post(
        WEBHOOK,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200, response.content
    message = ET.fromstring(response.content).find("Message")  # noqa: S314 - our own TwiML
    return None if message is None else message.text
