"""Subscribing and unsubscribing without an account: the writes of the subscriptions part.

A contact (phone, email, push subscription) becomes an Endpoint (ciphertext + keyed index)
and a Subscriber per chapter. Phone and email need a double opt-in: a code or link goes out
through the delivery ledger (a CONFIRMATION message, no personal data in it) and nothing else
is ever sent until it comes back. Web Push is active at once: the browser's permission prompt
is the consent. STOP blanks the contact and leaves only its keyed hash in Suppression; a
suppressed contact is never written to again unless it texts JOIN or START itself.

Codes and link tokens are stored only as a keyed hash (`confirm_hash`), bound to the
subscriber's id; attempts are counted per subscriber in a keyed rate bucket.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, override

from vigil.alerts.models import Subscriber, SubscriberStatus, SubscriberZone, Suppression
from vigil.channels import outbox
from vigil.channels.models import (
    OPEN_STATUSES,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Endpoint,
    Purpose,
)
from vigil.core import ratelimit
from vigil.core.audit import audit
from vigil.core.crypto import blind_index
from vigil.core.models import Zone
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index

log = logging.getLogger("vigil.alerts.subscriptions")

LANGUAGES = ("en", "es")
CODE_TTL = timedelta(minutes=15)
LINK_TTL = timedelta(hours=24)
MAX_CONFIRM_ATTEMPTS = 5
# Confirmation messages one contact may receive, whoever asks for them (G11).
CODES_PER_CONTACT_PER_DAY = 3
OPTED_OUT = "opted out"
UNCONFIRMED = "waiting for confirmation"
ACTOR = "public:subscribe"
TICKET_SALT = "vigil.alerts.subscribe"
FALLBACK_SALT = "vigil.alerts.fallback"
UNSUBSCRIBE_SALT = "vigil.alerts.unsubscribe"

CODE_SMS = gettext_noop(
    "%(network)s: your code is %(code)s. Enter it on the subscribe page to get alerts. Not you? Ignore this."
)
LINK_EMAIL_SUBJECT = gettext_noop("Confirm your alerts subscription")
LINK_EMAIL = gettext_noop(
    "Someone asked %(network)s to send alerts about immigration enforcement to this address.\n\n"
    "To confirm, open this link within 24 hours:\n%(link)s\n\n"
    "If it was not you, ignore this email: nothing will be sent."
)
FALLBACK_SMS = gettext_noop(
    "%(network)s: reply YES to also get alerts on this phone when the other channel fails. Not you? Ignore this."
)
FALLBACK_EMAIL = gettext_noop(
    "Someone asked %(network)s to use this address as a second channel for alerts.\n\n"
    "To confirm, open this link within 24 hours:\n%(link)s\n\n"
    "If it was not you, ignore this email: nothing will be sent."
)


class InvalidContact(ValueError):
    """The phone, email or push subscription cannot be used; the text is safe to show."""


@dataclass(frozen=True)
class Contact:
    channel: str
    # Normalized: E.164, a lower-cased email, or a push subscription's JSON. Never log it.
    address: str = field(repr=False)
    index: str


def phone_contact(text: str) -> Contact:
    try:
        e164 = normalize_phone(text)
    except InvalidPhone:
        raise InvalidContact(gettext("That does not look like a phone number.")) from None
    return Contact(ChannelKind.SMS, e164, phone_index(e164))


def email_contact(text: str) -> Contact:
    address = text.strip().lower()
    if len(address) > 254:
        raise InvalidContact(gettext("That email address is too long."))
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidContact(gettext("That does not look like an email address.")) from None
    return Contact(ChannelKind.EMAIL, address, blind_index(address, purpose="email"))


_B64URL = re.compile(r"[A-Za-z0-9_\-=]{8,200}")


def push_contact(text: str) -> Contact:
    """A PushSubscription as the browser serialises it: endpoint URL plus p256dh/auth keys."""
    problem = InvalidContact(gettext("The browser sent a push subscription we cannot use."))
    if len(text) > 4096:
        raise problem
    try:
        data = json.loads(text)
    except ValueError:
        raise problem from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise problem
    endpoint, keys = data.get("endpoint"), data["keys"]
    if not isinstance(endpoint, str) or len(endpoint) > 1024:
        raise problem
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise problem
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(k, str) and _B64URL.fullmatch(k) for k in (p256dh, auth)):
        raise problem
    clean = json.dumps({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}, separators=(",", ":"))
    return Contact(ChannelKind.WEBPUSH, clean, blind_index(endpoint, purpose="webpush"))


def is_suppressed(index: str) -> bool:
    return Suppression.objects.filter(address_index=index).exists()


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("this subscription step needs the caller's transaction")


def _confirm_hash(subscriber_id: UUID, secret: str) -> str:
    return blind_index(f"{subscriber_id}:{secret.strip()}", purpose="subscribe-confirm")


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _queue(endpoint: Endpoint, *, language: str, body: str, subject: str = "", now: datetime) -> Delivery:
    """One CONFIRMATION message and its delivery, in the caller's transaction."""
    [delivery] = outbox.queue(
        chapter_id=endpoint.chapter_id,
        purpose=Purpose.CONFIRMATION,
        recipients=[(language, endpoint)],
        text_for=lambda _: body,
        now=now,
        valid_until=now + CODE_TTL,
        subject=subject,
    )
    return delivery


def _within_contact_limit(contact: Contact) -> bool:
    return ratelimit.hit(
        contact.index, purpose="subscribe-code", limit=CODES_PER_CONTACT_PER_DAY, window=timedelta(days=1)
    )


def _endpoint(chapter_id: int, contact: Contact) -> Endpoint | None:
    return (
        Endpoint.objects.select_for_update()
        .filter(chapter_id=chapter_id, channel=contact.channel, address_index=contact.index)
        .first()
    )


def _new_endpoint(chapter_id: int, contact: Contact, *, disabled_reason: str = "", now: datetime) -> Endpoint:
    endpoint = Endpoint(chapter_id=chapter_id, channel=contact.channel, address_index=contact.index)
    endpoint.address = contact.address
    if disabled_reason:
        endpoint.disabled_at = now
        endpoint.disabled_reason = disabled_reason
    endpoint.save(force_insert=True)
    return endpoint


def _set_zones(subscriber: Subscriber, zone_ids: Iterable[int]) -> None:
    wanted = set(zone_ids)
    SubscriberZone.objects.filter(subscriber=subscriber).exclude(zone_id__in=wanted).delete()
    have = set(SubscriberZone.objects.filter(subscriber=subscriber).values_list("zone_id", flat=True))
    SubscriberZone.objects.bulk_create([SubscriberZone(subscriber=subscriber, zone_id=z) for z in wanted - have])


def _by_chapter(zones: Sequence[Zone]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for zone in zones:
        grouped[zone.chapter_id].append(zone.pk)
    return dict(grouped)


# --- Tickets: what the web page carries between "send me a code" and "here is the code" -------


@dataclass(frozen=True)
class Ticket:
    """Signed (not secret) state of one web request: the subscribers, zones and language asked for.

    Carrying the wanted zones here, rather than writing them, means a request for a number
    that is already subscribed changes nothing until the code proves the phone is theirs.
    """

    subscriber_ids: tuple[UUID, ...]
    zone_ids: tuple[int, ...]
    language: str
    channel: str

    def dumps(self) -> str:
        payload = {
            "s": [s.hex for s in self.subscriber_ids],
            "z": list(self.zone_ids),
            "l": self.language,
            "c": self.channel,
        }
        return signing.dumps(payload, salt=TICKET_SALT, compress=True)

    @classmethod
    def loads(cls, text: str, *, max_age: timedelta) -> Ticket | None:
        try:
            data = signing.loads(text[:2000], salt=TICKET_SALT, max_age=max_age)
            return cls(
                subscriber_ids=tuple(UUID(hex=s) for s in data["s"]),
                zone_ids=tuple(int(z) for z in data["z"]),
                language=str(data["l"]) if data["l"] in LANGUAGES else "en",
                channel=str(data["c"]),
            )
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class WebRequest:
    contact: Contact
    zones: Sequence[Zone]
    language: str
    fallback: Contact | None = None


def _link(path: str) -> str:
    return settings.PUBLIC_URL + path


def confirm_link(ticket: Ticket, token: str) -> str:
    return _link(f"/subscribe/confirm/{ticket.dumps()}/{token}/")


@transaction.atomic(durable=True)
def request_subscription(request: WebRequest) -> Ticket:
    """The web page's "subscribe me": a code (SMS) or link (email) goes out, or nothing does.

    The caller shows the same answer whatever happened, so the page cannot tell who is
    subscribed (G11). Nothing goes to a suppressed contact or past the per-contact limit.
    """
    contact, language = request.contact, request.language if request.language in LANGUAGES else "en"
    now = timezone.now()
    grouped = _by_chapter(request.zones)
    if contact.channel == ChannelKind.WEBPUSH:
        pushed = tuple(
            _activate_push(chapter_id, contact, zone_ids, language, now) for chapter_id, zone_ids in grouped.items()
        )
        return Ticket(pushed, tuple(z.pk for z in request.zones), language, contact.channel)
    ids: list[UUID] = []
    subscribers: list[Subscriber] = []
    if not is_suppressed(contact.index):
        for chapter_id, zone_ids in grouped.items():
            subscriber = _pending_for(chapter_id, contact, zone_ids, language, now)
            if subscriber is not None:
                subscribers.append(subscriber)
    if not subscribers or not _within_contact_limit(contact):
        # Indistinguishable from a real ticket; it can never be confirmed.
        return Ticket((uuid4(),), tuple(z.pk for z in request.zones), language, contact.channel)
    secret = _new_code() if contact.channel == ChannelKind.SMS else secrets.token_urlsafe(24)
    ttl = CODE_TTL if contact.channel == ChannelKind.SMS else LINK_TTL
    for subscriber in subscribers:
        subscriber.confirm_hash = _confirm_hash(subscriber.pk, secret)
        subscriber.confirm_expires_at = now + ttl
        subscriber.save(update_fields=["confirm_hash", "confirm_expires_at"])
        ids.append(subscriber.pk)
        audit(ACTOR, "subscriber.request", subscriber)
    ticket = Ticket(tuple(ids), tuple(z.pk for z in request.zones), language, contact.channel)
    first = subscribers[0].endpoint
    network = settings.NETWORK_NAME
    with override(language):
        if contact.channel == ChannelKind.SMS:
            _queue(first, language=language, body=gettext(CODE_SMS) % {"network": network, "code": secret}, now=now)
        else:
            body = gettext(LINK_EMAIL) % {"network": network, "link": confirm_link(ticket, secret)}
            _queue(first, language=language, body=body, subject=gettext(LINK_EMAIL_SUBJECT), now=now)
    if request.fallback is not None and request.fallback.index != contact.index:
        for subscriber in subscribers:
            _attach_fallback(subscriber, request.fallback, language, now)
    return ticket


def _subscriber_of(endpoint: Endpoint, language: str) -> Subscriber | None:
    """The subscription this endpoint heads. An endpoint that heads none is either another
    subscription's second channel (None: leave it as it is) or a volunteer's paging number
    (vigil.responders), which becomes a pending subscription of its own."""
    subscriber = Subscriber.objects.filter(endpoint=endpoint).first()
    if subscriber is not None or Endpoint.objects.filter(fallback=endpoint).exists():
        return subscriber
    return Subscriber.objects.create(chapter_id=endpoint.chapter_id, endpoint=endpoint, language=language)


def _pending_for(
    chapter_id: int, contact: Contact, zone_ids: list[int], language: str, now: datetime
) -> Subscriber | None:
    endpoint = _endpoint(chapter_id, contact)
    if endpoint is None:
        endpoint = _new_endpoint(chapter_id, contact, now=now)
        made = Subscriber.objects.create(chapter_id=chapter_id, endpoint=endpoint, language=language)
        _set_zones(made, zone_ids)
        return made
    subscriber = _subscriber_of(endpoint, language)
    if subscriber is None:
        return None
    if subscriber.status == SubscriberStatus.PENDING:
        subscriber.language = language
        subscriber.save(update_fields=["language"])
        _set_zones(subscriber, zone_ids)
    return subscriber


def _activate_push(chapter_id: int, contact: Contact, zone_ids: list[int], language: str, now: datetime) -> UUID:
    endpoint = _endpoint(chapter_id, contact)
    if endpoint is None:
        endpoint = _new_endpoint(chapter_id, contact, now=now)
    else:
        # The browser may have rotated its keys for the same endpoint URL.
        endpoint.address = contact.address
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.save(update_fields=["address", "disabled_at", "disabled_reason"])
    subscriber, _ = Subscriber.objects.get_or_create(
        endpoint=endpoint, defaults={"chapter_id": chapter_id, "language": language}
    )
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.language = language
    subscriber.confirmed_at = subscriber.confirmed_at or now
    subscriber.save(update_fields=["status", "language", "confirmed_at"])
    _set_zones(subscriber, zone_ids)
    audit(ACTOR, "subscriber.subscribe_push", subscriber)
    return subscriber.pk


def _attach_fallback(subscriber: Subscriber, contact: Contact, language: str, now: datetime) -> None:
    """A second channel, off until its own owner confirms it (push needs no confirmation)."""
    primary = subscriber.endpoint
    if primary.fallback_id is not None:
        return
    if contact.channel != ChannelKind.WEBPUSH and (is_suppressed(contact.index) or not _within_contact_limit(contact)):
        return
    endpoint = _endpoint(primary.chapter_id, contact)
    if endpoint is None:
        reason = "" if contact.channel == ChannelKind.WEBPUSH else UNCONFIRMED
        endpoint = _new_endpoint(primary.chapter_id, contact, disabled_reason=reason, now=now)
    primary.fallback = endpoint
    primary.save(update_fields=["fallback"])
    if endpoint.disabled_reason != UNCONFIRMED:
        return
    network = settings.NETWORK_NAME
    with override(language):
        if contact.channel == ChannelKind.SMS:
            _queue(endpoint, language=language, body=gettext(FALLBACK_SMS) % {"network": network}, now=now)
        elif contact.channel == ChannelKind.EMAIL:
            token = signing.dumps(endpoint.pk.hex, salt=FALLBACK_SALT)
            link = _link(f"/subscribe/fallback/{token}/")
            body = gettext(FALLBACK_EMAIL) % {"network": network, "link": link}
            _queue(endpoint, language=language, body=body, subject=gettext(LINK_EMAIL_SUBJECT), now=now)


@transaction.atomic(durable=True)
def confirm_fallback(token: str) -> bool:
    try:
        endpoint_id = UUID(hex=signing.loads(token[:500], salt=FALLBACK_SALT, max_age=LINK_TTL))
    except (signing.BadSignature, TypeError, ValueError):
        return False
    enabled = Endpoint.objects.filter(pk=endpoint_id, disabled_reason=UNCONFIRMED).update(
        disabled_at=None, disabled_reason=""
    )
    return bool(enabled)


@transaction.atomic(durable=True)
def confirm_subscription(ticket: Ticket, secret: str) -> bool:
    """Check a code or link token against the ticket's subscribers; True if confirmed.

    Each subscriber allows MAX_CONFIRM_ATTEMPTS tries per code lifetime; a wrong code still
    commits its counted attempt.
    """
    now = timezone.now()
    secret = secret.strip()[:100]
    confirmed = False
    for subscriber_id in ticket.subscriber_ids:
        if not ratelimit.hit(
            str(subscriber_id), purpose="subscribe-confirm", limit=MAX_CONFIRM_ATTEMPTS, window=CODE_TTL
        ):
            continue
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(pk=subscriber_id, confirm_expires_at__gt=now)
            .exclude(confirm_hash="")
            .first()
        )
        if subscriber is None or not secrets.compare_digest(
            subscriber.confirm_hash, _confirm_hash(subscriber.pk, secret)
        ):
            continue
        _activate(subscriber, now)
        chapter_zones = list(
            Zone.objects.filter(pk__in=ticket.zone_ids, chapter_id=subscriber.chapter_id).values_list("pk", flat=True)
        )
        if chapter_zones:
            _set_zones(subscriber, chapter_zones)
        subscriber.language = ticket.language
        subscriber.save(update_fields=["language"])
        confirmed = True
    return confirmed


def _activate(subscriber: Subscriber, now: datetime) -> None:
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = now
    subscriber.confirm_hash = ""
    subscriber.confirm_expires_at = None
    subscriber.save(update_fields=["status", "confirmed_at", "confirm_hash", "confirm_expires_at"])
    # The contact just proved it receives our messages: lift an earlier provider error.
    Endpoint.objects.filter(pk=subscriber.endpoint_id).exclude(address_index="").update(
        disabled_at=None, disabled_reason=""
    )
    audit(ACTOR, "subscriber.confirm", subscriber)


# --- SMS keywords (run inside the inbound webhook's transaction) ---------------------------


@dataclass
class JoinResult:
    zones: list[Zone]
    # Chapters where the number was already subscribed: the zones were added at once.
    added_to_active: bool = False
    pending: bool = False


def zones_for_zip(zip_code: str) -> list[Zone]:
    from vigil.core import geo

    code = zip_code.strip()[:5]
    all_zones = list(Zone.objects.select_related("chapter").order_by("chapter__name", "name"))
    cell = geo.cell_for_zip(code)
    return [z for z in all_zones if code in (z.zip_codes or []) or geo.zone_for_cell(cell, [z]) is not None]


def join_by_sms(phone: str, index: str, zones: Sequence[Zone], language: str, now: datetime) -> JoinResult:
    """JOIN/ALTA <zip>: the number asked itself, so it leaves the suppression list (re-opt-in)."""
    _require_transaction()
    Suppression.objects.filter(address_index=index).delete()
    contact = Contact(ChannelKind.SMS, phone, index)
    result = JoinResult(zones=list(zones))
    for chapter_id, zone_ids in _by_chapter(zones).items():
        endpoint = _endpoint(chapter_id, contact)
        subscriber = _subscriber_of(endpoint, language) if endpoint else None
        if endpoint is not None and subscriber is None:
            continue
        if subscriber is not None and subscriber.status == SubscriberStatus.ACTIVE and endpoint and endpoint.enabled:
            SubscriberZone.objects.bulk_create(
                [SubscriberZone(subscriber=subscriber, zone_id=z) for z in zone_ids], ignore_conflicts=True
            )
            audit(ACTOR, "subscriber.add_zones", subscriber)
            result.added_to_active = True
            continue
        if endpoint is None:
            endpoint = _new_endpoint(chapter_id, contact, now=now)
            subscriber = Subscriber.objects.create(chapter_id=chapter_id, endpoint=endpoint, language=language)
        assert subscriber is not None
        subscriber.status = SubscriberStatus.PENDING
        subscriber.language = language
        # The reply YES is the confirmation: no code (a secret nobody knows), the same expiry.
        subscriber.confirm_hash = _confirm_hash(subscriber.pk, secrets.token_urlsafe(16))
        subscriber.confirm_expires_at = now + CODE_TTL
        subscriber.save(update_fields=["status", "language", "confirm_hash", "confirm_expires_at"])
        _set_zones(subscriber, zone_ids)
        audit(ACTOR, "subscriber.request", subscriber)
        result.pending = True
    return result


def confirm_by_sms(index: str, now: datetime, *, reopt_in: bool = False) -> list[Subscriber]:
    """YES/SI/START from the phone itself: every pending subscription of that number.

    Also switches on that number where it was given as someone's second channel.
    """
    _require_transaction()
    if reopt_in:
        Suppression.objects.filter(address_index=index).delete()
    elif is_suppressed(index):
        return []
    endpoints = Endpoint.objects.filter(channel=ChannelKind.SMS, address_index=index)
    endpoints.filter(disabled_reason=UNCONFIRMED).update(disabled_at=None, disabled_reason="")
    confirmed = list(
        Subscriber.objects.select_for_update()
        .select_related("chapter")
        .filter(
            endpoint__in=endpoints,
            status=SubscriberStatus.PENDING,
            confirm_expires_at__gt=now,
        )
    )
    for subscriber in confirmed:
        _activate(subscriber, now)
    return confirmed


def set_language_by_sms(index: str, language: str) -> int:
    _require_transaction()
    return Subscriber.objects.filter(
        endpoint__channel=ChannelKind.SMS,
        endpoint__address_index=index,
        status__in=[SubscriberStatus.PENDING, SubscriberStatus.ACTIVE],
    ).update(language=language)


def on_sms_language_chosen(sender: Any, *, phone_index: str, language: str, **kwargs: Any) -> None:
    """Receiver of intake's sms_language_chosen (LANG ES), inside the webhook's transaction."""
    if language in LANGUAGES:
        set_language_by_sms(phone_index, language)


def subscribed_zone_names(index: str) -> list[str]:
    return list(
        Zone.objects.filter(
            pk__in=SubscriberZone.objects.filter(
                subscriber__endpoint__channel=ChannelKind.SMS,
                subscriber__endpoint__address_index=index,
                subscriber__status=SubscriberStatus.ACTIVE,
            ).values("zone_id")
        ).values_list("name", flat=True)
    )


# --- Stopping (B5) -------------------------------------------------------------------------


def _forget(endpoint_ids: Sequence[UUID], now: datetime) -> None:
    """Blank the ciphertext and index, switch the endpoints off, cancel what was still queued.

    Endpoints are kept (blanked) rather than deleted so that past alerts' delivery counts stay.
    """
    Endpoint.objects.filter(pk__in=endpoint_ids).update(
        address=None, address_index="", disabled_at=now, disabled_reason=OPTED_OUT
    )
    Delivery.objects.filter(endpoint_id__in=endpoint_ids, status__in=OPEN_STATUSES).update(
        status=DeliveryStatus.FAILED, finished_at=now, last_error=OPTED_OUT, lease_token="", lease_until=None
    )


def _stop_subscribers(subscribers: Iterable[Subscriber], now: datetime) -> None:
    for subscriber in subscribers:
        subscriber.status = SubscriberStatus.STOPPED
        subscriber.confirm_hash = ""
        subscriber.confirm_expires_at = None
        subscriber.save(update_fields=["status", "confirm_hash", "confirm_expires_at"])
        SubscriberZone.objects.filter(subscriber=subscriber).delete()
        audit(ACTOR, "subscriber.stop", subscriber)


def stop_contact_index(index: str, *, channels: Sequence[str], suppress: bool = True) -> int:
    """Forget every endpoint with this keyed index; the subscribers they head stop. In a transaction."""
    _require_transaction()
    if not index:
        return 0
    now = timezone.now()
    endpoints = list(Endpoint.objects.select_for_update().filter(address_index=index, channel__in=channels))
    ids = [e.pk for e in endpoints]
    stopped = list(Subscriber.objects.select_for_update().filter(endpoint_id__in=ids).select_related("endpoint"))
    # A stopped subscription's second channel is forgotten too: it has no one left to serve.
    fallbacks = [s.endpoint.fallback_id for s in stopped if s.endpoint.fallback_id]
    _forget(ids + fallbacks, now)
    _stop_subscribers(stopped, now)
    if suppress:
        Suppression.objects.get_or_create(address_index=index)
    return len(stopped)


def stop_phone_index_now(index: str) -> int:
    """STOP/BAJA inside the webhook's transaction (B5)."""
    return stop_contact_index(index, channels=[ChannelKind.SMS, ChannelKind.SIGNAL])


@transaction.atomic(durable=True)
def stop_by_phone_index(index: str) -> int:
    return stop_phone_index_now(index)


def on_sms_opted_out(sender: Any, *, phone_index: str, **kwargs: Any) -> None:
    """Receiver of intake's sms_opted_out, inside the webhook's transaction."""
    stop_phone_index_now(phone_index)


def unsubscribe_token(endpoint: Endpoint) -> str:
    """For the link at the bottom of an email (no expiry: an old email must still work)."""
    return signing.dumps(endpoint.pk.hex, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(endpoint: Endpoint) -> str:
    return _link(f"/subscribe/unsubscribe/{unsubscribe_token(endpoint)}/")


@transaction.atomic(durable=True)
def unsubscribe_by_token(token: str) -> bool:
    try:
        endpoint_id = UUID(hex=signing.loads(token[:500], salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return False
    endpoint = Endpoint.objects.filter(pk=endpoint_id).exclude(address_index="").first()
    if endpoint is None:
        return True  # already gone: the same answer
    # An email that unsubscribed is never written to again (web push has no such list: a
    # new browser subscription is a new address, and the browser's permission is consent).
    stop_contact_index(
        endpoint.address_index, channels=[endpoint.channel], suppress=endpoint.channel == ChannelKind.EMAIL
    )
    return True


@transaction.atomic(durable=True)
def unsubscribe_push(contact: Contact) -> None:
    stop_contact_index(contact.index, channels=[ChannelKind.WEBPUSH], suppress=False)
