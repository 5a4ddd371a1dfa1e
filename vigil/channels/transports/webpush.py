"""Web Push with VAPID (pywebpush), to the push service behind each browser subscription.

The endpoint's address is the subscription JSON the browser gave us: {endpoint, keys{p256dh,
auth}}. pywebpush blocks (requests), so each send runs in a worker thread over one pooled
session.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import requests
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter

from vigil.channels.transports._http import retry_after_seconds
from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError

# The validity window of the alert is not known here; half an hour is the default window, and
# a push service drops the message after it rather than waking a phone with a stale alert.
TTL_SECONDS = 1800


def parse_subscription(address: str) -> dict[str, Any]:
    try:
        data = json.loads(address)
    except ValueError:
        raise TransportError("Web Push subscription is not JSON", permanent=True) from None
    keys = data.get("keys") if isinstance(data, dict) else None
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if (
        not isinstance(endpoint, str)
        or not endpoint.startswith(("https://", "http://"))
        or not isinstance(keys, dict)
        or not isinstance(keys.get("p256dh"), str)
        or not isinstance(keys.get("auth"), str)
    ):
        raise TransportError("Web Push subscription is incomplete", permanent=True)
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


class WebPush(Transport):
    channel = "webpush"

    @classmethod
    def missing_settings(cls) -> list[str]:
        return [
            name
            for name, value in (
                ("VIGIL_VAPID_PUBLIC_KEY", settings.VAPID_PUBLIC_KEY),
                ("VIGIL_VAPID_PRIVATE_KEY", settings.VAPID_PRIVATE_KEY),
                ("VIGIL_VAPID_SUBJECT", settings.VAPID_SUBJECT),
            )
            if not value
        ]

    @classmethod
    def configured(cls) -> bool:
        return not cls.missing_settings()

    def __init__(self, *, timeout: float | None = None) -> None:
        self._timeout = timeout if timeout is not None else float(settings.PROVIDER_TIMEOUT_SECONDS)
        self._vapid: Vapid | None
        try:
            self._vapid = Vapid.from_string(private_key=settings.VAPID_PRIVATE_KEY)
        except (ValueError, TypeError):
            # A bad key must not stop the sender (and every other channel with it): each push
            # fails with a clear error on the channels page instead.
            self._vapid = None
        pool = max(int(settings.DELIVERY_CONCURRENCY), 1)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def per_second(self) -> float:
        return float(settings.WEBPUSH_PER_SECOND)

    async def send(self, message: Outgoing) -> Receipt:
        subscription = parse_subscription(message.address)
        payload = json.dumps(
            {"title": message.subject, "body": message.body, "url": message.url, "drill": message.is_drill},
            ensure_ascii=False,
        )
        return await asyncio.to_thread(self._send, subscription, payload)

    def _send(self, subscription: dict[str, Any], payload: str) -> Receipt:
        if self._vapid is None:
            raise TransportError("VIGIL_VAPID_PRIVATE_KEY is not a valid VAPID private key")
        try:
            response = webpush(
                subscription_info=subscription,
                data=payload,
                vapid_private_key=self._vapid,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                timeout=self._timeout,
                ttl=TTL_SECONDS,
                requests_session=self._session,
            )
        except WebPushException as error:
            raise _error_for(error.response) from None
        except requests.Timeout:
            raise TransportError("Web Push timeout") from None
        except requests.RequestException as error:
            raise TransportError(f"Web Push connection error ({type(error).__name__})") from None
        except (ValueError, TypeError):
            # Keys that do not decode or are not points on the curve: the browser's subscription is bad.
            raise TransportError("Web Push subscription keys are invalid", permanent=True) from None
        location = response.headers.get("Location", "") if isinstance(response, requests.Response) else ""
        # The push service's message URL ends in its id; the rest may name the subscription.
        return Receipt(provider_id=location.rstrip("/").rpartition("/")[2][:64])

    async def aclose(self) -> None:
        self._session.close()


def _error_for(response: Any) -> TransportError:
    status = getattr(response, "status_code", None)
    if status is None:
        return TransportError("Web Push subscription invalid", permanent=True)
    if status in (404, 410):
        return TransportError(f"Web Push {status} subscription gone", permanent=True)
    if status == 429:
        headers = getattr(response, "headers", {}) or {}
        wait = retry_after_seconds(headers.get("Retry-After"))
        return TransportError("Web Push 429 too many requests", retry_after=wait)
    if status == 413:
        return TransportError("Web Push 413 payload too large")
    return TransportError(f"Web Push {status}")
