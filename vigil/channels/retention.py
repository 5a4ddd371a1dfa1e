"""The channels' side of retention (found by vigil.core.retention's autodiscovery).

The ledger is kept RETAIN_DELIVERY_DAYS after a message's validity window ends: long enough
to answer "did my alert go out?", short enough that a seized server holds little history of
who was written to. Attempts and deliveries go before their message, in batches.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from vigil.channels.models import Attempt, Delivery, Message, SandboxMessage
from vigil.core.retention import purge_step

SANDBOX_DAYS = 7


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.RETAIN_DELIVERY_DAYS)


@purge_step("channels.attempt")
def expired_attempts(now: datetime) -> QuerySet[Any]:
    return Attempt.objects.filter(delivery__message__valid_until__lte=_cutoff(now))


@purge_step("channels.delivery")
def expired_deliveries(now: datetime) -> QuerySet[Any]:
    # A fallback row goes with the row it replaces (on_delete CASCADE).
    return Delivery.objects.filter(message__valid_until__lte=_cutoff(now))


@purge_step("channels.message")
def expired_messages(now: datetime) -> QuerySet[Any]:
    return Message.objects.filter(valid_until__lte=_cutoff(now))


@purge_step("channels.sandboxmessage")
def old_sandbox_messages(now: datetime) -> QuerySet[Any]:
    return SandboxMessage.objects.filter(at__lte=now - timedelta(days=SANDBOX_DAYS))
