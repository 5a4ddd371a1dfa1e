"""Zones for organizers: reads (with subscriber counts, never contacts) and audited writes.

A zone is made from ZIP codes (resolved through the bundled `zipcodes` data in core.geo,
never a web service: the ZIP's centroid cell and its ring) or from h3 cells picked on the
SVG map page. Organizers and admins edit their chapters' zones; dispatchers read the list.
Another chapter's zone is a 404, like any object that is not yours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import h3
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext

from vigil.accounts.models import Role, User
from vigil.alerts.models import SubscriberStatus, SubscriberZone
from vigil.core import geo
from vigil.core.audit import audit
from vigil.core.models import Chapter, Zone

# About 5 km² per cell: a ZIP's centroid cell plus its ring covers a typical urban ZIP.
ZONE_RESOLUTION = 7
ZIP_RING = 1
MAX_CELLS = 500
MAX_ZIPS = 200
ZONE_READER_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER)
ZONE_EDITOR_ROLES = (Role.ADMIN, Role.ORGANIZER)
_ZIP = re.compile(r"\d{5}")


class ZoneInputError(ValueError):
    """Input we refuse; the message is safe to show."""


def _chapter_ids(user: Any, roles: Sequence[str]) -> list[int]:
    if not isinstance(user, User) or not user.is_active or user.role not in roles:
        return []
    return list(user.chapter_ids())


def reads_zones(user: Any) -> bool:
    return bool(_chapter_ids(user, ZONE_READER_ROLES))


def edits_zones(user: Any) -> bool:
    return bool(_chapter_ids(user, ZONE_EDITOR_ROLES))


def editable_chapters(user: Any) -> list[Chapter]:
    return list(Chapter.objects.filter(pk__in=_chapter_ids(user, ZONE_EDITOR_ROLES)))


def access_zone_by_id(user: Any, zone_id: int, *, edit: bool) -> Zone:
    """The zone if this user may read (or edit) it; Http404 alike for missing and not yours."""
    readable = _chapter_ids(user, ZONE_READER_ROLES)
    zone = Zone.objects.select_related("chapter").filter(pk=zone_id, chapter_id__in=readable).first()
    if zone is None:
        raise Http404
    if edit and zone.chapter_id not in _chapter_ids(user, ZONE_EDITOR_ROLES):
        raise PermissionDenied
    return zone


@dataclass(frozen=True)
class ZoneRow:
    zone: Zone
    active: int
    pending: int


def zone_rows(user: Any) -> list[ZoneRow]:
    """The user's chapters' zones with subscriber counts (counts only: never a contact)."""
    zones = list(
        Zone.objects.filter(chapter_id__in=_chapter_ids(user, ZONE_READER_ROLES))
        .select_related("chapter")
        .order_by("chapter__name", "name")
    )
    counts = (
        SubscriberZone.objects.filter(zone__in=zones)
        .values("zone_id")
        .annotate(
            active=Count("id", filter=Q(subscriber__status=SubscriberStatus.ACTIVE)),
            pending=Count("id", filter=Q(subscriber__status=SubscriberStatus.PENDING)),
        )
    )
    by_zone: dict[int, tuple[int, int]] = {row["zone_id"]: (row["active"], row["pending"]) for row in counts}
    return [ZoneRow(z, *by_zone.get(z.pk, (0, 0))) for z in zones]


# --- Input ---------------------------------------------------------------------------------


def parse_zips(text: str) -> list[str]:
    """ "60608, 60623 60632" -> sorted unique codes; ZoneInputError for anything else."""
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if len(tokens) > MAX_ZIPS:
        raise ZoneInputError(gettext("At most %(n)s ZIP codes per zone.") % {"n": MAX_ZIPS})
    bad = [t for t in tokens if not _ZIP.fullmatch(t[:5]) or len(t) not in (5, 10)]
    if bad:
        raise ZoneInputError(gettext("ZIP codes are five digits, separated by spaces or commas."))
    codes = sorted({t[:5] for t in tokens})
    unknown = [c for c in codes if geo.zip_centroid(c) is None]
    if unknown:
        raise ZoneInputError(
            gettext("These are not US ZIP codes we know: %(codes)s") % {"codes": ", ".join(unknown[:10])}
        )
    return codes


def parse_cells(text: str) -> list[str]:
    tokens = sorted({t.lower() for t in re.split(r"[\s,;]+", text.strip()) if t})
    if len(tokens) > MAX_CELLS:
        raise ZoneInputError(gettext("At most %(n)s map cells per zone.") % {"n": MAX_CELLS})
    if any(len(t) > 20 or not h3.is_valid_cell(t) for t in tokens):
        raise ZoneInputError(gettext("The map selection could not be read. Please pick the cells again."))
    return tokens


def cells_for_zips(codes: Iterable[str]) -> list[str]:
    cells: set[str] = set()
    for code in codes:
        centroid = geo.zip_centroid(code)
        if centroid is not None:
            cells.update(h3.grid_disk(geo.cell_for(*centroid, ZONE_RESOLUTION), ZIP_RING))
    return sorted(cells)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise ZoneInputError(gettext("A zone needs a name of at most 120 characters."))
    return name


# --- Actions -------------------------------------------------------------------------------


def picked_cells(zone: Zone) -> list[str]:
    """The zone's cells that did not come from its ZIP codes (picked on the map)."""
    return sorted(set(zone.cells or []) - set(cells_for_zips(zone.zip_codes or [])))


def _save(zone: Zone, *, name: str, zip_codes: list[str], picked_cells: list[str]) -> Zone:
    if not zip_codes and not picked_cells:
        raise ZoneInputError(gettext("A zone needs ZIP codes or cells picked on the map."))
    zone.name = _clean_name(name)
    zone.zip_codes = zip_codes
    zone.cells = sorted(set(picked_cells) | set(cells_for_zips(zip_codes)))
    try:
        with transaction.atomic():
            zone.save()
    except IntegrityError:
        raise ZoneInputError(gettext("This chapter already has a zone with that name.")) from None
    return zone


@transaction.atomic(durable=True)
def create_zone(*, chapter: Chapter, name: str, zip_codes: list[str], cells: list[str], acting_user: User) -> Zone:
    if chapter not in editable_chapters(acting_user):
        raise Http404
    zone = _save(Zone(chapter=chapter), name=name, zip_codes=zip_codes, picked_cells=cells)
    audit(acting_user, "zone.create", zone)
    return zone


@transaction.atomic(durable=True)
def update_zone(zone: Zone, *, name: str, zip_codes: list[str], cells: list[str], acting_user: User) -> Zone:
    zone = access_zone_by_id(acting_user, zone.pk, edit=True)
    # Cells picked on the map stay picked; cells that came from ZIP codes follow the ZIPs.
    zone = _save(zone, name=name, zip_codes=zip_codes, picked_cells=cells)
    audit(acting_user, "zone.update", zone)
    return zone
