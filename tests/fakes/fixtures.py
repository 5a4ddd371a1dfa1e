"""pytest fixtures for the fake providers: one server process per test session, reset per test.

Registered for the whole suite by the root conftest (`pytest_plugins`); the functions end in
`_fixture` so a module may also import them without its test arguments shadowing the import.

Each fixture also points Vigil's settings at its fake (and turns the sandbox off), so a
transport built inside the test talks to it. Worker subprocesses get the same through
`fake.env()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.push import FakePush
from tests.fakes.signal_cli import FakeSignal
from tests.fakes.twilio import FROM_NUMBER, FakeTwilio

# Long enough for a loaded CI box, short enough that "timeout" tests stay fast.
TEST_PROVIDER_TIMEOUT = 2


@pytest.fixture(scope="session", name="fake_twilio_server")
def fake_twilio_server_fixture() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="session", name="fake_signal_server")
def fake_signal_server_fixture() -> Iterator[FakeSignal]:
    with FakeSignal() as fake:
        yield fake


@pytest.fixture(scope="session", name="fake_push_server")
def fake_push_server_fixture() -> Iterator[FakePush]:
    with FakePush() as fake:
        yield fake


def twilio_env(fake: FakeTwilio) -> dict[str, str]:
    """Environment for a worker process that should send to this fake."""
    return {
        "VIGIL_SANDBOX": "False",
        "VIGIL_TWILIO_API_URL": fake.url,
        "VIGIL_TWILIO_ACCOUNT_SID": fake.account_sid,
        "VIGIL_TWILIO_AUTH_TOKEN": fake.auth_token,
        "VIGIL_TWILIO_FROM_NUMBER": FROM_NUMBER,
        "VIGIL_TWILIO_MESSAGING_SERVICE_SID": "",
        "VIGIL_PROVIDER_TIMEOUT_SECONDS": str(TEST_PROVIDER_TIMEOUT),
    }


@pytest.fixture(name="fake_twilio")
def fake_twilio_fixture(fake_twilio_server: FakeTwilio, settings: Any) -> Iterator[FakeTwilio]:
    fake = fake_twilio_server
    fake.reset()
    settings.SANDBOX = False
    settings.TWILIO_API_URL = fake.url
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.PROVIDER_TIMEOUT_SECONDS = TEST_PROVIDER_TIMEOUT
    yield fake
    fake.reset()


@pytest.fixture(name="fake_signal")
def fake_signal_fixture(fake_signal_server: FakeSignal, settings: Any) -> Iterator[FakeSignal]:
    fake = fake_signal_server
    fake.reset()
    settings.SANDBOX = False
    settings.SIGNAL_CLI_URL = fake.url
    settings.SIGNAL_NUMBER = fake.account
    settings.PROVIDER_TIMEOUT_SECONDS = TEST_PROVIDER_TIMEOUT
    yield fake
    fake.reset()


@pytest.fixture(scope="session", name="vapid_keys")
def vapid_keys_fixture() -> dict[str, str]:
    """A fresh VAPID key pair, in the form the settings take (base64url, raw)."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    vapid = Vapid()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return {"private": b64(private), "public": b64(public)}


@pytest.fixture(name="fake_push")
def fake_push_fixture(fake_push_server: FakePush, settings: Any, vapid_keys: dict[str, str]) -> Iterator[FakePush]:
    fake = fake_push_server
    fake.reset()
    settings.SANDBOX = False
    settings.VAPID_PUBLIC_KEY = vapid_keys["public"]
    settings.VAPID_PRIVATE_KEY = vapid_keys["private"]
    settings.VAPID_SUBJECT = "mailto:tech@example.org"
    settings.PROVIDER_TIMEOUT_SECONDS = TEST_PROVIDER_TIMEOUT
    yield fake
    fake.reset()


def browser_subscription(endpoint: str) -> str:
    """The subscription JSON a browser would give for this endpoint (fresh user-agent keys)."""
    import base64
    import json
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return json.dumps({"endpoint": endpoint, "keys": {"p256dh": b64(public), "auth": b64(os.urandom(16))}})
