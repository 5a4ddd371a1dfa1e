"""A volunteer saying "available now" or "off": by text (AVAILABLE 4 / OFF) or a button on /r/.

AVAILABLE adds a Shift of kind AVAILABLE from now for a few hours with no zone (their home
zones); OFF ends their AVAILABLE shifts now and adds an OFF shift until the end of the
rotation slot they are on (or 12 hours when they are on no rotation now).

`set_available` and `set_off` are entry points (their own durable transaction, audited);
`store_available` and `store_off` do the same inside a transaction the caller owns (the SMS
webhook records the provider's message id in the same transaction, for exactly-once).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from vigil.core.audit import audit
from vigil.responders.models import Responder, Rotation, RotationMember, Shift, ShiftKind

MAX_AVAILABLE_HOURS = 24
OFF_DEFAULT_HOURS = 12


def available_hours(hours: int | None) -> int:
    """The hours asked for, or the default, clamped to 1..24."""
    if hours is None:
        return int(settings.AVAILABLE_HOURS)
    return max(1, min(MAX_AVAILABLE_HOURS, int(hours)))


def _actor(responder: Responder, acting_user: Any) -> Any:
    return acting_user or responder.user or "sms"


def _end_shifts(responder: Responder, kind: str, now: datetime) -> None:
    """End the responder's shifts of `kind` now: cut the current ones, drop the future ones."""
    mine = Shift.objects.filter(responder=responder, kind=kind, ends_at__gt=now)
    mine.filter(starts_at__gt=now).delete()
    mine.filter(starts_at__lte=now).update(ends_at=now)


@transaction.atomic(durable=True)
def set_available(responder: Responder, hours: int | None, now: datetime, *, acting_user: Any = None) -> Shift:
    return store_available(responder, hours, now, acting_user=acting_user)


def store_available(responder: Responder, hours: int | None, now: datetime, *, acting_user: Any = None) -> Shift:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_available needs the caller's transaction; use set_available")
    ends_at = now + timedelta(hours=available_hours(hours))
    # Replace the AVAILABLE time still to come (saying it twice does not stack) and lift an
    # OFF they set earlier: saying "available" now means it.
    _end_shifts(responder, ShiftKind.AVAILABLE, now)
    _end_shifts(responder, ShiftKind.OFF, now)
    shift = Shift.objects.create(
        chapter_id=responder.chapter_id,
        responder=responder,
        zone=None,
        kind=ShiftKind.AVAILABLE,
        starts_at=now,
        ends_at=ends_at,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        created_at=now,
    )
    audit(_actor(responder, acting_user), "responder.available", shift, chapter=responder.chapter)
    return shift


def slot_end(responder: Responder, now: datetime) -> datetime | None:
    """The end of the rotation slot `responder` holds at `now`, or None if they hold none."""
    ends: list[datetime] = []
    rotation_ids = RotationMember.objects.filter(responder=responder).values_list("rotation_id", flat=True)
    for rotation in Rotation.objects.filter(pk__in=rotation_ids, active=True, starts_at__lte=now):
        members = list(RotationMember.objects.filter(rotation=rotation).order_by("position"))
        if not members or rotation.shift_hours <= 0:
            continue
        length = timedelta(hours=rotation.shift_hours)
        slot = math.floor((now - rotation.starts_at) / length)
        if members[slot % len(members)].responder_id == responder.pk:
            ends.append(rotation.starts_at + (slot + 1) * length)
    return max(ends) if ends else None


@transaction.atomic(durable=True)
def set_off(responder: Responder, now: datetime, *, acting_user: Any = None) -> Shift:
    return store_off(responder, now, acting_user=acting_user)


def store_off(responder: Responder, now: datetime, *, acting_user: Any = None) -> Shift:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_off needs the caller's transaction; use set_off")
    _end_shifts(responder, ShiftKind.AVAILABLE, now)
    ends_at = slot_end(responder, now)
    if ends_at is None or ends_at <= now:
        ends_at = now + timedelta(hours=OFF_DEFAULT_HOURS)
    shift = Shift.objects.create(
        chapter_id=responder.chapter_id,
        responder=responder,
        zone=None,
        kind=ShiftKind.OFF,
        starts_at=now,
        ends_at=ends_at,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        created_at=now,
    )
    audit(_actor(responder, acting_user), "responder.off", shift, chapter=responder.chapter)
    return shift
