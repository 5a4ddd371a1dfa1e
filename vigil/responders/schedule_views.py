"""On-call pages (/staff/oncall/): the week calendar by zone, rotations and overrides, the
zone's iCalendar feed, and the load page (burnout guardrails over 30 days).

Organizers and admins edit; dispatchers read the calendar, the feeds and the load page; other
roles get 403 on the pages and 404 on object routes. Calendar and feeds name responders by
roster number ("Volunteer 7"), never by name, so nothing is decrypted there.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigil.accounts.models import User
from vigil.core.audit import audit
from vigil.core.forms import local_zone
from vigil.core.models import Chapter, Zone
from vigil.responders import oncall, schedule, selectors
from vigil.responders.forms import OverrideForm, RotationForm
from vigil.responders.models import (
    Assignment,
    PageRecipient,
    PageResponse,
    Responder,
    ResponderStatus,
    Rotation,
    Shift,
    ShiftKind,
)
from vigil.responders.oncall import Block
from vigil.responders.roster import NotAllowed, RosterError

LOAD_DAYS = 30
ICS_PAST = timedelta(days=7)
ICS_AHEAD = timedelta(days=56)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _chapter(request: HttpRequest, chapters: list[Chapter]) -> Chapter:
    wanted = str(request.GET.get("chapter", ""))
    return next((c for c in chapters if str(c.pk) == wanted), chapters[0])


def _readable(request: HttpRequest) -> tuple[User, list[Chapter]]:
    user = _user(request)
    chapters = selectors.readable_chapters(user)
    if not chapters:
        raise PermissionDenied
    return user, chapters


def _editable(request: HttpRequest) -> tuple[User, list[Chapter]]:
    user = _user(request)
    chapters = selectors.editable_chapters(user)
    if not chapters:
        raise PermissionDenied
    return user, chapters


def clip(blocks: Iterable[Block], start: datetime, end: datetime) -> list[Block]:
    return [
        Block(b.responder_id, b.zone_id, b.kind, max(b.starts_at, start), min(b.ends_at, end))
        for b in blocks
        if b.starts_at < end and b.ends_at > start
    ]


# --- Calendar ---------------------------------------------------------------------------------


@dataclass
class CalendarEntry:
    label: str
    kind: str
    start: datetime
    end: datetime
    responder_id: uuid.UUID


@dataclass
class CalendarRow:
    title: str
    zone: Zone | None
    days: list[list[CalendarEntry]] = field(default_factory=list)


def _week_start(text: str) -> date:
    try:
        day = date.fromisoformat(text[:10]) if text else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    if not date(2000, 1, 1) <= day <= date(2100, 1, 1):
        day = timezone.localdate()
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone())


@require_GET
@login_required
def oncall_calendar(request: HttpRequest) -> HttpResponse:
    user, chapters = _readable(request)
    chapter = _chapter(request, chapters)
    monday = _week_start(str(request.GET.get("week", "")))
    days = [monday + timedelta(days=n) for n in range(7)]
    bounds = [_local_midnight(d) for d in days] + [_local_midnight(monday + timedelta(days=7))]
    zones = list(Zone.objects.filter(chapter=chapter).order_by("name"))
    blocks = oncall.schedule_blocks(chapter.pk, bounds[0], bounds[-1])
    numbers = selectors.roster_numbers(chapter.pk)
    rows: dict[Any, CalendarRow] = {z.pk: CalendarRow(z.name, z) for z in zones}
    rows["home"] = CalendarRow(gettext("Available in their home zones"), None)
    rows["off"] = CalendarRow(gettext("Off"), None)
    for row in rows.values():
        row.days = [[] for _ in days]
    for block in blocks:
        key: Any = "off" if block.kind == ShiftKind.OFF else (block.zone_id if block.zone_id is not None else "home")
        found = rows.get(key)
        if found is None:
            continue
        for n in range(7):
            if block.starts_at < bounds[n + 1] and block.ends_at > bounds[n]:
                label = gettext("Volunteer %(n)s") % {"n": numbers.get(block.responder_id, "?")}
                found.days[n].append(
                    CalendarEntry(
                        label,
                        block.kind,
                        max(block.starts_at, bounds[n]).astimezone(local_zone()),
                        min(block.ends_at, bounds[n + 1]).astimezone(local_zone()),
                        block.responder_id,
                    )
                )
    shown = [r for key, r in rows.items() if isinstance(key, int) or any(r.days)]
    context = {
        "chapter": chapter,
        "chapters": chapters,
        "days": days,
        "rows": shown,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "can_edit": selectors.edits_roster(user),
        "zones": zones,
    }
    return render(request, "responders/schedule/calendar.html", context)


@require_GET
@login_required
def zone_ics(request: HttpRequest, zone_id: int) -> HttpResponse:
    user = _user(request)
    readable = [c.pk for c in selectors.readable_chapters(user)]
    zone = Zone.objects.filter(pk=zone_id, chapter_id__in=readable).first()
    if zone is None:
        raise Http404
    today = datetime.combine(timezone.now().astimezone(UTC).date(), time(0), tzinfo=UTC)
    blocks = oncall.schedule_blocks(zone.chapter_id, today - ICS_PAST, today + ICS_AHEAD, zone_ids=[zone.pk])
    blocks = [b for b in blocks if b.zone_id == zone.pk]
    numbers = selectors.roster_numbers(zone.chapter_id)
    labels = {pk: gettext("Volunteer %(n)s") % {"n": n} for pk, n in numbers.items()}
    body = schedule.calendar_ics(
        blocks,
        zone_names={zone.pk: zone.name},
        labels=labels,
        name=gettext("On call: %(zone)s") % {"zone": zone.name},
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="oncall-{zone.pk}.ics"'
    return response


# --- Rotations and overrides --------------------------------------------------------------------


def _approved(chapter: Chapter) -> list[Responder]:
    return list(Responder.objects.filter(chapter=chapter, status=ResponderStatus.APPROVED).order_by("applied_at", "id"))


def _responder_choices(chapter: Chapter) -> list[tuple[str, str]]:
    numbers = selectors.roster_numbers(chapter.pk)
    return [
        (str(r.pk), gettext("Volunteer %(n)s") % {"n": numbers.get(r.pk, "?")} + f" · {r.name!s}")
        for r in _approved(chapter)
    ]


@require_GET
@login_required
def rotation_list(request: HttpRequest) -> HttpResponse:
    user, chapters = _editable(request)
    chapter = _chapter(request, chapters)
    rotations = list(
        Rotation.objects.filter(chapter=chapter)
        .select_related("zone")
        .annotate(n=Count("members"))
        .order_by("zone__name", "name")
    )
    overrides = list(
        Shift.objects.filter(chapter=chapter, kind=ShiftKind.OVERRIDE, ends_at__gt=timezone.now())
        .select_related("zone")
        .order_by("starts_at")
    )
    numbers = selectors.roster_numbers(chapter.pk)
    context = {
        "chapter": chapter,
        "chapters": chapters,
        "rotations": rotations,
        "overrides": [(o, numbers.get(o.responder_id, "?")) for o in overrides],
    }
    return render(request, "responders/schedule/rotations.html", context)


def _member_order(post: Any, allowed: set[str]) -> list[uuid.UUID]:
    """Members from "member-<uuid>" = position boxes (blank: not a member), in position order."""
    chosen: list[tuple[int, str]] = []
    for key in list(post.keys())[:1000]:
        if not key.startswith("member-"):
            continue
        pk = key[len("member-") :]
        value = str(post.get(key, "")).strip()[:6]
        if pk not in allowed or not value:
            continue
        if not value.isdecimal():
            raise RosterError(gettext("Positions are whole numbers."))
        chosen.append((int(value), pk))
    chosen.sort()
    return [uuid.UUID(pk) for _, pk in chosen]


def _rotation_page(
    request: HttpRequest,
    user: User,
    chapter: Chapter,
    form: RotationForm,
    *,
    rotation: Rotation | None,
    positions: dict[str, str],
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    approved = _approved(chapter)
    numbers = selectors.roster_numbers(chapter.pk)
    with transaction.atomic():
        audit(user, "responder.list", chapter=chapter, object_type="responders.responder")
    members = [(r, numbers.get(r.pk, "?"), positions.get(str(r.pk), "")) for r in approved]
    context = {
        "form": form,
        "chapter": chapter,
        "rotation": rotation,
        "members": members,
        "error": error,
    }
    return render(request, "responders/schedule/rotation_form.html", context, status=status)


def _save_rotation(request: HttpRequest, user: User, chapter: Chapter, rotation: Rotation | None) -> HttpResponse:
    zones = list(Zone.objects.filter(chapter=chapter).order_by("name"))
    form = RotationForm(request.POST, zones=zones)
    allowed = {str(r.pk) for r in _approved(chapter)}
    positions = {
        k[len("member-") :]: str(request.POST.get(k, ""))[:6]
        for k in list(request.POST.keys())[:1000]
        if k.startswith("member-") and k[len("member-") :] in allowed
    }
    if not form.is_valid():
        return _rotation_page(request, user, chapter, form, rotation=rotation, positions=positions, status=400)
    data = form.cleaned_data
    zone = next(z for z in zones if str(z.pk) == data["zone"])
    try:
        members = _member_order(request.POST, allowed)
        if rotation is None:
            schedule.create_rotation(
                zone,
                name=data["name"],
                starts_at=data["starts_at"],
                shift_hours=data["shift_hours"],
                member_ids=members,
                active=data["active"],
                acting_user=user,
            )
        else:
            schedule.update_rotation(
                rotation,
                zone=zone,
                name=data["name"],
                starts_at=data["starts_at"],
                shift_hours=data["shift_hours"],
                member_ids=members,
                active=data["active"],
                acting_user=user,
            )
    except RosterError as problem:
        return _rotation_page(
            request, user, chapter, form, rotation=rotation, positions=positions, error=str(problem), status=400
        )
    return redirect(f"{_url('oncall_rotations')}?chapter={chapter.pk}")


def _url(name: str) -> str:
    return reverse(name)


@require_http_methods(["GET", "POST"])
@login_required
def rotation_create(request: HttpRequest) -> HttpResponse:
    user, chapters = _editable(request)
    chapter = _chapter(request, chapters)
    if request.method == "POST":
        return _save_rotation(request, user, chapter, None)
    zones = list(Zone.objects.filter(chapter=chapter).order_by("name"))
    start = _local_midnight(timezone.localdate() + timedelta(days=1)) + timedelta(hours=8)
    form = RotationForm(
        zones=zones, initial={"starts_at": start.astimezone(local_zone()), "shift_hours": 12, "active": True}
    )
    return _rotation_page(request, user, chapter, form, rotation=None, positions={})


@require_http_methods(["GET", "POST"])
@login_required
def rotation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    readable = [c.pk for c in selectors.readable_chapters(user)]
    rotation = Rotation.objects.select_related("chapter", "zone").filter(pk=pk, chapter_id__in=readable).first()
    if rotation is None:
        raise Http404
    if not selectors.edits_roster(user) or rotation.chapter_id not in [c.pk for c in selectors.editable_chapters(user)]:
        raise PermissionDenied
    chapter = rotation.chapter
    if request.method == "POST":
        return _save_rotation(request, user, chapter, rotation)
    zones = list(Zone.objects.filter(chapter=chapter).order_by("name"))
    form = RotationForm(
        zones=zones,
        initial={
            "name": rotation.name,
            "zone": str(rotation.zone_id),
            "starts_at": rotation.starts_at.astimezone(local_zone()),
            "shift_hours": rotation.shift_hours,
            "active": rotation.active,
        },
    )
    positions = {str(m.responder_id): str(m.position + 1) for m in rotation.members.all()}
    return _rotation_page(request, user, chapter, form, rotation=rotation, positions=positions)


@require_http_methods(["GET", "POST"])
@login_required
def override_add(request: HttpRequest) -> HttpResponse:
    user, chapters = _editable(request)
    chapter = _chapter(request, chapters)
    zones = list(Zone.objects.filter(chapter=chapter).order_by("name"))
    choices = _responder_choices(chapter)
    with transaction.atomic():
        audit(user, "responder.list", chapter=chapter, object_type="responders.responder")
    if request.method == "GET":
        form = OverrideForm(zones=zones, responders=choices)
        return render(request, "responders/schedule/override_form.html", {"form": form, "chapter": chapter})
    form = OverrideForm(request.POST, zones=zones, responders=choices)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        responder = Responder.objects.get(pk=data["responder"], chapter=chapter)
        zone = next(z for z in zones if str(z.pk) == data["zone"])
        try:
            schedule.add_override(
                responder, zone=zone, starts_at=data["starts_at"], ends_at=data["ends_at"], acting_user=user
            )
        except RosterError as problem:
            error = str(problem)
        else:
            return redirect(f"{_url('oncall_rotations')}?chapter={chapter.pk}")
    context = {"form": form, "chapter": chapter, "error": error}
    return render(request, "responders/schedule/override_form.html", context, status=400)


@require_POST
@login_required
def override_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    readable = [c.pk for c in selectors.readable_chapters(user)]
    shift = Shift.objects.filter(pk=pk, chapter_id__in=readable, kind=ShiftKind.OVERRIDE).first()
    if shift is None:
        raise Http404
    chapter_id = shift.chapter_id
    try:
        schedule.remove_override(shift, acting_user=user)
    except NotAllowed:
        raise PermissionDenied from None
    return redirect(f"{_url('oncall_rotations')}?chapter={chapter_id}")


# --- Load --------------------------------------------------------------------------------------


@dataclass
class LoadRow:
    responder: Responder
    number: int
    on_call_hours: float = 0.0
    week_hours: float = 0.0
    deployments: int = 0
    deployed_hours: float = 0.0
    pages: int = 0
    accepted: int = 0
    over_limit: bool = False
    resting_until: datetime | None = None


def load_rows(chapter: Chapter, now: datetime) -> list[LoadRow]:
    """Each approved responder's last 30 days. A fixed number of queries whatever the roster size."""
    start = now - timedelta(days=LOAD_DAYS)
    responders = list(
        Responder.objects.filter(chapter=chapter, status=ResponderStatus.APPROVED).order_by("applied_at", "id")
    )
    numbers = selectors.roster_numbers(chapter.pk)
    ids = [r.pk for r in responders]
    blocks = oncall.schedule_blocks(chapter.pk, start, now, responder_ids=ids)
    month = oncall.hours_by_responder(blocks)
    week = oncall.hours_by_responder(clip(blocks, now - oncall.WEEK, now))
    deployments: dict[uuid.UUID, list[float]] = defaultdict(list)
    for responder_id, accepted_at, ended_at in (
        Assignment.objects.filter(responder_id__in=ids, accepted_at__lt=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .values_list("responder_id", "accepted_at", "ended_at")
    ):
        begin, finish = max(accepted_at, start), min(ended_at or now, now)
        deployments[responder_id].append(max(0.0, (finish - begin).total_seconds() / 3600))
    pages = {
        row["responder_id"]: row
        for row in PageRecipient.objects.filter(responder_id__in=ids, paged_at__gte=start, paged_at__lt=now)
        .values("responder_id")
        .annotate(
            n=Count("id"),
            accepted=Count("id", filter=Q(response__in=[PageResponse.ACCEPTED, PageResponse.ON_SCENE])),
        )
    }
    limit = settings.MAX_SHIFT_HOURS_PER_WEEK
    rows = []
    for responder in responders:
        row = LoadRow(responder, numbers.get(responder.pk, 0))
        row.on_call_hours = month.get(responder.pk, 0.0)
        row.week_hours = week.get(responder.pk, 0.0)
        row.deployments = len(deployments.get(responder.pk, []))
        row.deployed_hours = round(sum(deployments.get(responder.pk, [])), 1)
        page_row = pages.get(responder.pk)
        row.pages = page_row["n"] if page_row else 0
        row.accepted = page_row["accepted"] if page_row else 0
        row.over_limit = row.week_hours >= limit
        row.resting_until = responder.rest_until if responder.rest_until and responder.rest_until > now else None
        rows.append(row)
    return rows


@require_GET
@login_required
def oncall_load(request: HttpRequest) -> HttpResponse:
    user, chapters = _readable(request)
    chapter = _chapter(request, chapters)
    rows = load_rows(chapter, timezone.now())
    with transaction.atomic():
        audit(user, "responder.list", chapter=chapter, object_type="responders.responder")
    context = {
        "chapter": chapter,
        "chapters": chapters,
        "rows": rows,
        "days": LOAD_DAYS,
        "limit": settings.MAX_SHIFT_HOURS_PER_WEEK,
        "can_edit": selectors.edits_roster(user),
    }
    return render(request, "responders/schedule/load.html", context)
