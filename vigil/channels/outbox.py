"""Writing small sends into the delivery ledger: a page, a reminder, a confirmation code.

One `Message` per language used (sharing one batch) and one pending `Delivery` per endpoint,
in the caller's transaction. Alerts write their 100,000 rows with one INSERT … SELECT instead
(vigil.alerts.fanout).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import ForeignObjectRel

from vigil.channels.models import OPEN_STATUSES, ChannelKind, Delivery, DeliveryStatus, Endpoint, Message
from vigil.core.crypto import blind_index

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
    sealed: bool = False,
) -> list[Delivery]:
    """`recipients` are (language, endpoint) pairs; `text_for(language)` the body. The
    deliveries, in the order of `recipients`. `sealed=True` keeps the text encrypted at rest
    (`Message.sealed_body`): for personal text such as a family's panic message."""
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
            body="" if sealed else text_for(language),
            created_at=now,
            valid_until=valid_until,
        )
        for language in sorted({language for language, _ in recipients})
    }
    if sealed:
        # The ciphertext is bound to the row's id, known only after the insert.
        for language, message in messages.items():
            message.sealed_body = text_for(language)
            message.save(update_fields=["sealed_body"])
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


@dataclass(frozen=True)
class Letter:
    """One recipient's own text (queue_each)."""

    endpoint: Endpoint
    language: str
    subject: str
    body: str


def queue_each(
    *, chapter_id: int, purpose: str, letters: Sequence[Letter], now: datetime, valid_until: datetime
) -> int:
    """A message per recipient, for texts that differ by person (a campaign update with each
    supporter's own stop link): two bulk INSERTs however many letters, where a `queue` call per
    person writes a message and a delivery each. Never personal text (no sealing here). How
    many were queued."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.queue_each writes in the caller's transaction")
    subject_max = Message._meta.get_field("subject").max_length or 0
    messages = Message.objects.bulk_create(
        [
            Message(
                chapter_id=chapter_id,
                batch=uuid.uuid4(),
                purpose=purpose,
                language=letter.language,
                subject=letter.subject[:subject_max],
                body=letter.body,
                created_at=now,
                valid_until=valid_until,
            )
            for letter in letters
        ]
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                message=message,
                endpoint=letter.endpoint,
                channel=letter.endpoint.channel,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for message, letter in zip(messages, letters, strict=True)
        ]
    )
    return len(letters)


def endpoint_for(chapter_id: int, channel: str, address: str, index: str) -> Endpoint:
    """The chapter's endpoint for this contact (one per chapter, channel and keyed index,
    shared by alerts, paging, case reminders and panic messages), or a new one. An existing
    endpoint keeps its state: if its owner opted out or it failed, it stays disabled."""
    endpoint = (
        Endpoint.objects.select_for_update().filter(chapter_id=chapter_id, channel=channel, address_index=index).first()
    )
    if endpoint is not None:
        return endpoint
    endpoint = Endpoint(chapter_id=chapter_id, channel=channel, address_index=index)
    endpoint.address = address
    endpoint.save(force_insert=True)
    return endpoint


def email_endpoint(chapter_id: int, address: str) -> Endpoint:
    """endpoint_for an email address: lower-cased, with the keyed index every email shares."""
    address = address.strip().lower()
    return endpoint_for(chapter_id, ChannelKind.EMAIL, address, blind_index(address, purpose="email"))


def release_endpoints(ids: Iterable[uuid.UUID | str]) -> int:
    """Delete the endpoints among `ids` that nothing uses any more, with their deliveries; how
    many went. Used when a case is shredded or a plan deleted, so a family contact's phone or
    email does not outlive them. "Uses" is every relation to Endpoint in any app (a subscriber,
    a volunteer, another case's family contact) except the endpoint's own deliveries and other
    endpoints' fallbacks, so a new app's relation protects its endpoints without a change here;
    and a delivery still waiting or sending (another family's panic message to the same
    contact) keeps its endpoint: a message in flight is never dropped for a clean-up."""
    wanted = {uuid.UUID(str(pk)) for pk in ids}
    wanted -= set(
        Delivery.objects.filter(endpoint_id__in=wanted, status__in=OPEN_STATUSES).values_list("endpoint_id", flat=True)
    )
    if not wanted:
        return 0
    relations = [f for f in Endpoint._meta.get_fields(include_hidden=True) if isinstance(f, ForeignObjectRel)]
    for relation in relations:
        model = relation.related_model
        if model is None or model in (Delivery, Endpoint):
            continue
        field = relation.field
        used = model._default_manager.filter(**{f"{field.name}__in": wanted})
        wanted -= set(used.values_list(field.attname, flat=True))
        if not wanted:
            return 0
    _total, deleted = Endpoint.objects.filter(pk__in=wanted).delete()
    return deleted.get(Endpoint._meta.label, 0)
