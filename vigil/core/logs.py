"""A last line of defence: scrub IP addresses and phone-like numbers from every log record.

Code must not log personal data in the first place; this catches what a library logs.
"""

from __future__ import annotations

import ipaddress
import logging
import re

IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Candidates only (compressed forms, embedded IPv4, zone ids); ipaddress decides, so clock
# times such as 04:48:56 are left alone.
IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::?\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.]+)?(?![\w:]|\.\d)"
)
PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def _ipv6(match: re.Match[str]) -> str:
    text = match.group()
    try:
        ipaddress.IPv6Address(text.split("%")[0])
    except ValueError:
        return text
    return "[ip]"


def scrub(text: str) -> str:
    text = IPV6_CANDIDATE.sub(_ipv6, text)
    text = IPV4.sub("[ip]", text)
    return PHONE.sub("[number]", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must not break the request
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
