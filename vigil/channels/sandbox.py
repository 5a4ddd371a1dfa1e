"""The sandbox of demo and drill mode: an in-app phone inbox instead of real providers.

Outgoing messages of every channel become `SandboxMessage` rows (direction OUT); the simulated
phone page sends a text through the same code path as Twilio's webhook (`receive_sms`) and
stores the text and the reply as rows too. Numbers here are fictional in demo mode, and a
drill participant's real number is encrypted like any other address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from vigil.accounts.models import User
from vigil.channels.models import ChannelKind, SandboxMessage
from vigil.core.audit import audit
from vigil.core.crypto import blind_index
from vigil.core.phones import phone_index

PHONE_CHANNELS = (ChannelKind.SMS, ChannelKind.SIGNAL)


def address_index(channel: str, address: str) -> str:
    """Phones share intake's "phone" index, so one phone's SMS and Signal form one thread."""
    if channel in PHONE_CHANNELS:
        return phone_index(address)
    return blind_index(address, purpose=channel)


def store_outgoing(channel: str, address: str, body: str, *, delivery_id: int | None = None) -> SandboxMessage:
    """What a real provider would have delivered to this address (called by the sandbox transport)."""
    return SandboxMessage.objects.create(
        channel=channel,
        address=address,
        address_index=address_index(channel, address),
        direction=SandboxMessage.Direction.OUT,
        body=body,
        at=timezone.now(),
        delivery_id=delivery_id,
    )


@dataclass(frozen=True)
class Inbox:
    index: str
    channel: str
    address: str
    count: int
    last_at: datetime


def inboxes(limit: int = 200) -> list[Inbox]:
    """The sandbox's phones (and mailboxes), most recently active first."""
    latest = SandboxMessage.objects.values("address_index").annotate(last_at=Max("at")).order_by("-last_at")[:limit]
    found: list[Inbox] = []
    for row in latest:
        messages = SandboxMessage.objects.filter(address_index=row["address_index"])
        newest = messages.order_by("-at").first()
        if newest is None:
            continue
        found.append(
            Inbox(
                index=row["address_index"],
                channel=newest.channel,
                address=str(newest.address),
                count=messages.count(),
                last_at=row["last_at"],
            )
        )
    return found


def thread(index: str, limit: int = 200) -> list[SandboxMessage]:
    """One phone's messages in and out, newest last."""
    newest_first = SandboxMessage.objects.filter(address_index=index).order_by("-at")[:limit]
    return list(reversed(newest_first))


def phone_of(index: str) -> str | None:
    """The phone number behind an index, if this phone has a message in the sandbox."""
    message = SandboxMessage.objects.filter(address_index=index, channel__in=PHONE_CHANNELS).order_by("-at").first()
    return str(message.address) if message is not None else None


@transaction.atomic(durable=True)
def _record_text(actor: User, phone: str, body: str) -> SandboxMessage:
    message = SandboxMessage.objects.create(
        channel=ChannelKind.SMS,
        address=phone,
        address_index=phone_index(phone),
        direction=SandboxMessage.Direction.IN,
        body=body,
        at=timezone.now(),
    )
    audit(actor, "send_sandbox_text", message)
    return message


@transaction.atomic(durable=True)
def _record_reply(phone: str, reply: str) -> SandboxMessage:
    return store_outgoing(ChannelKind.SMS, phone, reply)


def send_sandbox_text(actor: User, phone: str, body: str) -> str | None:
    """A simulated phone texts the network: the same processing as a real inbound SMS.

    The text, then the webhook's reply (if any), are stored in the phone's thread. Each step
    commits on its own because `receive_sms` is itself one durable transaction, as for Twilio.
    """
    from vigil.intake.webhooks import InboundSms, receive_sms

    _record_text(actor, phone, body)
    reply = receive_sms(InboundSms(sid="SB" + uuid.uuid4().hex, phone=phone, body=body))
    if reply:
        _record_reply(phone, reply)
    return reply
