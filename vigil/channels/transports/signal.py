"""Signal through signal-cli's JSON-RPC HTTP endpoint (`signal-cli -a NUMBER daemon --http`).

signal-cli answers a send with `result.results[]`, one per recipient, each with a `type`
(SUCCESS, UNREGISTERED_FAILURE, RATE_LIMIT_FAILURE, NETWORK_FAILURE, IDENTITY_FAILURE, ...)
and, for a rate limit with a proof challenge, `retryAfterSeconds`. Newer versions report
failures as a JSON-RPC error whose `data.response.results` has the same shape, and say
"... is not registered." in a user error (-1). Error texts of signal-cli quote the number, so
they are never copied into ours.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import aiohttp
from django.conf import settings

from vigil.channels.transports._http import MAX_RETRY_AFTER, retry_after_seconds
from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError
from vigil.channels.transports.sms import new_session

USER_ERROR = -1
RATE_LIMIT_ERROR = -5


class SignalCli(Transport):
    channel = "signal"

    @classmethod
    def missing_settings(cls) -> list[str]:
        missing = []
        if not settings.SIGNAL_CLI_URL:
            missing.append("VIGIL_SIGNAL_CLI_URL")
        if not settings.SIGNAL_NUMBER:
            missing.append("VIGIL_SIGNAL_NUMBER")
        return missing

    @classmethod
    def configured(cls) -> bool:
        return not cls.missing_settings()

    def __init__(self, *, timeout: float | None = None) -> None:
        self._ids = itertools.count(1)
        self._url = settings.SIGNAL_CLI_URL + "/api/v1/rpc"
        self._timeout = timeout if timeout is not None else float(settings.PROVIDER_TIMEOUT_SECONDS)
        self._session: aiohttp.ClientSession | None = None

    def per_second(self) -> float:
        return float(settings.SIGNAL_PER_SECOND)

    async def send(self, message: Outgoing) -> Receipt:
        request_id = f"{message.idempotency_key}-{next(self._ids)}"
        payload = {
            "jsonrpc": "2.0",
            "method": "send",
            "params": {"account": settings.SIGNAL_NUMBER, "recipient": [message.address], "message": message.body},
            "id": request_id,
        }
        if self._session is None:
            self._session = new_session(self._timeout)
        try:
            async with self._session.post(self._url, json=payload) as response:
                status, retry_after, body = response.status, response.headers.get("Retry-After"), await response.read()
        except TimeoutError:
            raise TransportError("signal-cli timeout") from None
        except aiohttp.ClientError as error:
            raise TransportError(f"signal-cli connection error ({type(error).__name__})") from None
        if status == 429:
            raise TransportError("signal-cli 429", retry_after=retry_after_seconds(retry_after))
        if status != 200:
            raise TransportError(f"signal-cli HTTP {status}")
        try:
            reply = json.loads(body)
        except ValueError:
            raise TransportError("signal-cli answered something that is not JSON") from None
        if not isinstance(reply, dict):
            raise TransportError("signal-cli answered an unexpected JSON value")
        return receipt_or_error(reply)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _results(container: Any) -> list[dict[str, Any]]:
    if not isinstance(container, dict):
        return []
    results = container.get("results")
    return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []


def _retry_after(result: dict[str, Any]) -> float | None:
    value = result.get("retryAfterSeconds")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    return None


def _raise_for_results(results: list[dict[str, Any]]) -> None:
    for result in results:
        kind = result.get("type")
        if kind == "UNREGISTERED_FAILURE":
            raise TransportError("Signal recipient not registered", permanent=True)
        if kind in ("RATE_LIMIT_FAILURE", "PROOF_REQUIRED_FAILURE"):
            reason = "proof required" if result.get("token") else "rate limited"
            raise TransportError(f"Signal {reason}", retry_after=_retry_after(result))
        if kind == "IDENTITY_FAILURE":
            raise TransportError("Signal untrusted identity: run signal-cli with --trust-new-identities always")
        if kind and kind != "SUCCESS":
            raise TransportError(f"Signal {str(kind)[:40]}")


def receipt_or_error(reply: dict[str, Any]) -> Receipt:
    error = reply.get("error")
    if isinstance(error, dict):
        data = error.get("data")
        _raise_for_results(_results(data.get("response") if isinstance(data, dict) else None))
        code = error.get("code")
        text = str(error.get("message") or "")
        if code == USER_ERROR and "not registered" in text:
            raise TransportError("Signal recipient not registered", permanent=True)
        if code == RATE_LIMIT_ERROR or "rate limit" in text.lower():
            raise TransportError("Signal rate limited")
        raise TransportError(f"signal-cli error {code if isinstance(code, int) else '?'}")
    result = reply.get("result")
    _raise_for_results(_results(result))
    timestamp = result.get("timestamp") if isinstance(result, dict) else None
    return Receipt(provider_id=str(timestamp)[:64] if isinstance(timestamp, int) else "")
