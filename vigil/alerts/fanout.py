"""Writing an alert's delivery rows: one INSERT ... SELECT, inside the caller's transaction.

The rows are computed by the database from the subscription tables rather than loaded into
Python and written back, so 100,000 recipients cost one statement. The caller has already
created the alert's channels.Message rows (one per language, sharing `batch`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection

from vigil.alerts.models import Subscriber, SubscriberStatus, SubscriberZone
from vigil.channels.models import Delivery, DeliveryStatus, Endpoint, Message
from vigil.core.db import sql_datetime

_COLUMNS = "message_id, endpoint_id, channel, status, attempts, next_attempt_at, lease_token, provider_id, last_error"


def _tables() -> dict[str, str]:
    return {
        "delivery": Delivery._meta.db_table,
        "message": Message._meta.db_table,
        "endpoint": Endpoint._meta.db_table,
        "subscriber": Subscriber._meta.db_table,
        "subscriber_zone": SubscriberZone._meta.db_table,
    }


def _batch_param(batch: UUID) -> str | UUID:
    # Django stores UUIDField as char(32) hex on SQLite and as a native uuid on PostgreSQL.
    return batch if connection.vendor == "postgresql" else batch.hex


def write_alert_deliveries(*, batch: UUID, chapter_id: int, zone_ids: Iterable[int], drill: bool, now: datetime) -> int:
    """One pending delivery per active subscriber in any of the zones; the number written."""
    zones = sorted(set(zone_ids))
    if not zones:
        return 0
    t = _tables()
    placeholders = ", ".join(["%s"] * len(zones))
    drill_filter = "AND s.drill_participant = %s" if drill else ""
    sql = f"""
        INSERT INTO {t["delivery"]} ({_COLUMNS})
        SELECT m.id, e.id, e.channel, %s, 0, %s, '', '', ''
        FROM {t["subscriber"]} s
        JOIN {t["endpoint"]} e ON e.id = s.endpoint_id
        JOIN {t["message"]} m ON m.batch = %s AND m.language = s.language
        WHERE s.chapter_id = %s AND s.status = %s AND e.disabled_at IS NULL {drill_filter}
          AND EXISTS (
            SELECT 1 FROM {t["subscriber_zone"]} sz
            WHERE sz.subscriber_id = s.id AND sz.zone_id IN ({placeholders})
          )
    """  # noqa: S608 - table names come from model metadata; every value is a parameter
    params: list[Any] = [
        DeliveryStatus.PENDING,
        sql_datetime(now),
        _batch_param(batch),
        chapter_id,
        SubscriberStatus.ACTIVE,
    ]
    if drill:
        params.append(True)
    params.extend(zones)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def write_follow_up_deliveries(*, batch: UUID, original_batch: UUID, now: datetime) -> int:
    """The same endpoints the original alert was addressed to (first channel), still enabled."""
    t = _tables()
    sql = f"""
        INSERT INTO {t["delivery"]} ({_COLUMNS})
        SELECT m.id, e.id, e.channel, %s, 0, %s, '', '', ''
        FROM {t["delivery"]} d
        JOIN {t["message"]} om ON om.id = d.message_id
        JOIN {t["endpoint"]} e ON e.id = d.endpoint_id
        JOIN {t["message"]} m ON m.batch = %s AND m.language = om.language
        WHERE om.batch = %s AND d.fallback_of_id IS NULL AND e.disabled_at IS NULL
    """  # noqa: S608 - table names come from model metadata; every value is a parameter
    params: list[Any] = [DeliveryStatus.PENDING, sql_datetime(now), _batch_param(batch), _batch_param(original_batch)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)
