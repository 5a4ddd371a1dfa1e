"""Who is on call, who may be paged, and how many hours each volunteer carried.

On call for a zone at a moment (see models.py): the rotation member whose slot covers it,
unless an override covers that zone then; plus overrides and AVAILABLE shifts covering it;
minus OFF shifts. Pageable for a role: approved, a current training for the role, on call (or
on the backup list), an enabled contact endpoint, not resting after a long deployment, and
under the weekly on-call hours (settings.MAX_SHIFT_HOURS_PER_WEEK over the last 7 days).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from vigil.responders.models import (
    PageRecipient,
    Responder,
    ResponderStatus,
    Rotation,
    Shift,
    ShiftKind,
    Training,
)

ROTATION = "rotation"
WEEK = timedelta(days=7)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Block:
    """A stretch of time one responder is on call (or, kind "off", taken off call)."""

    responder_id: uuid.UUID
    zone_id: int | None
    kind: str  # "rotation", or a ShiftKind value
    starts_at: datetime
    ends_at: datetime

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def current_training_q(role: str, today: date) -> Q:
    """Responders with a training for `role` that is current on `today`."""
    return Q(
        Exists(
            Training.objects.filter(responder=OuterRef("pk"), role=role, completed_on__lte=today, expires_on__gte=today)
        )
    )


def responder_for_phone_index(index: str) -> Responder | None:
    """The approved responder texting from this number (keyed index), or None. Someone on two
    chapters' rosters with one phone is the entry that was paged most recently, so
    "1 10" answers the page they just got, whichever chapter sent it."""
    if not index:
        return None
    entries = Responder.objects.select_related("user", "endpoint").filter(
        phone_index=index, status=ResponderStatus.APPROVED
    )
    last_paged = PageRecipient.objects.filter(responder=OuterRef("pk")).order_by("-paged_at").values("paged_at")[:1]
    return (
        entries.annotate(last_paged=Subquery(last_paged))
        .order_by(F("last_paged").desc(nulls_last=True), "applied_at", "pk")
        .first()
    )


# --- Rotations ------------------------------------------------------------------------------


def rotation_slots(rotation: Rotation, member_ids: Sequence[uuid.UUID], start: datetime, end: datetime) -> list[Block]:
    """The rotation's slots overlapping [start, end), clipped to it."""
    if not member_ids or end <= rotation.starts_at or rotation.shift_hours <= 0:
        return []
    length = timedelta(hours=rotation.shift_hours)
    first = max(0, math.floor((start - rotation.starts_at) / length))
    blocks: list[Block] = []
    index = first
    while True:
        slot_start = rotation.starts_at + index * length
        if slot_start >= end:
            break
        slot_end = slot_start + length
        member = member_ids[index % len(member_ids)]
        blocks.append(Block(member, rotation.zone_id, ROTATION, max(slot_start, start), min(slot_end, end)))
        index += 1
    return blocks


def _subtract(interval: Interval, holes: Iterable[Interval]) -> list[Interval]:
    pieces = [interval]
    for hole_start, hole_end in holes:
        next_pieces: list[Interval] = []
        for start, end in pieces:
            if hole_end <= start or hole_start >= end:
                next_pieces.append((start, end))
                continue
            if start < hole_start:
                next_pieces.append((start, hole_start))
            if hole_end < end:
                next_pieces.append((hole_end, end))
        pieces = next_pieces
    return pieces


def schedule_blocks(
    chapter_id: int,
    start: datetime,
    end: datetime,
    *,
    responder_ids: Iterable[uuid.UUID] | None = None,
    zone_ids: Iterable[int] | None = None,
) -> list[Block]:
    """Every on-call (and off) block of the chapter overlapping [start, end), clipped to it.

    Rotation slots are cut where an override covers the same zone. AVAILABLE shifts with no
    zone stand for the responder's home zones (zone_id None). Three queries.
    """
    wanted = set(responder_ids) if responder_ids is not None else None
    zones = set(zone_ids) if zone_ids is not None else None
    shifts = Shift.objects.filter(chapter_id=chapter_id, starts_at__lt=end, ends_at__gt=start)
    if wanted is not None:
        shifts = shifts.filter(responder_id__in=wanted)
    blocks: list[Block] = []
    overrides: dict[int, list[Interval]] = defaultdict(list)
    for shift in Shift.objects.filter(
        chapter_id=chapter_id, kind=ShiftKind.OVERRIDE, starts_at__lt=end, ends_at__gt=start
    ).values_list("zone_id", "starts_at", "ends_at"):
        zone_id, shift_start, shift_end = shift
        if zone_id is not None:
            overrides[zone_id].append((shift_start, shift_end))
    for responder_id, zone_id, kind, shift_start, shift_end in shifts.values_list(
        "responder_id", "zone_id", "kind", "starts_at", "ends_at"
    ):
        if zones is not None and zone_id is not None and zone_id not in zones:
            continue
        blocks.append(Block(responder_id, zone_id, kind, max(shift_start, start), min(shift_end, end)))
    rotations = Rotation.objects.filter(chapter_id=chapter_id, active=True, starts_at__lt=end).prefetch_related(
        "members"
    )
    if zones is not None:
        rotations = rotations.filter(zone_id__in=zones)
    for rotation in rotations:
        member_ids = [member.responder_id for member in rotation.members.all()]
        for block in rotation_slots(rotation, member_ids, start, end):
            if wanted is not None and block.responder_id not in wanted:
                continue
            for piece_start, piece_end in _subtract((block.starts_at, block.ends_at), overrides[rotation.zone_id]):
                blocks.append(Block(block.responder_id, block.zone_id, ROTATION, piece_start, piece_end))
    blocks.sort(key=lambda b: (b.starts_at, b.zone_id or 0, str(b.responder_id)))
    return blocks


def _union_hours(intervals: list[Interval]) -> float:
    total = 0.0
    current: Interval | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total / 3600


def hours_by_responder(blocks: Iterable[Block]) -> dict[uuid.UUID, float]:
    """On-call hours per responder: overlapping blocks (two zones at once) count once; OFF is cut out."""
    on: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    off: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for block in blocks:
        (off if block.kind == ShiftKind.OFF else on)[block.responder_id].append((block.starts_at, block.ends_at))
    hours: dict[uuid.UUID, float] = {}
    for responder_id, intervals in on.items():
        pieces = [piece for interval in intervals for piece in _subtract(interval, off.get(responder_id, []))]
        hours[responder_id] = round(_union_hours(pieces), 2)
    return hours


def on_call_hours(responder_ids: Iterable[uuid.UUID], start: datetime, end: datetime) -> dict[uuid.UUID, float]:
    """Hours each responder was on call in [start, end) (0.0 for none)."""
    ids = list(responder_ids)
    hours: dict[uuid.UUID, float] = dict.fromkeys(ids, 0.0)
    chapters = set(Responder.objects.filter(pk__in=ids).values_list("chapter_id", flat=True))
    for chapter_id in chapters:
        hours.update(hours_by_responder(schedule_blocks(chapter_id, start, end, responder_ids=ids)))
    return hours


# --- Who is on call now ---------------------------------------------------------------------


def on_call(zone_ids: Iterable[int], at: datetime) -> dict[uuid.UUID, set[int]]:
    """Responder id -> the given zones they are on call for at `at`."""
    zones = set(zone_ids)
    if not zones:
        return {}
    found: dict[uuid.UUID, set[int]] = defaultdict(set)
    off: set[uuid.UUID] = set()
    overridden: set[int] = set()
    home_available: list[uuid.UUID] = []
    for responder_id, zone_id, kind in (
        Shift.objects.filter(starts_at__lte=at, ends_at__gt=at)
        .filter(Q(zone_id__in=zones) | Q(zone__isnull=True))
        .values_list("responder_id", "zone_id", "kind")
    ):
        if kind == ShiftKind.OFF:
            off.add(responder_id)
        elif zone_id is None:
            if kind == ShiftKind.AVAILABLE:
                home_available.append(responder_id)
        else:
            found[responder_id].add(zone_id)
            if kind == ShiftKind.OVERRIDE:
                overridden.add(zone_id)
    if home_available:
        through = Responder.home_zones.through
        for responder_id, zone_id in through.objects.filter(
            responder_id__in=home_available, zone_id__in=zones
        ).values_list("responder_id", "zone_id"):
            found[responder_id].add(zone_id)
    for rotation in Rotation.objects.filter(
        zone_id__in=zones - overridden, active=True, starts_at__lte=at
    ).prefetch_related("members"):
        member_ids = [member.responder_id for member in rotation.members.all()]
        for block in rotation_slots(rotation, member_ids, at, at + timedelta(microseconds=1)):
            found[block.responder_id].add(rotation.zone_id)
    return {responder_id: zone_set for responder_id, zone_set in found.items() if responder_id not in off}


def eligible(
    chapter_id: int, zone_ids: Iterable[int], role: str, at: datetime, *, backup: bool = False
) -> list[Responder]:
    """Responders who may be paged for `role` now, in the given zones (or, backup=True, from the
    chapter's backup list), ordered by roster age. A handful of queries whatever the roster size."""
    candidates = Responder.objects.filter(
        chapter_id=chapter_id,
        status=ResponderStatus.APPROVED,
        endpoint__isnull=False,
        endpoint__disabled_at__isnull=True,
    ).filter(Q(rest_until__isnull=True) | Q(rest_until__lte=at))
    if backup:
        # The backup list has no schedule, but someone who texted OFF is off.
        off = Shift.objects.filter(responder=OuterRef("pk"), kind=ShiftKind.OFF, starts_at__lte=at, ends_at__gt=at)
        candidates = candidates.filter(is_backup=True).exclude(Exists(off))
    else:
        on_call_ids = list(on_call(zone_ids, at))
        if not on_call_ids:
            return []
        candidates = candidates.filter(pk__in=on_call_ids)
    responders = list(
        candidates.filter(current_training_q(role, timezone.localdate(at)))
        .select_related("endpoint", "user")
        .order_by("applied_at")
    )
    if not responders:
        return []
    hours = on_call_hours([r.pk for r in responders], at - WEEK, at)
    limit = settings.MAX_SHIFT_HOURS_PER_WEEK
    return [r for r in responders if hours.get(r.pk, 0.0) < limit]
