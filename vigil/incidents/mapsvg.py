"""The incident map, drawn on the server as plain SVG shapes: no tiles, no other origin.

Zones are outlines of their h3 cells; incidents are dots at their cell's centre (or their
zone's, when they only have a ZIP code). Coordinates are projected equirectangularly, which
is accurate enough over a city.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import h3

from vigil.core.models import Zone
from vigil.incidents.models import Incident

WIDTH = 1000
MAX_HEIGHT = 1000
PAD = 30
DOT_SPREAD = 9.0

LatLng = tuple[float, float]


@dataclass
class ZoneShape:
    name: str
    paths: list[str]
    label_x: float
    label_y: float
    count: int
    hot: bool


@dataclass
class Dot:
    incident: Incident
    x: float
    y: float
    href: str


@dataclass
class Drawing:
    width: int
    height: int
    zones: list[ZoneShape] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    unplaced_zones: list[str] = field(default_factory=list)
    unplaced_incidents: list[Incident] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.zones and not self.dots


def zone_rings(zone: Zone) -> list[list[LatLng]]:
    """Outer rings of the zone's cells, merged per resolution where h3 can merge them."""
    by_resolution: dict[int, set[str]] = defaultdict(set)
    for cell in zone.cells or []:
        if isinstance(cell, str) and h3.is_valid_cell(cell):
            by_resolution[h3.get_resolution(cell)].add(cell)
    rings: list[list[LatLng]] = []
    for cells in by_resolution.values():
        try:
            shape = h3.cells_to_h3shape(sorted(cells))
        except (h3.H3BaseException, ValueError):
            rings.extend([list(h3.cell_to_boundary(cell)) for cell in sorted(cells)])
            continue
        polys = [shape] if isinstance(shape, h3.LatLngPoly) else list(shape)
        rings.extend([list(poly.outer) for poly in polys])
    return rings


class Projection:
    def __init__(self, points: Iterable[LatLng]) -> None:
        pts = list(points)
        self.kx = math.cos(math.radians(sum(p[0] for p in pts) / len(pts)))
        xs = [lng * self.kx for _, lng in pts]
        ys = [-lat for lat, _ in pts]
        self.min_x, self.min_y = min(xs), min(ys)
        span_x = max(max(xs) - self.min_x, 1e-6)
        span_y = max(max(ys) - self.min_y, 1e-6)
        self.scale = min((WIDTH - 2 * PAD) / span_x, (MAX_HEIGHT - 2 * PAD) / span_y)
        self.offset_x = (WIDTH - span_x * self.scale) / 2
        self.height = int(math.ceil(span_y * self.scale + 2 * PAD))

    def __call__(self, point: LatLng) -> tuple[float, float]:
        lat, lng = point
        x = self.offset_x + (lng * self.kx - self.min_x) * self.scale
        y = PAD + (-lat - self.min_y) * self.scale
        return round(x, 1), round(y, 1)


def _centre(ring: list[LatLng]) -> LatLng:
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _incident_point(incident: Incident, zone_centres: dict[int, LatLng]) -> LatLng | None:
    if incident.cell and h3.is_valid_cell(incident.cell):
        lat, lng = h3.cell_to_latlng(incident.cell)
        return float(lat), float(lng)
    if incident.zone_id is not None:
        return zone_centres.get(incident.zone_id)
    return None


def build_map(zones: list[Zone], incidents: list[Incident], *, link: Callable[[int], str]) -> Drawing:
    rings = {zone.pk: zone_rings(zone) for zone in zones}
    zone_centres = {pk: _centre([p for ring in found for p in ring]) for pk, found in rings.items() if found}
    placed: list[tuple[Incident, LatLng]] = []
    drawing = Drawing(width=WIDTH, height=0)
    for incident in incidents:
        point = _incident_point(incident, zone_centres)
        if point is None:
            drawing.unplaced_incidents.append(incident)
        else:
            placed.append((incident, point))
    all_points = [p for found in rings.values() for ring in found for p in ring]
    all_points += [point for _, point in placed]
    drawing.unplaced_zones = [zone.name for zone in zones if not rings[zone.pk]]
    if not all_points:
        return drawing
    project = Projection(all_points)
    drawing.height = project.height
    counts: dict[int, int] = defaultdict(int)
    for incident in incidents:
        if incident.zone_id is not None:
            counts[incident.zone_id] += 1
    for zone in zones:
        if not rings[zone.pk]:
            continue
        paths = []
        for ring in rings[zone.pk]:
            coords = [project(point) for point in ring]
            paths.append("M" + " L".join(f"{x},{y}" for x, y in coords) + " Z")
        label_x, label_y = project(zone_centres[zone.pk])
        count = counts.get(zone.pk, 0)
        drawing.zones.append(ZoneShape(zone.name, paths, label_x, label_y, count, hot=count > 0))
    # Several incidents in one cell would hide each other: spread them on a small circle.
    stacked: dict[tuple[float, float], int] = defaultdict(int)
    for incident, point in placed:
        x, y = project(point)
        n = stacked[(x, y)]
        stacked[(x, y)] += 1
        if n:
            angle = n * 2.4
            x, y = round(x + DOT_SPREAD * math.cos(angle), 1), round(y + DOT_SPREAD * math.sin(angle), 1)
        drawing.dots.append(Dot(incident, x, y, link(incident.pk)))
    return drawing
