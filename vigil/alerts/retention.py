"""The alerts' side of retention (found by vigil.core.retention's autodiscovery).

A sign-up nobody confirmed is deleted once its code or link expires (a day's grace): we keep
no contact for someone who never agreed to hear from us. Deleting the endpoints deletes the
subscriber with them. Stopped subscribers already hold no contact (see subscriptions).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from vigil.alerts.models import Subscriber, SubscriberStatus
from vigil.channels.models import Endpoint
from vigil.core.retention import purge_step

UNCONFIRMED_GRACE = timedelta(days=1)


def _unconfirmed(now: datetime) -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(status=SubscriberStatus.PENDING, confirm_expires_at__lte=now - UNCONFIRMED_GRACE)


@purge_step("alerts.unconfirmed_fallback")
def unconfirmed_fallbacks(now: datetime) -> QuerySet[Any]:
    return Endpoint.objects.filter(id__in=_unconfirmed(now).values("endpoint__fallback_id"))


@purge_step("alerts.unconfirmed")
def unconfirmed_subscribers(now: datetime) -> QuerySet[Any]:
    return Endpoint.objects.filter(id__in=_unconfirmed(now).values("endpoint_id"))
