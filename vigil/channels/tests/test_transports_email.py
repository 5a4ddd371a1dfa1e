"""Email through Django's backends: locmem in tests, and SMTP against a fake server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from tests.fakes.smtp import FakeSmtp
from vigil.channels.tests.test_transports import outgoing, send, send_error
from vigil.channels.transports import transport_for
from vigil.channels.transports.email import Email

ADDRESS = "neighbour@example.org"


def test_an_email_carries_a_message_id_derived_from_the_delivery(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "alerts@network.example"
    message = outgoing(address=ADDRESS, key="vigil-3-9")

    receipt = send(Email(), message)

    [email] = mail.outbox
    assert email.to == [ADDRESS] and email.subject == "Alert" and email.body.startswith(message.body)
    assert email.extra_headers["Message-ID"] == "<vigil-3-9@network.example>"
    assert receipt.provider_id == "vigil-3-9@network.example"


def test_email_is_live_with_the_test_backend() -> None:
    assert isinstance(transport_for("email"), Email)


@pytest.fixture
def smtp(settings: Any) -> Iterator[FakeSmtp]:
    with FakeSmtp() as fake:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", fake.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "alerts@network.example"
        yield fake


def test_smtp_delivers_with_the_message_id(smtp: FakeSmtp) -> None:
    send(Email(), outgoing(address=ADDRESS, key="vigil-3-10"))

    [message] = smtp.messages
    assert message["to"] == [ADDRESS]
    assert b"Message-ID: <vigil-3-10@network.example>" in message["data"]


def test_a_refused_recipient_is_a_permanent_error(smtp: FakeSmtp) -> None:
    smtp.refuse.add(ADDRESS)

    error = send_error(Email(), outgoing(address=ADDRESS))

    assert error.permanent and error.message == "SMTP 550 recipient refused"
    assert ADDRESS not in error.message


def test_a_deferred_recipient_is_temporary(smtp: FakeSmtp) -> None:
    smtp.defer.add(ADDRESS)

    error = send_error(Email(), outgoing(address=ADDRESS))

    assert not error.permanent and error.message == "SMTP 450 recipient refused"


def test_an_unreachable_smtp_server_is_temporary(smtp: FakeSmtp, settings: Any) -> None:
    from tests.fakes.client import free_port

    settings.EMAIL_PORT = free_port()

    error = send_error(Email(timeout=2), outgoing(address=ADDRESS))

    assert not error.permanent and error.message.startswith("SMTP connection error")


def test_email_needs_a_host_and_a_sender_outside_tests(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SANDBOX = False
    settings.EMAIL_HOST = ""

    assert transport_for("email") is None
    assert "VIGIL_EMAIL_HOST" in Email.missing_settings()
