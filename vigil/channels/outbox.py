"""Writing small sends into the delivery ledger: a page, a reminder, a confirmation code.

One `Message` per language used (sharing one batch) and one pending `Delivery` per endpoint,
in the caller's transaction. Alerts write their 100,000 rows with one INSERT … SELECT instead
(vigil.alerts.fanout).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.db import transaction

from vigil.channels.models import Delivery, DeliveryStatus, Endpoint, Message

# Urgent sends jump the queue: the sender claims by next_attempt_at, so a delivery dated a day
# "in the past" goes before the backlog of a 100,000-recipient alert sent a minute earlier. A
# page that waits behind an alert is a verifier who never comes.
URGENT_LEAD = timedelta(days=1)


def queue(
    *,
    chapter_id: int,
    purpose: str,
    recipients: Sequence[tuple[str, Endpoint]],
    text_for: Callable[[str], str],
    now: datetime,
    valid_until: datetime,
    subject: str = "",
    urgent: bool = False,
) -> list[Delivery]:
    """`recipients` are (language, endpoint) pairs; `text_for(language)` the body. The
    deliveries, in the order of `recipients`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.queue writes in the caller's transaction")
    batch = uuid.uuid4()
    messages = {
        language: Message.objects.create(
            chapter_id=chapter_id,
            batch=batch,
            purpose=purpose,
            language=language,
            subject=subject,
            body=text_for(language),
            created_at=now,
            valid_until=valid_until,
        )
        for language in sorted({language for language, _ in recipients})
    }
    due = now - URGENT_LEAD if urgent else now
    deliveries = [
        Delivery(
            message=messages[language],
            endpoint=endpoint,
            channel=endpoint.channel,
            status=DeliveryStatus.PENDING,
            next_attempt_at=due,
        )
        for language, endpoint in recipients
    ]
    Delivery.objects.bulk_create(deliveries)
    return deliveries
