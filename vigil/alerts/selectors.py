"""Reads of the alerts stage: who an alert would reach, its live progress, and the public page.

Staff see counts only, never contacts. Alerts are fetched only through access_alert_by_id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from vigil.alerts.models import Alert, AlertStatus, Subscriber, SubscriberStatus, SubscriberZone
from vigil.channels.models import Attempt, ChannelKind, Delivery, DeliveryStatus, Message
from vigil.core import geo
from vigil.core.models import Zone
from vigil.incidents.selectors import incident_chapter_ids

# The window over which the sending rate is observed for the ETA.
RATE_WINDOW = timedelta(seconds=30)


class AlertNotFound(Alert.DoesNotExist, Http404):
    """Missing, or another chapter's: the same error either way (no existence leak)."""


def alert_chapter_ids(user: Any) -> list[int]:
    """Alerts are read by the people who read incidents (not legal coordinators)."""
    return incident_chapter_ids(user)


def access_alert_by_id(user: Any, alert_id: Any) -> Alert:
    try:
        key = alert_id if isinstance(alert_id, uuid.UUID) else uuid.UUID(str(alert_id))
    except ValueError:
        raise AlertNotFound from None
    alert = (
        Alert.objects.select_related("incident__zone", "created_by", "approved_by", "follows", "chapter")
        .filter(pk=key, chapter_id__in=alert_chapter_ids(user))
        .first()
    )
    if alert is None:
        raise AlertNotFound
    return alert


def recent_alerts(user: Any, *, limit: int = 50) -> list[Alert]:
    return list(
        Alert.objects.filter(chapter_id__in=alert_chapter_ids(user))
        .select_related("incident__zone", "created_by", "approved_by")
        .order_by("-created_at")[: max(0, limit)]
    )


# --- targeting ----------------------------------------------------------------------------


def target_zones(zone: Zone, ring: int) -> list[Zone]:
    """The zone, plus (ring > 0) every zone of its chapter with a cell within `ring` h3 rings of it."""
    return geo.zones_within_rings(zone, ring)


@dataclass(frozen=True)
class Breakdown:
    """Who an alert would reach: counts by zone, language and channel, never contacts."""

    rows: list[tuple[str, str, str, int]]
    total: int
    by_zone: dict[str, int]
    by_language: dict[str, int]
    by_channel: dict[str, int]


def recipient_breakdown(chapter_id: int, zones: list[Zone], *, drill: bool) -> Breakdown:
    """Two queries: one GROUP BY for the breakdown, one distinct count (a subscriber may be in two zones)."""
    subscribers = Subscriber.objects.filter(
        chapter_id=chapter_id, status=SubscriberStatus.ACTIVE, endpoint__disabled_at__isnull=True
    )
    if drill:
        subscribers = subscribers.filter(drill_participant=True)
    zone_ids = [z.pk for z in zones]
    names = {z.pk: z.name for z in zones}
    grouped = (
        SubscriberZone.objects.filter(zone_id__in=zone_ids, subscriber__in=subscribers)
        .values_list("zone_id", "subscriber__language", "subscriber__endpoint__channel")
        .annotate(n=Count("subscriber_id"))
        .order_by("zone_id", "subscriber__language", "subscriber__endpoint__channel")
    )
    rows = [(names.get(z, "?"), lang, channel, n) for z, lang, channel, n in grouped]
    total = subscribers.filter(
        Exists(SubscriberZone.objects.filter(subscriber_id=OuterRef("pk"), zone_id__in=zone_ids))
    ).count()
    by_zone: dict[str, int] = {}
    by_language: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for zone_name, language, channel, n in rows:
        by_zone[zone_name] = by_zone.get(zone_name, 0) + n
        by_language[language] = by_language.get(language, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
    return Breakdown(rows=rows, total=total, by_zone=by_zone, by_language=by_language, by_channel=by_channel)


# --- live progress ------------------------------------------------------------------------


def per_second_limit(channel: str) -> int:
    limits: dict[str, int] = {
        ChannelKind.SMS: settings.SMS_PER_SECOND,
        ChannelKind.SIGNAL: settings.SIGNAL_PER_SECOND,
        ChannelKind.EMAIL: settings.EMAIL_PER_SECOND,
        ChannelKind.WEBPUSH: settings.WEBPUSH_PER_SECOND,
    }
    return limits.get(channel, 1)


@dataclass
class Progress:
    """Counts that add up exactly to `recipients` (rows moved to a fallback channel are left out:
    their replacement row counts instead)."""

    recipients: int = 0
    delivered: int = 0
    sent: int = 0
    pending: int = 0
    failed: int = 0
    expired: int = 0
    pending_by_channel: dict[str, int] = field(default_factory=dict)
    # Seconds left, or None when nothing is moving (shown as "—").
    eta_seconds: float | None = None
    # "observed", "configured" (no attempt yet: the per-channel limits), "" (no estimate).
    eta_basis: str = ""
    rate_per_second: float | None = None

    @property
    def done(self) -> int:
        return self.recipients - self.pending

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        if self.recipients == 0:
            return 100
        return int(100 * self.done // self.recipients)


def progress(alert: Alert, *, now: datetime | None = None) -> Progress:
    """Two queries: the delivery counts by channel and status, then the recent attempts."""
    now = now or timezone.now()
    result = Progress()
    counts = (
        Delivery.objects.filter(message__batch=alert.batch)
        .exclude(status=DeliveryStatus.FELL_BACK)
        .values_list("channel", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for channel, status, n in counts:
        result.recipients += n
        if status == DeliveryStatus.DELIVERED:
            result.delivered += n
        elif status == DeliveryStatus.SENT:
            result.sent += n
        elif status == DeliveryStatus.FAILED:
            result.failed += n
        elif status == DeliveryStatus.EXPIRED:
            result.expired += n
        else:
            result.pending += n
            result.pending_by_channel[channel] = result.pending_by_channel.get(channel, 0) + n
    if result.pending == 0:
        result.eta_seconds = 0.0
        return result
    since = now - RATE_WINDOW
    seen = Attempt.objects.filter(delivery__message__batch=alert.batch).aggregate(
        total=Count("id"), recent=Count("id", filter=Q(started_at__gte=since))
    )
    if seen["recent"]:
        started = alert.sent_at or alert.created_at
        window = min(RATE_WINDOW.total_seconds(), max((now - started).total_seconds(), 1.0))
        result.rate_per_second = seen["recent"] / window
        result.eta_seconds = result.pending / result.rate_per_second
        result.eta_basis = "observed"
    elif not seen["total"]:
        # Nothing tried yet: channels send in parallel, each at its configured limit.
        result.eta_seconds = float(
            max(n / per_second_limit(channel) for channel, n in result.pending_by_channel.items())
        )
        result.eta_basis = "configured"
    return result


@dataclass(frozen=True)
class DeadLetter:
    status: str
    channel: str
    error: str
    count: int

    @property
    def status_label(self) -> str:
        return str(DeliveryStatus(self.status).label)


def dead_letters(alert: Alert) -> list[DeadLetter]:
    """Deliveries that will never arrive, by channel and error: counts, never addresses."""
    rows = (
        Delivery.objects.filter(message__batch=alert.batch, status__in=(DeliveryStatus.EXPIRED, DeliveryStatus.FAILED))
        .values_list("status", "channel", "last_error")
        .annotate(n=Count("id"))
        .order_by("-n", "status", "channel", "last_error")
    )
    return [DeadLetter(status=s, channel=c, error=e, count=n) for s, c, e, n in rows]


# --- public page --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicAlert:
    """What anyone may see about an alert: kind, areas, time and the text. No personal data."""

    ref: uuid.UUID
    kind: str
    kind_label: str
    zone_names: list[str]
    sent_at: datetime
    valid_until: datetime
    subject: str
    body: str
    is_drill: bool
    active: bool


def _texts(batches: list[uuid.UUID], language: str) -> dict[uuid.UUID, Message]:
    found: dict[uuid.UUID, Message] = {}
    for message in Message.objects.filter(batch__in=batches, language__in={language, "en"}):
        if message.batch not in found or message.language == language:
            found[message.batch] = message
    return found


def _public(alert: Alert, message: Message | None, now: datetime) -> PublicAlert:
    return PublicAlert(
        ref=alert.batch,
        kind=alert.kind,
        kind_label=str(alert.get_kind_display()),
        zone_names=sorted(z.name for z in alert.zones.all()),
        sent_at=alert.sent_at or alert.created_at,
        valid_until=alert.valid_until,
        subject=message.subject if message else "",
        body=message.body if message else "",
        is_drill=alert.is_drill,
        active=alert.valid_until > now,
    )


def active_public_alerts(language: str, *, now: datetime | None = None) -> list[PublicAlert]:
    """Alerts within their validity window, drills excluded; an alert superseded by a false
    alarm or all-clear that went out is shown through that follow-up instead. Three queries."""
    now = now or timezone.now()
    superseded = Alert.objects.filter(follows_id=OuterRef("pk"), status=AlertStatus.SENDING)
    alerts = list(
        Alert.objects.filter(status=AlertStatus.SENDING, is_drill=False, valid_until__gt=now)
        .exclude(Exists(superseded))
        .prefetch_related("zones")
        .order_by("-sent_at")[:50]
    )
    texts = _texts([a.batch for a in alerts], language)
    return [_public(alert, texts.get(alert.batch), now) for alert in alerts]


def public_alert(ref: uuid.UUID, language: str, *, now: datetime | None = None) -> PublicAlert:
    """One sent alert by its batch (the link in every message) or its id; Http404 otherwise."""
    now = now or timezone.now()
    alert = Alert.objects.filter(Q(batch=ref) | Q(pk=ref), status=AlertStatus.SENDING).prefetch_related("zones").first()
    if alert is None:
        raise Http404
    return _public(alert, _texts([alert.batch], language).get(alert.batch), now)
