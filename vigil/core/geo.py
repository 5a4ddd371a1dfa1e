"""Coarse geography: h3 cells and bundled US ZIP data. No web service is ever called."""

from __future__ import annotations

from functools import lru_cache

import h3
import zipcodes
from django.conf import settings

from vigil.core.models import Zone


def cell_for(lat: float, lng: float, resolution: int | None = None) -> str:
    return str(h3.latlng_to_cell(lat, lng, resolution or settings.CLUSTER_H3_RESOLUTION))


@lru_cache(maxsize=4096)
def zip_centroid(zip_code: str) -> tuple[float, float] | None:
    code = zip_code.strip()[:5]
    if len(code) != 5 or not code.isdigit():
        return None
    try:
        found = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    if not found:
        return None
    return float(found[0]["lat"]), float(found[0]["long"])


def cell_for_zip(zip_code: str) -> str | None:
    centroid = zip_centroid(zip_code)
    return cell_for(*centroid) if centroid else None


def nearby_cells(cell: str, ring: int | None = None) -> list[str]:
    return [str(c) for c in h3.grid_disk(cell, settings.CLUSTER_RING if ring is None else ring)]


def cell_center(cell: str) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(cell)
    return float(lat), float(lng)


def zone_for_cell(cell: str | None, zones: list[Zone]) -> Zone | None:
    """The zone containing the cell: a zone cell equal to, or a parent of, the given cell."""
    if not cell:
        return None
    resolution = h3.get_resolution(cell)
    for zone in zones:
        for zone_cell in zone.cells:
            zres = h3.get_resolution(zone_cell)
            if zres <= resolution and h3.cell_to_parent(cell, zres) == zone_cell:
                return zone
    return None


def zone_for_zip(zip_code: str, zones: list[Zone]) -> Zone | None:
    code = zip_code.strip()[:5]
    for zone in zones:
        if code in zone.zip_codes:
            return zone
    return zone_for_cell(cell_for_zip(code), zones)


def _covers(zone_cell: str, disk: set[str], disk_resolution: int) -> bool:
    resolution = h3.get_resolution(zone_cell)
    if resolution <= disk_resolution:
        return any(h3.cell_to_parent(cell, resolution) == zone_cell for cell in disk)
    return h3.cell_to_parent(zone_cell, disk_resolution) in disk


def zones_within_rings(zone: Zone, ring: int) -> list[Zone]:
    """The zone, plus (ring > 0) every zone of its chapter with a cell within `ring` h3 rings of it."""
    if ring <= 0 or not zone.cells:
        return [zone]
    found = [zone]
    by_resolution: dict[int, set[str]] = {}
    for cell in zone.cells:
        by_resolution.setdefault(h3.get_resolution(cell), set()).update(str(c) for c in h3.grid_disk(cell, ring))
    for other in Zone.objects.filter(chapter_id=zone.chapter_id).exclude(pk=zone.pk).order_by("name"):
        if any(_covers(cell, disk, res) for cell in other.cells for res, disk in by_resolution.items()):
            found.append(other)
    return found
