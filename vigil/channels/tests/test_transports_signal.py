"""Signal through a fake signal-cli JSON-RPC daemon."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.fixtures import fake_signal_fixture, fake_signal_server_fixture  # noqa: F401  (fixtures)
from tests.fakes.signal_cli import FakeSignal
from vigil.channels.tests.test_transports import NUMBER, TEXT, outgoing, send, send_error
from vigil.channels.transports import transport_for
from vigil.channels.transports.signal import SignalCli


def test_a_message_is_sent_from_the_networks_account(fake_signal: FakeSignal) -> None:
    receipt = send(SignalCli(), outgoing())

    assert receipt.provider_id.isdigit()
    [request] = fake_signal.requests()
    assert request["to"] == NUMBER and request["body"] == TEXT


@pytest.mark.parametrize("old_style", [False, True])
def test_an_unregistered_recipient_is_a_permanent_error(fake_signal: FakeSignal, old_style: bool) -> None:
    fake_signal.unregistered([NUMBER], old_style=old_style)

    error = send_error(SignalCli(), outgoing())

    assert error.permanent and error.message == "Signal recipient not registered"


def test_a_rate_limit_is_temporary_with_signals_wait(fake_signal: FakeSignal) -> None:
    fake_signal.rate_limit(retry_after=42, count=1)

    error = send_error(SignalCli(), outgoing())

    assert not error.permanent and error.retry_after == 42
    assert error.message == "Signal proof required"


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_failing_daemon_is_temporary(fake_signal: FakeSignal, mode: str) -> None:
    fake_signal.set_mode(mode, count=1)

    error = send_error(SignalCli(), outgoing())

    assert not error.permanent


def test_a_hanging_daemon_times_out(fake_signal: FakeSignal) -> None:
    fake_signal.set_mode("timeout", count=1)

    error = send_error(SignalCli(timeout=0.3), outgoing())

    assert not error.permanent and error.message == "signal-cli timeout"


def test_a_wrong_account_is_a_temporary_configuration_error(fake_signal: FakeSignal, settings: Any) -> None:
    settings.SIGNAL_NUMBER = "+13125550000"

    error = send_error(SignalCli(), outgoing())

    assert not error.permanent and error.message == "signal-cli error -32602"


def test_signal_is_live_once_configured(fake_signal: FakeSignal) -> None:
    assert isinstance(transport_for("signal"), SignalCli)
