"""Each transport against a fake provider on 127.0.0.1: what succeeds, what retries, what stops."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.fakes.fixtures import fake_twilio_fixture, fake_twilio_server_fixture  # noqa: F401  (fixtures)
from tests.fakes.twilio import FakeTwilio
from vigil.channels.transports import live_channels, missing_settings, transport_for
from vigil.channels.transports.base import Outgoing, Receipt, Transport, TransportError
from vigil.channels.transports.sandbox import Sandbox
from vigil.channels.transports.sms import TwilioSms
from vigil.intake.twilio_signature import is_valid_signature

NUMBER = "+13125550123"
TEXT = "ALERT Pilsen: confirmed ICE activity near 18th & Blue Island. Stay inside. Reply STOP to end."


def outgoing(address: str = NUMBER, body: str = TEXT, key: str = "vigil-1-1") -> Outgoing:
    return Outgoing(
        delivery_id=1,
        address=address,
        body=body,
        subject="Alert",
        url="",
        language="en",
        idempotency_key=key,
        is_drill=False,
    )


def send(transport: Transport, message: Outgoing) -> Receipt:
    async def go() -> Receipt:
        try:
            return await transport.send(message)
        finally:
            await transport.aclose()

    return asyncio.run(go())


def send_error(transport: Transport, message: Outgoing) -> TransportError:
    with pytest.raises(TransportError) as caught:
        send(transport, message)
    error = caught.value
    assert NUMBER not in error.message and TEXT[:20] not in error.message
    assert "5550123" not in error.message
    return error


# --- SMS (Twilio) -------------------------------------------------------------------------


def test_a_text_is_accepted_with_twilios_message_sid(fake_twilio: FakeTwilio, settings: Any) -> None:
    receipt = send(TwilioSms(), outgoing())

    assert receipt.provider_id.startswith("SM") and len(receipt.provider_id) == 34
    [request] = fake_twilio.requests()
    assert request["to"] == NUMBER and request["body"] == TEXT
    assert request["from"] == settings.TWILIO_FROM_NUMBER and request["messaging_service_sid"] == ""
    assert request["status_callback"] == "http://testserver/webhooks/twilio/status"
    assert request["sid"] == receipt.provider_id


def test_the_delivery_idempotency_key_is_sent(fake_twilio: FakeTwilio) -> None:
    send(TwilioSms(), outgoing(key="vigil-7-42"))

    [request] = fake_twilio.requests()
    assert request["idempotency_key"] == "vigil-7-42"
    assert request["twilio_idempotency_token"] == "vigil-7-42"


def test_a_messaging_service_replaces_the_from_number(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32

    send(TwilioSms(), outgoing())

    [request] = fake_twilio.requests()
    assert request["messaging_service_sid"] == "MG" + "1" * 32 and request["from"] == ""


def test_429_is_temporary_and_carries_twilios_retry_after(fake_twilio: FakeTwilio) -> None:
    fake_twilio.set_mode("429", count=1, retry_after=7)

    error = send_error(TwilioSms(), outgoing())

    assert not error.permanent and error.retry_after == 7
    assert error.message == "Twilio 429 too many requests"


@pytest.mark.parametrize("mode", ["500", "503"])
def test_server_errors_are_temporary(fake_twilio: FakeTwilio, mode: str) -> None:
    fake_twilio.set_mode(mode, count=1)

    error = send_error(TwilioSms(), outgoing())

    assert not error.permanent and error.retry_after is None
    assert error.message == f"Twilio {mode}"


def test_a_provider_that_never_answers_is_a_temporary_timeout(fake_twilio: FakeTwilio) -> None:
    fake_twilio.set_mode("timeout", count=1)

    error = send_error(TwilioSms(timeout=0.3), outgoing())

    assert not error.permanent and error.message == "Twilio timeout"


def test_a_dropped_connection_is_temporary(fake_twilio: FakeTwilio) -> None:
    fake_twilio.set_mode("drop", count=1)

    error = send_error(TwilioSms(), outgoing())

    assert not error.permanent and error.message.startswith("Twilio connection error")


def test_a_slow_provider_still_delivers_within_the_timeout(fake_twilio: FakeTwilio) -> None:
    fake_twilio.set_mode("slow", count=1, delay_ms=100)

    assert send(TwilioSms(), outgoing()).provider_id.startswith("SM")


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (21211, "Twilio 21211 invalid To number"),
        (21614, "Twilio 21614 To number is not a mobile number"),
        (21610, "Twilio 21610 recipient opted out (STOP)"),
        (21612, "Twilio 21612 To number not reachable from this sender"),
    ],
)
def test_numbers_twilio_cannot_text_are_permanent_errors(fake_twilio: FakeTwilio, code: int, text: str) -> None:
    fake_twilio.fail_numbers([NUMBER], code=code)

    error = send_error(TwilioSms(), outgoing())

    assert error.permanent and error.message == text


def test_a_failing_number_does_not_affect_others(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_numbers([NUMBER])

    assert send(TwilioSms(), outgoing(address="+13125550124")).provider_id.startswith("SM")


def test_configuration_errors_are_temporary_so_the_endpoint_stays_on(fake_twilio: FakeTwilio) -> None:
    fake_twilio.set_mode("error", count=1, code=21606)

    error = send_error(TwilioSms(), outgoing())

    assert not error.permanent and error.message == "Twilio 400 error 21606"


def test_refused_credentials_are_temporary_and_name_the_settings(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    error = send_error(TwilioSms(), outgoing())

    assert not error.permanent
    assert "401" in error.message and "VIGIL_TWILIO_AUTH_TOKEN" in error.message
    assert "not-the-token" not in error.message


def test_an_unreachable_provider_is_temporary(settings: Any) -> None:
    from tests.fakes.client import free_port

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_FROM_NUMBER = "AC" + "0" * 32, "+13125550100"
    settings.TWILIO_API_URL = f"http://127.0.0.1:{free_port()}"

    error = send_error(TwilioSms(), outgoing())

    assert not error.permanent and error.message.startswith("Twilio connection error")


def test_one_transport_sends_many_messages_concurrently(fake_twilio: FakeTwilio) -> None:
    async def go() -> list[Receipt]:
        # A generous timeout: this is about concurrency, and CI runs two suites side by side.
        transport = TwilioSms(timeout=120)
        try:
            return await asyncio.gather(*(transport.send(outgoing(key=f"vigil-1-{i}")) for i in range(200)))
        finally:
            await transport.aclose()

    receipts = asyncio.run(go())

    assert len({r.provider_id for r in receipts}) == 200
    assert fake_twilio.stats()["accepted"] == 200


class _Receiver(BaseHTTPRequestHandler):
    posts: list[tuple[str, dict[str, str], str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        url = f"http://127.0.0.1:{self.server.server_port}{self.path}"  # type: ignore[attr-defined]
        self.posts.append((url, form, self.headers.get("X-Twilio-Signature", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_fake_sends_status_callbacks_signed_like_twilio(fake_twilio: FakeTwilio, settings: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PUBLIC_URL = f"http://127.0.0.1:{server.server_address[1]}"
    fake_twilio.callbacks(status="delivered", per_number={"+13125550124": ("undelivered", 30006)})
    try:
        delivered = send(TwilioSms(), outgoing())
        failed = send(TwilioSms(), outgoing(address="+13125550124"))
        fake_twilio.wait_for("callbacks_sent", 2)
    finally:
        server.shutdown()
        server.server_close()

    by_sid = {form["MessageSid"]: (url, form, signature) for url, form, signature in _Receiver.posts}
    url, form, signature = by_sid[delivered.provider_id]
    assert form["MessageStatus"] == "delivered" and "ErrorCode" not in form
    assert is_valid_signature(fake_twilio.auth_token, url, [(k, [v]) for k, v in form.items()], signature)
    assert not is_valid_signature("another-token", url, [(k, [v]) for k, v in form.items()], signature)
    _, form, _ = by_sid[failed.provider_id]
    assert form["MessageStatus"] == "undelivered" and form["ErrorCode"] == "30006"


# --- Which channels are live ----------------------------------------------------------------


def test_a_channel_without_its_settings_is_off(settings: Any) -> None:
    settings.SANDBOX = False
    settings.TWILIO_ACCOUNT_SID = ""
    settings.SIGNAL_CLI_URL = ""
    settings.VAPID_PRIVATE_KEY = ""

    assert transport_for("sms") is None and transport_for("signal") is None and transport_for("webpush") is None
    assert live_channels()["sms"] is False
    assert "VIGIL_TWILIO_ACCOUNT_SID" in missing_settings("sms")
    assert "VIGIL_SIGNAL_CLI_URL" in missing_settings("signal")


def test_a_channel_with_its_settings_is_live(fake_twilio: FakeTwilio) -> None:
    transport = transport_for("sms")

    assert isinstance(transport, TwilioSms) and live_channels()["sms"] is True
    assert missing_settings("sms") == []
    asyncio.run(transport.aclose())


def test_the_sandbox_takes_every_channel(settings: Any) -> None:
    settings.SANDBOX = True

    for channel in ("sms", "signal", "email", "webpush"):
        transport = transport_for(channel)
        assert isinstance(transport, Sandbox) and transport.channel_name == channel
        asyncio.run(transport.aclose())
    assert all(live_channels().values())
    assert transport_for("carrier-pigeon") is None


def test_the_sms_sender_rate_is_configuration(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.SMS_PER_SECOND = 30

    assert TwilioSms().per_second() == 30
