"""SMS through Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json).

One keep-alive connection pool per sender process, sized to the sender's concurrency. Errors
name the HTTP status or Twilio's error code, never the number or the text: they are stored in
the ledger and shown to staff.

The client is aiohttp (already locked, through pywebpush): on this 2-core box it pushes about
3,800 requests/s over 50 keep-alive connections to the fake provider, where httpx 0.28 managed
150/s at the same concurrency (its pool slows as connections grow).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
from django.conf import settings

from vigil.channels.transports._http import retry_after_seconds
from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError

# Twilio error codes (REST answer 400) that say this number cannot get texts from us: retrying
# cannot help, so the endpoint is disabled. https://www.twilio.com/docs/api/errors
PERMANENT_CODES: dict[int, str] = {
    21211: "invalid To number",
    21217: "To number does not appear valid",
    21265: "To number is a short code",
    21266: "To and From are the same number",
    21407: "number type does not support SMS",
    21408: "region of the To number not enabled",
    21610: "recipient opted out (STOP)",
    21612: "To number not reachable from this sender",
    21614: "To number is not a mobile number",
}

# The same idea for the ErrorCode of a status callback (the carrier's verdict after Twilio
# accepted the message). Codes not listed (30003 handset off, 30007 carrier filtering, ...)
# are about this moment or our content, not the number.
CALLBACK_PERMANENT_CODES: dict[int, str] = {
    21610: "recipient opted out (STOP)",
    21614: "To number is not a mobile number",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
}

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


class TwilioSms(Transport):
    channel = "sms"

    @classmethod
    def missing_settings(cls) -> list[str]:
        missing = []
        if not settings.TWILIO_ACCOUNT_SID:
            missing.append("VIGIL_TWILIO_ACCOUNT_SID")
        if not settings.TWILIO_AUTH_TOKEN:
            missing.append("VIGIL_TWILIO_AUTH_TOKEN")
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            missing.append("VIGIL_TWILIO_FROM_NUMBER or VIGIL_TWILIO_MESSAGING_SERVICE_SID")
        return missing

    @classmethod
    def configured(cls) -> bool:
        return not cls.missing_settings()

    def __init__(self, *, timeout: float | None = None) -> None:
        self._url = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
        self._sender: dict[str, str] = (
            {"MessagingServiceSid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"From": settings.TWILIO_FROM_NUMBER}
        )
        self._callback = settings.PUBLIC_URL + STATUS_CALLBACK_PATH
        # The fields every message shares, form-encoded once; bodies are encoded once per text
        # (an alert has one per language). At a thousand messages a second urlencode showed
        # up as a tenth of the sender's time.
        self._common = urlencode({"StatusCallback": self._callback, **self._sender})
        self._bodies: dict[str, str] = {}
        credentials = f"{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_AUTH_TOKEN}".encode()
        self._headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "Accept": "application/json",
        }
        self._timeout = timeout if timeout is not None else float(settings.PROVIDER_TIMEOUT_SECONDS)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the sender's event loop (aiohttp binds a session to it).
        if self._session is None:
            self._session = new_session(self._timeout, self._headers)
        return self._session

    def per_second(self) -> float:
        return float(settings.SMS_PER_SECOND)

    async def send(self, message: Outgoing) -> Receipt:
        encoded = self._bodies.get(message.body)
        if encoded is None:
            if len(self._bodies) > 100:
                self._bodies.clear()
            encoded = self._bodies[message.body] = quote_plus(message.body)
        payload = f"To={quote_plus(message.address)}&Body={encoded}&{self._common}".encode()
        # Twilio's Messages API documents no idempotency key for requests (I-Twilio-Idempotency-Token
        # is the header Twilio itself puts on the webhooks it sends us), and it ignores headers it
        # does not know. We send the key under both names anyway: it costs nothing, a proxy or a
        # compatible provider can deduplicate on it, and the fake provider records it.
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": message.idempotency_key,
            "I-Twilio-Idempotency-Token": message.idempotency_key,
        }
        try:
            async with self._client().post(self._url, data=payload, headers=headers) as response:
                body = await response.read()
                return receipt_or_error(response.status, response.headers, body)
        except TimeoutError:
            raise TransportError("Twilio timeout") from None
        except aiohttp.ClientError as error:
            raise TransportError(f"Twilio connection error ({type(error).__name__})") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def new_session(timeout: float, headers: Mapping[str, str] | None = None) -> aiohttp.ClientSession:
    pool = max(int(settings.DELIVERY_CONCURRENCY), 1)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=pool, limit_per_host=pool),
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers=headers,
        raise_for_status=False,
    )


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def receipt_or_error(status: int, headers: Mapping[str, str], body: bytes) -> Receipt:
    data = _json(body)
    if status in (200, 201):
        sid = data.get("sid")
        if not isinstance(sid, str) or not sid or len(sid) > 64:
            raise TransportError(f"Twilio {status} without a message sid")
        return Receipt(provider_id=sid)
    code = data.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    if status == 429 or code == 20429:
        raise TransportError(
            "Twilio 429 too many requests", retry_after=retry_after_seconds(headers.get("Retry-After"))
        )
    if status in (401, 403):
        raise TransportError(
            f"Twilio {status} authentication refused: check VIGIL_TWILIO_ACCOUNT_SID and VIGIL_TWILIO_AUTH_TOKEN"
        )
    if status >= 500:
        raise TransportError(f"Twilio {status}")
    if code is not None and code in PERMANENT_CODES:
        raise TransportError(f"Twilio {code} {PERMANENT_CODES[code]}", permanent=True)
    if code is not None:
        # Other 4xx codes are about our configuration or the text (From number, body length):
        # not this recipient's fault, so the endpoint stays enabled and the ledger retries.
        raise TransportError(f"Twilio {status} error {code}")
    raise TransportError(f"Twilio {status}")
