"""F2: the scrub filter keeps addresses and phone numbers out of every log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from vigil.core.logs import ScrubFilter, scrub

SECRETS = ["203.0.113.9", "2001:db8:85a3:0:0:8a2e:370:7334", "+1 (312) 555-0100", "312.555.0100", "3125550100"]


@pytest.fixture
def scrubbed_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("vigil.tests.scrub")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("value", SECRETS + ["::1", "+52 55 1234 5678", "call 312-555-0100."])
def test_scrub_removes_addresses_and_numbers(value: str) -> None:
    cleaned = scrub(f"before {value} after")
    assert value.strip(".") not in cleaned
    assert cleaned.startswith("before ") and cleaned.endswith(" after")


def test_message_arguments_are_scrubbed(scrubbed_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = scrubbed_log
    logger.warning(
        "login from %s, callback %s, %s", "203.0.113.9", "+1 (312) 555-0100", "2001:db8:85a3:0:0:8a2e:370:7334"
    )
    text = stream.getvalue()
    assert "login from [ip], callback [number], [ip]" in text
    for value in SECRETS:
        assert value not in text


def test_exception_text_is_scrubbed(scrubbed_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = scrubbed_log
    try:
        raise ValueError("cannot reach +1 (312) 555-0100 from 203.0.113.9")
    except ValueError:
        logger.exception("delivery failed")
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError: cannot reach [number] from [ip]" in text
    for value in SECRETS:
        assert value not in text


def test_a_broken_log_call_still_logs_scrubbed(scrubbed_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = scrubbed_log
    logger.warning("two args %s %s for 203.0.113.9", "only one")
    assert "203.0.113.9" not in stream.getvalue()


@pytest.mark.parametrize("value", ["2001:db8::1", "fe80::1%eth0", "[2001:db8::42]:443", "::ffff:203.0.113.9"])
def test_scrub_removes_compressed_ipv6(value: str) -> None:
    cleaned = scrub(f"from {value} now")
    assert "db8" not in cleaned and "fe80" not in cleaned and "ffff" not in cleaned and "203" not in cleaned
