"""Fixed-window rate limits kept in the database under a keyed hash.

Exact under concurrency: the increment is one conditional UPDATE, so two requests can never
both take the last slot. No IP address or phone number is stored: only HMAC(rate key, value).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vigil.core.crypto import rate_key
from vigil.core.models import RateBucket


def hit(value: str, *, purpose: str, limit: int, window: timedelta) -> bool:
    """Count one event for `value`; True if it is within the limit."""
    key = rate_key(value, purpose=purpose)
    now = timezone.now()
    seconds = int(window.total_seconds())
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)
    for _ in range(2):
        with transaction.atomic():
            taken = RateBucket.objects.filter(key=key, window_start=start, count__lt=limit).update(count=F("count") + 1)
            if taken:
                return True
            if RateBucket.objects.filter(key=key, window_start=start).exists():
                return False
            try:
                with transaction.atomic():
                    RateBucket.objects.create(key=key, window_start=start, count=1)
                return limit >= 1
            except IntegrityError:
                continue  # another request created the bucket first; count against it
    return False


def purge_expired(older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _ = RateBucket.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted
