"""The delivery ledger's writes: claiming deliveries with leases and recording what happened.

Every write after a claim is conditional on the claim's lease token, so a worker that froze
past its lease (and whose rows another worker took over) changes nothing when it wakes up.
Results are recorded in batches: one transaction and a few executemany statements per batch,
never a transaction per message. Rows whose message is past its validity window become
EXPIRED (the dead letter) instead of being sent, whichever path finds them first.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from vigil.channels.models import (
    Attempt,
    ChannelHealth,
    Delivery,
    DeliveryStatus,
    EarlyCallback,
    Endpoint,
    Message,
    Outcome,
)
from vigil.channels.transports.sms import CALLBACK_PERMANENT_CODES
from vigil.core.audit import audit
from vigil.core.db import sql_datetime

log = logging.getLogger("vigil.channels.ledger")

# Not an Outcome: a claimed row handed back unsent (shutdown, channel paused, lease running out).
RELEASED = "released"

# Status-callback error codes that mean the number itself can never get texts from us.
PERMANENT_TWILIO_CODES = frozenset(str(code) for code in CALLBACK_PERMANENT_CODES)
TWILIO_DELIVERED = "delivered"
TWILIO_FAILED = frozenset({"failed", "undelivered"})

BACKOFF_BASE_SECONDS = 2.0


def _table(model: Any) -> str:
    return str(model._meta.db_table)


# --- Claiming -------------------------------------------------------------------------------


def _claim_sql() -> str:
    table = _table(Delivery)
    # Status values are literals, not parameters, so SQLite can prove the partial index
    # `delivery_open` (status IN pending/sending) applies.
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    return f"""
        UPDATE {table}
        SET status = 'sending', lease_token = %s, lease_until = %s, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM {table}
            WHERE status IN ('pending', 'sending') AND next_attempt_at <= %s
              AND (status = 'pending' OR lease_until < %s)
            ORDER BY next_attempt_at
            LIMIT %s {lock}
        )
        RETURNING id, message_id, endpoint_id, channel, attempts
    """  # noqa: S608 - the table name comes from model metadata; every value is a parameter


def _as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class Claimed(NamedTuple):
    """A leased delivery, as the sender needs it (lighter than a model instance)."""

    id: int
    message_id: int
    endpoint_id: UUID
    channel: str
    attempts: int
    lease_token: str
    lease_until: datetime

    @property
    def pk(self) -> int:
        return self.id


def _claim(worker_token: str, limit: int, now: datetime) -> list[Claimed]:
    if limit <= 0:
        return []
    lease_until = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(), [worker_token, sql_datetime(lease_until), sql_datetime(now), sql_datetime(now), limit]
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    valid_until = dict(Message.objects.filter(id__in={row[1] for row in rows}).values_list("id", "valid_until"))
    claimed: list[Claimed] = []
    expired: list[int] = []
    for delivery_id, message_id, endpoint_id, channel, attempts in rows:
        if valid_until[message_id] <= now:
            expired.append(delivery_id)
        else:
            claimed.append(
                Claimed(delivery_id, message_id, _as_uuid(endpoint_id), channel, attempts, worker_token, lease_until)
            )
    if expired:
        _expire(expired, worker_token, now)
    claimed.sort()
    return claimed


@transaction.atomic(durable=True)
def claim(worker_token: str, limit: int, now: datetime) -> list[Claimed]:
    """Lease up to `limit` open deliveries that are due (pending, or sending with an expired
    lease) to `worker_token`; rows whose message has expired become EXPIRED instead."""
    return _claim(worker_token, limit, now)


def _expire(ids: Sequence[int], token: str, now: datetime) -> None:
    table = _table(Delivery)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = 'expired', finished_at = %s, last_error = 'expired', "  # noqa: S608
            "lease_token = '', lease_until = NULL WHERE id = %s AND lease_token = %s AND status = 'sending'",
            [(sql_datetime(now), delivery_id, token) for delivery_id in ids],
        )
    _insert_attempts([(delivery_id, now, 0, Outcome.EXPIRED, "", "expired") for delivery_id in ids])


# --- Recording ------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    """What happened to one claimed delivery, as the sender saw it."""

    delivery_id: int
    lease_token: str
    outcome: str  # an Outcome value or RELEASED
    started_at: datetime
    duration_ms: int = 0
    provider_id: str = ""
    error: str = ""
    retry_after: float | None = None
    # For RELEASED: when the row may be claimed again (a paused channel); None for at once.
    resume_at: datetime | None = None


@dataclass
class Recorded:
    """What a batch of results changed (rows whose lease was lost are not counted)."""

    counts: dict[str, int] = field(default_factory=dict)
    stale: int = 0
    fallbacks: int = 0
    disabled: int = 0

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2^(n-1)))."""
    ceiling = min(float(settings.DELIVERY_BACKOFF_MAX_SECONDS), BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0.0, ceiling)


@dataclass(slots=True)
class _Row:
    attempts: int
    endpoint_id: UUID
    message_id: int
    channel: str
    chapter_id: int
    fallback_id: UUID | None
    valid_until: datetime


def _current_rows(results: Sequence[Result]) -> dict[int, _Row]:
    """The rows of these results that are still leased by the token each result carries."""
    token_by_id = {result.delivery_id: result.lease_token for result in results}
    ids = list(token_by_id)
    lock = "FOR UPDATE OF d" if connection.vendor == "postgresql" else ""
    sql = f"""
        SELECT d.id, d.lease_token, d.attempts, d.endpoint_id, d.message_id, d.channel, e.chapter_id,
               e.fallback_id, f.disabled_at IS NULL
        FROM {_table(Delivery)} d
        JOIN {_table(Endpoint)} e ON e.id = d.endpoint_id
        LEFT JOIN {_table(Endpoint)} f ON f.id = e.fallback_id
        WHERE d.status = 'sending' AND d.id IN ({", ".join(["%s"] * len(ids))})
        {lock}
    """  # noqa: S608 - table names come from model metadata; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    valid = dict(Message.objects.filter(id__in={row[4] for row in rows}).values_list("id", "valid_until"))
    current: dict[int, _Row] = {}
    for row_id, token, attempts, endpoint_id, message_id, channel, chapter_id, fb_id, fb_on in rows:
        if token_by_id[row_id] != token:
            continue
        fallback = _as_uuid(fb_id) if fb_id is not None and fb_on else None
        current[row_id] = _Row(
            attempts, _as_uuid(endpoint_id), message_id, channel, chapter_id, fallback, valid[message_id]
        )
    return current


@transaction.atomic(durable=True)
def record(results: Sequence[Result], now: datetime, *, rng: random.Random | None = None) -> Recorded:
    """Write a batch of results in one transaction; rows whose lease was lost are skipped."""
    summary = Recorded()
    if not results:
        return summary
    current = _current_rows(results)
    summary.stale = len(results) - sum(1 for result in results if result.delivery_id in current)
    updates: list[tuple[Any, ...]] = []
    attempts: list[tuple[int, datetime, int, str, str, str]] = []
    fallbacks: list[tuple[int, _Row]] = []
    disable: dict[UUID, tuple[str, int]] = {}
    health: dict[str, tuple[bool, str]] = {}
    now_value = sql_datetime(now)
    for result in results:
        row = current.get(result.delivery_id)
        if row is None:
            continue
        status, next_at, sent_at, finished_at, error = _decide(result, row, now, rng, fallbacks, disable)
        finished = now_value if finished_at is not None else None
        attempts_value = row.attempts - 1 if result.outcome == RELEASED else row.attempts
        updates.append(
            (
                status,
                attempts_value,
                sql_datetime(next_at),
                result.provider_id if status == DeliveryStatus.SENT else "",
                sql_datetime(sent_at),
                finished,
                error[:200],
                result.delivery_id,
                result.lease_token,
            )
        )
        summary.add(status)
        if result.outcome != RELEASED:
            attempts.append(
                (
                    result.delivery_id,
                    result.started_at,
                    result.duration_ms,
                    result.outcome,
                    result.provider_id,
                    result.error[:200],
                )
            )
        if result.outcome == Outcome.SENT:
            health[row.channel] = (True, health.get(row.channel, (False, ""))[1])
        elif result.outcome in (Outcome.TRANSIENT, Outcome.PERMANENT):
            health[row.channel] = (health.get(row.channel, (False, ""))[0], result.error[:200])
    table = _table(Delivery)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = %s, attempts = %s, next_attempt_at = COALESCE(%s, next_attempt_at), "  # noqa: S608
            "provider_id = %s, sent_at = %s, finished_at = %s, last_error = %s, lease_token = '', lease_until = NULL "
            "WHERE id = %s AND lease_token = %s AND status = 'sending'",
            updates,
        )
    _insert_attempts(attempts)
    summary.disabled = _disable_endpoints(disable, now)
    summary.fallbacks = _create_fallbacks(fallbacks, now)
    _update_health(health, now)
    return summary


def _decide(
    result: Result,
    row: _Row,
    now: datetime,
    rng: random.Random | None,
    fallbacks: list[tuple[int, _Row]],
    disable: dict[UUID, tuple[str, int]],
) -> tuple[str, datetime | None, datetime | None, datetime | None, str]:
    """(status, next_attempt_at, sent_at, finished_at, last_error) for one leased row."""
    outcome = result.outcome
    if outcome == Outcome.SENT:
        return DeliveryStatus.SENT, None, result.started_at, now, ""
    if outcome == Outcome.EXPIRED:
        return DeliveryStatus.EXPIRED, None, None, now, "expired"
    if outcome == Outcome.PERMANENT:
        disable[row.endpoint_id] = (result.error, row.chapter_id)
        if row.fallback_id is not None and row.valid_until > now:
            fallbacks.append((result.delivery_id, row))
        return DeliveryStatus.FAILED, None, None, now, result.error
    if outcome == RELEASED:
        resume = result.resume_at or now
        if resume >= row.valid_until:
            return DeliveryStatus.EXPIRED, None, None, now, "expired"
        return DeliveryStatus.PENDING, resume, None, None, ""
    # Transient: fall back after repeated failures, else retry unless the window closes first.
    if row.fallback_id is not None and row.attempts >= settings.DELIVERY_FALLBACK_AFTER and row.valid_until > now:
        fallbacks.append((result.delivery_id, row))
        return DeliveryStatus.FELL_BACK, None, None, now, result.error
    if result.retry_after is not None:
        wait = max(float(result.retry_after), 0.0)
    else:
        wait = backoff_seconds(row.attempts, rng)
    next_at = now + timedelta(seconds=wait)
    if next_at >= row.valid_until:
        return DeliveryStatus.EXPIRED, None, None, now, result.error or "expired"
    return DeliveryStatus.PENDING, next_at, None, None, result.error


def _insert_attempts(rows: Iterable[tuple[int, datetime, int, str, str, str]]) -> None:
    params = [
        (delivery_id, sql_datetime(started), duration, outcome, provider_id, error)
        for delivery_id, started, duration, outcome, provider_id, error in rows
    ]
    if not params:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(Attempt)} "  # noqa: S608
            "(delivery_id, started_at, duration_ms, outcome, provider_id, error, callback_status) "
            "VALUES (%s, %s, %s, %s, %s, %s, '')",
            params,
        )


def _disable_endpoints(disable: dict[UUID, tuple[str, int]], now: datetime) -> int:
    changed = 0
    for endpoint_id, (reason, _chapter_id) in disable.items():
        updated = Endpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=True).update(
            disabled_at=now, disabled_reason=(reason or "permanent error")[:200]
        )
        if updated:
            changed += 1
            audit(
                "sender",
                "disable_endpoint",
                object_type=_label(Endpoint),
                object_id=str(endpoint_id),
                chapter=None,
            )
    return changed


def _label(model: Any) -> str:
    return str(model._meta.label_lower)


def _create_fallbacks(fallbacks: Sequence[tuple[int, _Row]], now: datetime) -> int:
    if not fallbacks:
        return 0
    channels = dict(
        Endpoint.objects.filter(pk__in={row.fallback_id for _, row in fallbacks}).values_list("id", "channel")
    )
    made = Delivery.objects.bulk_create(
        [
            Delivery(
                message_id=row.message_id,
                endpoint_id=row.fallback_id,
                channel=channels[row.fallback_id],
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                fallback_of_id=delivery_id,
            )
            for delivery_id, row in fallbacks
            if row.fallback_id in channels
        ],
        # A fallback endpoint already addressed by this message keeps its one delivery.
        ignore_conflicts=True,
    )
    return len(made)


def _update_health(health: dict[str, tuple[bool, str]], now: datetime) -> None:
    for channel, (succeeded, error) in health.items():
        values: dict[str, Any] = {}
        if succeeded:
            values["last_success_at"] = now
        if error:
            values["last_error_at"] = now
            values["last_error"] = error
        if not ChannelHealth.objects.filter(channel=channel).update(**values):
            ChannelHealth.objects.get_or_create(channel=channel, defaults=values)


# --- Provider status callbacks --------------------------------------------------------------


@transaction.atomic(durable=True)
def record_status_callback(provider_id: str, status: str, error_code: str, now: datetime) -> bool:
    """Apply a Twilio message status to its delivery and attempt; False if unknown.

    Repeating a callback changes nothing: each transition starts from SENT only.
    """
    query = Delivery.objects.filter(provider_id=provider_id).select_related("endpoint", "message")
    if connection.vendor == "postgresql":
        query = query.select_for_update(of=("self",))
    delivery = query.order_by("pk").first()
    if delivery is None:
        if status == TWILIO_DELIVERED or status in TWILIO_FAILED:
            EarlyCallback.objects.update_or_create(
                provider_id=provider_id,
                defaults={"status": status[:20], "error_code": error_code[:10], "received_at": now},
            )
        return False
    Attempt.objects.filter(delivery_id=delivery.pk, provider_id=provider_id).update(
        callback_status=status[:20], callback_at=now
    )
    if delivery.status != DeliveryStatus.SENT:
        return True
    if status == TWILIO_DELIVERED:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.DELIVERED, finished_at=now
        )
    elif status in TWILIO_FAILED:
        reason = f"{status} (error {error_code})" if error_code else status
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.FAILED, finished_at=now, last_error=reason[:200]
        )
        endpoint = delivery.endpoint
        if error_code in PERMANENT_TWILIO_CODES:
            _disable_endpoints({endpoint.pk: (f"Twilio error {error_code}", endpoint.chapter_id)}, now)
        fallback = (
            Endpoint.objects.filter(pk=endpoint.fallback_id, disabled_at__isnull=True).first()
            if endpoint.fallback_id
            else None
        )
        if fallback is not None and delivery.message.valid_until > now:
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        message_id=delivery.message_id,
                        endpoint=fallback,
                        channel=fallback.channel,
                        status=DeliveryStatus.PENDING,
                        next_attempt_at=now,
                        fallback_of=delivery,
                    )
                ],
                ignore_conflicts=True,
            )
    return True


EARLY_CALLBACK_DAYS = 1
EARLY_BATCH = 500


def apply_early_callbacks(now: datetime) -> int:
    """Apply the verdicts that came before their delivery was recorded, now that it is; forget
    those older than a day (another system's messages on the same account). How many applied.
    Runs every 2 s from the worker: cheaper than a lookup in every batch the sender records,
    and it also closes the PostgreSQL race where neither transaction sees the other's row."""
    EarlyCallback.objects.filter(received_at__lt=now - timedelta(days=EARLY_CALLBACK_DAYS)).delete()
    early = list(EarlyCallback.objects.order_by("received_at")[:EARLY_BATCH])
    if not early:
        return 0
    known = set(
        Delivery.objects.filter(provider_id__in=[e.provider_id for e in early]).values_list("provider_id", flat=True)
    )
    applied = 0
    for callback in early:
        if callback.provider_id not in known:
            continue
        record_status_callback(callback.provider_id, callback.status, callback.error_code, callback.received_at)
        EarlyCallback.objects.filter(pk=callback.pk, received_at=callback.received_at).delete()
        applied += 1
    return applied


@transaction.atomic(durable=True)
def release_leases(token_prefix: str, now: datetime) -> int:
    """Hand back, unsent, every row leased under `token_prefix` (a sender's name).

    A sender releases its own leftovers when it stops, and when it starts under a fixed name
    (what a previous run under that name held is orphaned: it crashed), so a restarted sender
    need not wait for its old leases to run out.
    """
    if not token_prefix:
        return 0
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_token__startswith=token_prefix).update(
        status=DeliveryStatus.PENDING,
        lease_token="",
        lease_until=None,
        next_attempt_at=now,
        attempts=Greatest(F("attempts") - 1, Value(0)),
    )
