"""Staff pages for zones: the list with subscriber counts, and create/edit with an SVG cell map.

The map is drawn on the server (no tiles, no other origin): a grid of h3 cells around the
chapter's zones. Without JavaScript the ZIP-code list and the cells box still work; with it,
clicking a cell toggles it in the cells box (zones.js).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import h3
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from vigil.accounts.models import User
from vigil.alerts import zones
from vigil.core import geo
from vigil.core.models import Chapter, Zone
from vigil.incidents.mapsvg import Projection

GRID_RING = 3
MAX_GRID = 900


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@dataclass
class Hex:
    cell: str
    points: str
    state: str  # "zip" (from a ZIP code), "picked", "other" (another zone), "free"
    title: str


@dataclass
class CellMap:
    width: int = 1000
    height: int = 0
    hexes: list[Hex] = field(default_factory=list)


def _res_cells(cells: list[str]) -> set[str]:
    """Cells at the map's resolution: coarser cells become their children, finer their parent."""
    found: set[str] = set()
    for cell in cells:
        if not isinstance(cell, str) or not h3.is_valid_cell(cell):
            continue
        res = h3.get_resolution(cell)
        if res == zones.ZONE_RESOLUTION:
            found.add(cell)
        elif res > zones.ZONE_RESOLUTION:
            found.add(h3.cell_to_parent(cell, zones.ZONE_RESOLUTION))
        elif zones.ZONE_RESOLUTION - res <= 2:
            found.update(h3.cell_to_children(cell, zones.ZONE_RESOLUTION))
    return found


def cell_map(chapter: Chapter, zone: Zone | None, *, zip_cells: list[str], picked: list[str], near: str) -> CellMap:
    others: dict[str, str] = {}
    for other in Zone.objects.filter(chapter=chapter).exclude(pk=zone.pk if zone else -1):
        for cell in _res_cells(other.cells or []):
            others.setdefault(cell, other.name)
    zip_set, picked_set = _res_cells(zip_cells), _res_cells(picked)
    seeds = zip_set | picked_set | set(others)
    near_cell = geo.cell_for_zip(near) if near else None
    if near_cell:
        seeds.add(h3.cell_to_parent(near_cell, zones.ZONE_RESOLUTION))
    grid: set[str] = set()
    for seed in sorted(seeds):
        grid.update(h3.grid_disk(seed, GRID_RING))
        if len(grid) > MAX_GRID:
            break
    drawing = CellMap()
    if not grid:
        return drawing
    boundaries = {cell: list(h3.cell_to_boundary(cell)) for cell in sorted(grid)}
    project = Projection([p for ring in boundaries.values() for p in ring])
    drawing.height = project.height
    for cell, ring in boundaries.items():
        points = " ".join(f"{x},{y}" for x, y in (project(p) for p in ring))
        if cell in zip_set:
            state, title = "zip", "ZIP"
        elif cell in picked_set:
            state, title = "picked", ""
        elif cell in others:
            state, title = "other", others[cell]
        else:
            state, title = "free", ""
        drawing.hexes.append(Hex(cell, points, state, title))
    return drawing


@require_GET
@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not zones.reads_zones(user):
        raise PermissionDenied
    return render(request, "alerts/zones.html", {"rows": zones.zone_rows(user), "can_edit": zones.edits_zones(user)})


def _form_page(
    request: HttpRequest,
    *,
    chapter: Chapter,
    zone: Zone | None,
    data: dict[str, str],
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        zip_codes = zones.parse_zips(data.get("zip_codes", ""))
    except zones.ZoneInputError:
        zip_codes = []
    try:
        picked = zones.parse_cells(data.get("cells", ""))
    except zones.ZoneInputError:
        picked = []
    near = data.get("near", "")[:5] or (zip_codes[0] if zip_codes else "")
    context: dict[str, Any] = {
        "zone": zone,
        "chapter": chapter,
        "chapters": zones.editable_chapters(_user(request)),
        "data": data,
        "error": error,
        "map": cell_map(chapter, zone, zip_cells=zones.cells_for_zips(zip_codes), picked=picked, near=near),
    }
    return render(request, "alerts/zones_form.html", context, status=status)


def _submitted(request: HttpRequest) -> dict[str, str]:
    return {key: str(request.POST.get(key, ""))[:20000] for key in ("name", "zip_codes", "cells", "chapter", "near")}


@require_http_methods(["GET", "POST"])
@login_required
def zone_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    chapters = zones.editable_chapters(user)
    if not chapters:
        raise PermissionDenied
    data = _submitted(request) if request.method == "POST" else {"near": str(request.GET.get("near", ""))[:5]}
    chapter = next((c for c in chapters if str(c.pk) == data.get("chapter")), chapters[0])
    if request.method == "GET" or "preview" in request.POST:
        return _form_page(request, chapter=chapter, zone=None, data=data)
    try:
        zone = zones.create_zone(
            chapter=chapter,
            name=data["name"],
            zip_codes=zones.parse_zips(data["zip_codes"]),
            cells=zones.parse_cells(data["cells"]),
            acting_user=user,
        )
    except zones.ZoneInputError as problem:
        return _form_page(request, chapter=chapter, zone=None, data=data, error=str(problem), status=400)
    return redirect("zone_edit", pk=zone.pk)


@require_http_methods(["GET", "POST"])
@login_required
def zone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not zones.reads_zones(user):
        raise Http404
    zone = zones.access_zone_by_id(user, pk, edit=True)
    if request.method == "GET":
        data = {
            "name": zone.name,
            "zip_codes": " ".join(zone.zip_codes or []),
            "cells": " ".join(zones.picked_cells(zone)),
        }
        return _form_page(request, chapter=zone.chapter, zone=zone, data=data)
    data = _submitted(request)
    if "preview" in request.POST:
        return _form_page(request, chapter=zone.chapter, zone=zone, data=data)
    try:
        zones.update_zone(
            zone,
            name=data["name"],
            zip_codes=zones.parse_zips(data["zip_codes"]),
            cells=zones.parse_cells(data["cells"]),
            acting_user=user,
        )
    except zones.ZoneInputError as problem:
        return _form_page(request, chapter=zone.chapter, zone=zone, data=data, error=str(problem), status=400)
    return redirect("zone_list")
