"""Schedule writes (rotations and overrides, audited "oncall.*") and the iCalendar export.

A rotation is a zone's repeating schedule: its members take `shift_hours` slots in turn from
`starts_at`. An override (a Shift of kind OVERRIDE) replaces the rotation in its zone for its
time. What is on call is computed in oncall.py; nothing is materialised.

The .ics is written by hand (RFC 5545): no iCalendar library is in requirements.lock, and the
little we need (one VEVENT per block, UTC times, text escaping, line folding) is smaller than
a new dependency to vet and pin. A feed carries no names: "On call: <zone>", and in the
dispatchers' zone feed the responder's roster number ("Volunteer 7").
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from vigil.accounts.models import User
from vigil.core.audit import audit
from vigil.core.models import Zone
from vigil.responders.models import Responder, ResponderStatus, Rotation, RotationMember, Shift, ShiftKind
from vigil.responders.oncall import Block
from vigil.responders.roster import NotAllowed, RosterError, can_edit

MAX_MEMBERS = 200
MAX_OVERRIDE_DAYS = 31


def _require_editor(user: User, chapter_id: int) -> None:
    if not can_edit(user, chapter_id):
        raise NotAllowed


def _members(chapter_id: int, member_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    if len(member_ids) > MAX_MEMBERS:
        raise RosterError(gettext("A rotation has at most %(n)s members.") % {"n": MAX_MEMBERS})
    if len(set(member_ids)) != len(member_ids):
        raise RosterError(gettext("Each responder can appear once in a rotation."))
    found = set(
        Responder.objects.filter(chapter_id=chapter_id, pk__in=member_ids, status=ResponderStatus.APPROVED).values_list(
            "pk", flat=True
        )
    )
    if found != set(member_ids):
        raise RosterError(gettext("Rotation members must be approved responders of this chapter."))
    return list(member_ids)


def _set_members(rotation: Rotation, member_ids: Sequence[uuid.UUID]) -> None:
    RotationMember.objects.filter(rotation=rotation).delete()
    RotationMember.objects.bulk_create(
        [RotationMember(rotation=rotation, responder_id=pk, position=n) for n, pk in enumerate(member_ids)]
    )


def _check_zone(zone: Zone, chapter_id: int) -> None:
    if zone.chapter_id != chapter_id:
        raise RosterError(gettext("Choose a zone of this chapter."))


@transaction.atomic(durable=True)
def create_rotation(
    zone: Zone,
    *,
    name: str,
    starts_at: datetime,
    shift_hours: int,
    member_ids: Sequence[uuid.UUID],
    acting_user: User,
    active: bool = True,
) -> Rotation:
    _require_editor(acting_user, zone.chapter_id)
    if not 1 <= shift_hours <= 168:
        raise RosterError(gettext("A shift is 1 to 168 hours."))
    members = _members(zone.chapter_id, member_ids)
    rotation = Rotation.objects.create(
        chapter_id=zone.chapter_id,
        zone=zone,
        name=name.strip()[:80] or zone.name,
        starts_at=starts_at,
        shift_hours=shift_hours,
        active=active,
        created_by=acting_user,
    )
    _set_members(rotation, members)
    audit(acting_user, "oncall.rotation_create", rotation)
    return rotation


@transaction.atomic(durable=True)
def update_rotation(
    rotation: Rotation,
    *,
    zone: Zone,
    name: str,
    starts_at: datetime,
    shift_hours: int,
    member_ids: Sequence[uuid.UUID],
    active: bool,
    acting_user: User,
) -> Rotation:
    _require_editor(acting_user, rotation.chapter_id)
    _check_zone(zone, rotation.chapter_id)
    if not 1 <= shift_hours <= 168:
        raise RosterError(gettext("A shift is 1 to 168 hours."))
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    members = _members(rotation.chapter_id, member_ids)
    rotation.zone = zone
    rotation.name = name.strip()[:80] or zone.name
    rotation.starts_at = starts_at
    rotation.shift_hours = shift_hours
    rotation.active = active
    rotation.save(update_fields=["zone", "name", "starts_at", "shift_hours", "active"])
    _set_members(rotation, members)
    audit(acting_user, "oncall.rotation_update", rotation)
    return rotation


@transaction.atomic(durable=True)
def add_override(
    responder: Responder,
    *,
    zone: Zone,
    starts_at: datetime,
    ends_at: datetime,
    acting_user: User,
    now: datetime | None = None,
) -> Shift:
    _require_editor(acting_user, responder.chapter_id)
    _check_zone(zone, responder.chapter_id)
    if responder.status != ResponderStatus.APPROVED:
        raise RosterError(gettext("Only an approved responder can be put on call."))
    if ends_at <= starts_at:
        raise RosterError(gettext("The end must be after the start."))
    if (ends_at - starts_at).days >= MAX_OVERRIDE_DAYS:
        raise RosterError(gettext("An override lasts at most %(n)s days.") % {"n": MAX_OVERRIDE_DAYS})
    shift = Shift.objects.create(
        chapter_id=responder.chapter_id,
        responder=responder,
        zone=zone,
        kind=ShiftKind.OVERRIDE,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=acting_user,
        created_at=now or timezone.now(),
    )
    audit(acting_user, "oncall.override_add", shift)
    return shift


@transaction.atomic(durable=True)
def remove_override(shift: Shift, *, acting_user: User) -> None:
    _require_editor(acting_user, shift.chapter_id)
    if shift.kind != ShiftKind.OVERRIDE:
        raise RosterError(gettext("Only overrides are removed here."))
    audit(acting_user, "oncall.override_remove", shift)
    shift.delete()


# --- iCalendar (RFC 5545) ---------------------------------------------------------------------

PRODID = "-//Vigil//On call//EN"


def ics_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (3.1), never inside a UTF-8 character; CRLF between."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # back off to the start of a UTF-8 character
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines start with one space
    return "\r\n ".join(parts)


def ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def block_uid(block: Block) -> str:
    """Stable for the same block: who, where, what kind, when."""
    key = f"{block.responder_id}|{block.zone_id}|{block.kind}|{ics_time(block.starts_at)}|{ics_time(block.ends_at)}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@vigil"


def calendar_ics(
    blocks: Iterable[Block],
    *,
    zone_names: Mapping[int, str] | None = None,
    labels: Mapping[uuid.UUID, str] | None = None,
    name: str = "",
    now: datetime | None = None,
) -> str:
    """An iCalendar feed of on-call blocks ("off" blocks are left out).

    SUMMARY is "On call: <zone>", plus `labels[responder_id]` (e.g. "Volunteer 7") when given;
    never a name. `zone_names` maps zone ids to names (a block without a zone is the
    responder's home zones). Times are UTC ('Z'); DTSTAMP is `now`."""
    stamp = ics_time(now or timezone.now())
    zone_names = zone_names or {}
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{ics_escape(name)}")
    for block in blocks:
        if block.kind == ShiftKind.OFF or block.ends_at <= block.starts_at:
            continue
        where = zone_names.get(block.zone_id, "") if block.zone_id is not None else gettext("home zones")
        summary = gettext("On call: %(zone)s") % {"zone": where} if where else gettext("On call")
        if labels and block.responder_id in labels:
            summary = f"{summary} ({labels[block.responder_id]})"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{block_uid(block)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{ics_time(block.starts_at)}",
            f"DTEND:{ics_time(block.ends_at)}",
            f"SUMMARY:{ics_escape(summary)}",
            f"CATEGORIES:{ics_escape(block.kind)}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(line) + "\r\n" for line in lines)
