"""What the HTTP transports share: the provider's Retry-After, read without trusting it."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from django.utils import timezone

# A provider asking us to wait longer than this is treated as this: the ledger's own backoff
# and the alert's validity window decide the rest.
MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - timezone.now()).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
