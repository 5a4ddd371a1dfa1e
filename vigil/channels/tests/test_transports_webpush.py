"""Web Push with VAPID to a fake push service."""

from __future__ import annotations

import uuid

import pytest

from tests.fakes.fixtures import (  # noqa: F401  (fixtures)
    browser_subscription,
    fake_push_fixture,
    fake_push_server_fixture,
    vapid_keys_fixture,
)
from tests.fakes.push import FakePush
from vigil.channels.tests.test_transports import outgoing, send, send_error
from vigil.channels.transports import transport_for
from vigil.channels.transports.webpush import TTL_SECONDS, WebPush


def test_a_notification_is_pushed_encrypted_with_vapid(fake_push: FakePush) -> None:
    token = uuid.uuid4().hex

    receipt = send(WebPush(), outgoing(address=browser_subscription(fake_push.endpoint(token))))

    assert len(receipt.provider_id) == 32
    [request] = fake_push.requests()
    assert request["to"] == token and request["vapid"] is True
    assert request["encoding"] == "aes128gcm" and request["ttl"] == str(TTL_SECONDS)
    assert request["bytes"] > 100


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_that_is_gone_is_a_permanent_error(fake_push: FakePush, status: int) -> None:
    token = uuid.uuid4().hex
    fake_push.gone([token], status=status)

    error = send_error(WebPush(), outgoing(address=browser_subscription(fake_push.endpoint(token))))

    assert error.permanent and error.message == f"Web Push {status} subscription gone"
    assert token not in error.message


def test_429_carries_the_push_services_wait(fake_push: FakePush) -> None:
    fake_push.set_mode("429", count=1, retry_after=30)

    error = send_error(WebPush(), outgoing(address=browser_subscription(fake_push.endpoint())))

    assert not error.permanent and error.retry_after == 30


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_failing_push_service_is_temporary(fake_push: FakePush, mode: str) -> None:
    fake_push.set_mode(mode, count=1)

    error = send_error(WebPush(), outgoing(address=browser_subscription(fake_push.endpoint())))

    assert not error.permanent


def test_a_hanging_push_service_times_out(fake_push: FakePush) -> None:
    fake_push.set_mode("timeout", count=1)

    error = send_error(WebPush(timeout=0.3), outgoing(address=browser_subscription(fake_push.endpoint())))

    assert not error.permanent and error.message == "Web Push timeout"


@pytest.mark.parametrize(
    "address",
    [
        "not json",
        '{"endpoint": "https://push.example/x"}',
        '{"endpoint": "https://p.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}',
    ],
)
def test_a_broken_subscription_is_a_permanent_error(fake_push: FakePush, address: str) -> None:
    error = send_error(WebPush(), outgoing(address=address))

    assert error.permanent


def test_web_push_is_live_with_vapid_keys(fake_push: FakePush) -> None:
    assert isinstance(transport_for("webpush"), WebPush)
