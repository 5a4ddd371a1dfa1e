"""On-call schedules: rotations and overrides edited by organizers, the week calendar, the
zone's iCalendar feed (RFC 5545, parsed back line by line), and the load page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from conftest import login, make_staff
from vigil.accounts.models import Role, User
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.incidents.models import Incident
from vigil.responders import oncall, schedule
from vigil.responders.models import (
    Assignment,
    PageRecipient,
    PageResponse,
    Paging,
    Responder,
    Rotation,
    Shift,
    ShiftKind,
)
from vigil.responders.oncall import Block
from vigil.responders.roster import RosterError
from vigil.responders.tests.conftest import make_responder, put_on_call, report_in


def local_input(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%dT%H:%M")


# --- Rotations and overrides -------------------------------------------------------------------


def test_an_organizer_creates_a_rotation_with_members_in_order(
    client: Client, chapter: Chapter, zone: Zone, organizer: User
) -> None:
    ana, beto, carla = (make_responder(chapter, n) for n in (1, 2, 3))
    login(client, organizer)
    page = client.get("/staff/oncall/rotations/new/")
    assert page.status_code == 200 and b"Volunteer 1" in page.content
    start = timezone.now().replace(microsecond=0, second=0) - timedelta(hours=1)
    response = client.post(
        "/staff/oncall/rotations/new/",
        {
            "name": "Pilsen nights",
            "zone": str(zone.pk),
            "starts_at": local_input(start),
            "shift_hours": "8",
            "active": "on",
            f"member-{carla.pk}": "1",
            f"member-{ana.pk}": "2",
            f"member-{beto.pk}": "",
            "chapter_id": "999",
            "created_by": "1",
        },
    )
    assert response.status_code == 302, response.content
    rotation = Rotation.objects.get()
    assert (rotation.name, rotation.shift_hours, rotation.zone, rotation.created_by) == (
        "Pilsen nights",
        8,
        zone,
        organizer,
    )
    assert rotation.starts_at == start
    assert [m.responder_id for m in rotation.members.all()] == [carla.pk, ana.pk]
    assert AuditEvent.objects.filter(action="oncall.rotation_create", object_id=str(rotation.pk)).exists()
    assert oncall.on_call([zone.pk], timezone.now()) == {carla.pk: {zone.pk}}

    edit = client.post(
        f"/staff/oncall/rotations/{rotation.pk}/",
        {
            "name": "Pilsen nights",
            "zone": str(zone.pk),
            "starts_at": local_input(start),
            "shift_hours": "8",
            "active": "on",
            f"member-{beto.pk}": "1",
            f"member-{carla.pk}": "2",
        },
    )
    assert edit.status_code == 302
    assert [m.responder_id for m in rotation.members.all()] == [beto.pk, carla.pk]
    assert oncall.on_call([zone.pk], timezone.now()) == {beto.pk: {zone.pk}}
    assert AuditEvent.objects.filter(action="oncall.rotation_update").count() == 1


def test_rotation_input_errors_are_400(client: Client, chapter: Chapter, zone: Zone, organizer: User) -> None:
    ana = make_responder(chapter, 1)
    waiting = make_responder(chapter, 2, status="applied")
    login(client, organizer)
    base = {"name": "R", "zone": str(zone.pk), "starts_at": "2026-11-01T08:00", "shift_hours": "12"}
    for bad in (
        {"shift_hours": "0"},
        {"starts_at": "not a date"},
        {"starts_at": "1900-01-01T00:00"},
        {"zone": "99999"},
        {f"member-{ana.pk}": "first"},
        {f"member-{ana.pk}": "²"},  # a digit to str.isdigit, not to int()
        {"name": "x" * 100_000},
    ):
        response = client.post("/staff/oncall/rotations/new/", {**base, **bad})
        assert response.status_code == 400, bad
    # An applicant is not a choice at all: the box is ignored, not an error.
    ignored = client.post("/staff/oncall/rotations/new/", {**base, f"member-{waiting.pk}": "1"})
    assert ignored.status_code == 302
    assert not Rotation.objects.get().members.exists()


def test_rotation_members_must_be_approved_and_of_the_chapter(
    chapter: Chapter, zone: Zone, other_chapter: Chapter, organizer: User
) -> None:
    stranger = make_responder(other_chapter, 1)
    with pytest.raises(RosterError):
        schedule.create_rotation(
            zone, name="R", starts_at=timezone.now(), shift_hours=12, member_ids=[stranger.pk], acting_user=organizer
        )


def test_an_override_replaces_the_rotation_for_its_time(
    client: Client, chapter: Chapter, zone: Zone, organizer: User
) -> None:
    ana, beto = make_responder(chapter, 1), make_responder(chapter, 2)
    put_on_call(ana, zone)
    login(client, organizer)
    assert client.get("/staff/oncall/overrides/new/").status_code == 200
    now = timezone.now().replace(second=0, microsecond=0)
    response = client.post(
        "/staff/oncall/overrides/new/",
        {
            "responder": str(beto.pk),
            "zone": str(zone.pk),
            "starts_at": local_input(now - timedelta(minutes=30)),
            "ends_at": local_input(now + timedelta(hours=2)),
            "kind": "off",
        },
    )
    assert response.status_code == 302, response.content
    shift = Shift.objects.get()
    assert shift.kind == ShiftKind.OVERRIDE and shift.responder == beto and shift.created_by == organizer
    assert oncall.on_call([zone.pk], timezone.now()) == {beto.pk: {zone.pk}}
    listing = client.get("/staff/oncall/rotations/")
    assert b"Volunteer 2" in listing.content

    backwards = client.post(
        "/staff/oncall/overrides/new/",
        {"responder": str(beto.pk), "zone": str(zone.pk), "starts_at": local_input(now), "ends_at": local_input(now)},
    )
    assert backwards.status_code == 400 and b"end must be after the start" in backwards.content

    assert client.post(f"/staff/oncall/overrides/{shift.pk}/remove/").status_code == 302
    assert not Shift.objects.exists()
    assert oncall.on_call([zone.pk], timezone.now()) == {ana.pk: {zone.pk}}
    assert list(
        AuditEvent.objects.filter(action__startswith="oncall.").order_by("id").values_list("action", flat=True)
    ) == [
        "oncall.override_add",
        "oncall.override_remove",
    ]


def test_dispatchers_read_the_calendar_and_load_but_do_not_edit(
    client: Client, chapter: Chapter, zone: Zone, dispatcher: User
) -> None:
    ana = make_responder(chapter, 1)
    rotation = put_on_call(ana, zone)
    shift = Shift.objects.create(
        chapter=chapter,
        responder=ana,
        zone=zone,
        kind=ShiftKind.OVERRIDE,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
        created_at=timezone.now(),
    )
    login(client, dispatcher)
    assert client.get("/staff/oncall/").status_code == 200
    assert client.get("/staff/oncall/load/").status_code == 200
    assert client.get(f"/staff/oncall/{zone.pk}.ics").status_code == 200
    assert client.get("/staff/oncall/rotations/").status_code == 403
    assert client.get("/staff/oncall/rotations/new/").status_code == 403
    assert client.get("/staff/oncall/overrides/new/").status_code == 403
    assert client.get(f"/staff/oncall/rotations/{rotation.pk}/").status_code == 403
    assert client.post(f"/staff/oncall/overrides/{shift.pk}/remove/").status_code == 403
    assert Shift.objects.exists()


@pytest.mark.parametrize("role", [Role.VERIFIER, Role.LEGAL, Role.VOLUNTEER])
def test_other_roles_get_403_on_pages_and_404_on_objects(
    client: Client, chapter: Chapter, zone: Zone, role: str
) -> None:
    ana = make_responder(chapter, 1)
    rotation = put_on_call(ana, zone)
    login(client, make_staff(f"someone-{role}", role, chapter))
    for path in ["/staff/oncall/", "/staff/oncall/load/", "/staff/oncall/rotations/", "/staff/oncall/overrides/new/"]:
        assert client.get(path).status_code == 403, path
    assert client.get(f"/staff/oncall/{zone.pk}.ics").status_code == 404
    assert client.get(f"/staff/oncall/rotations/{rotation.pk}/").status_code == 404


def test_the_outsider_gets_404_on_every_object_route(
    client: Client, chapter: Chapter, zone: Zone, outsider: User
) -> None:
    ana = make_responder(chapter, 1)
    rotation = put_on_call(ana, zone)
    shift = Shift.objects.create(
        chapter=chapter,
        responder=ana,
        zone=zone,
        kind=ShiftKind.OVERRIDE,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
        created_at=timezone.now(),
    )
    for user in (outsider, make_staff("otto.organizer", Role.ORGANIZER, *outsider.chapters.all())):
        login(client, user)
        assert client.get(f"/staff/oncall/{zone.pk}.ics").status_code == 404
        assert client.get(f"/staff/oncall/rotations/{rotation.pk}/").status_code == 404
        assert client.post(f"/staff/oncall/rotations/{rotation.pk}/", {"name": "x"}).status_code == 404
        assert client.post(f"/staff/oncall/overrides/{shift.pk}/remove/").status_code == 404
        calendar = client.get(f"/staff/oncall/?chapter={chapter.pk}")
        assert calendar.status_code == 200 and b"Pilsen" not in calendar.content
    assert Shift.objects.exists()


# --- Calendar --------------------------------------------------------------------------------


def test_the_calendar_shows_who_is_on_call_by_roster_number(
    client: Client, chapter: Chapter, zone: Zone, organizer: User
) -> None:
    ana = make_responder(chapter, 1)
    ana.name = "<b>Ana Secret</b>"
    ana.save()
    put_on_call(ana, zone)
    login(client, organizer)
    page = client.get("/staff/oncall/")
    assert page.status_code == 200
    assert b"Volunteer 1" in page.content
    assert b"Ana Secret" not in page.content
    assert f"/staff/oncall/{zone.pk}.ics".encode() in page.content
    for week in ("2026-02-30", "x" * 5000, "1800-01-01"):
        assert client.get("/staff/oncall/", {"week": week}).status_code == 200
    later = client.get("/staff/oncall/", {"week": "2030-01-07"})
    assert later.status_code == 200 and b"Volunteer 1" in later.content  # rotations go on forever


# --- iCalendar -------------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    raw = text.split("\r\n")[:-1]
    for line in raw:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode()) <= 75, line
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def events(lines: list[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return found


def test_calendar_ics_escapes_folds_and_keeps_uids_stable() -> None:
    import uuid

    who = uuid.uuid4()
    start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    blocks = [
        Block(who, 7, "rotation", start, start + timedelta(hours=12)),
        Block(who, None, "available", start, start + timedelta(hours=4)),
        Block(who, 7, "off", start, start + timedelta(hours=1)),
    ]
    name = "Pilsen; Norte, 18th \\ Blue Island\nÁrea " + "ñ" * 60
    text = schedule.calendar_ics(blocks, zone_names={7: name}, labels={who: "Volunteer 7"}, name="On call", now=start)
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    found = events(lines)
    assert len(found) == 2  # "off" is not an on-call event
    first = found[0]
    assert first["DTSTART"] == "20260301T140000Z" and first["DTEND"] == "20260302T020000Z"
    assert first["DTSTAMP"] == "20260301T140000Z"
    assert first["SUMMARY"] == (
        "On call: Pilsen\\; Norte\\, 18th \\\\ Blue Island\\nÁrea " + "ñ" * 60 + " (Volunteer 7)"
    )
    assert found[1]["SUMMARY"] == "On call: home zones (Volunteer 7)"
    again = events(unfold(schedule.calendar_ics(blocks, zone_names={7: name}, now=start + timedelta(days=1))))
    assert [e["UID"] for e in again] == [e["UID"] for e in found]
    assert len({e["UID"] for e in found}) == 2
    assert "(Volunteer 7)" not in again[0]["SUMMARY"]
    assert re.fullmatch(r"\d{8}T\d{6}Z", again[0]["DTSTAMP"])


def test_the_zone_feed_has_no_names(client: Client, chapter: Chapter, zone: Zone, dispatcher: User) -> None:
    ana = make_responder(chapter, 1)
    put_on_call(ana, zone)
    login(client, dispatcher)
    response = client.get(f"/staff/oncall/{zone.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    found = events(unfold(text))
    assert found and all(e["SUMMARY"] == "On call: Pilsen (Volunteer 1)" for e in found)
    assert "Volunteer 1" in text and str(ana.phone) not in text
    assert "Ana" not in text
    now = timezone.now()
    assert any(
        datetime.strptime(e["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        <= now
        < datetime.strptime(e["DTEND"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        for e in found
    )


# --- Load ------------------------------------------------------------------------------------


def _deploy(responder: Responder, incident: Incident, hours: float, ended: bool = True) -> None:
    now = timezone.now()
    Assignment.objects.create(
        incident=incident,
        responder=responder,
        accepted_at=now - timedelta(hours=hours + 1),
        ended_at=now - timedelta(hours=1) if ended else None,
    )


def test_the_load_page_counts_hours_deployments_and_pages_in_constant_queries(
    client: Client,
    chapter: Chapter,
    zone: Zone,
    organizer: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    now = timezone.now()
    ana = make_responder(chapter, 1)
    # Five days in a 24-hour rotation: 5 days x 24 h in the last 7 days -> over the 40 h limit.
    put_on_call(ana, zone, since=now - timedelta(days=5), hours=24)
    beto = make_responder(chapter, 2)
    beto.rest_until = now + timedelta(hours=6)
    beto.save()
    incident = report_in()
    _deploy(ana, incident, 5)
    paging_row = Paging.objects.create(chapter=chapter, incident=incident, started_at=now)
    PageRecipient.objects.create(
        paging=paging_row, responder=ana, stage=0, paged_at=now - timedelta(hours=7), response=PageResponse.ACCEPTED
    )
    PageRecipient.objects.create(paging=paging_row, responder=beto, stage=0, paged_at=now - timedelta(hours=7))
    login(client, organizer)
    with CaptureQueriesContext(connection) as few:
        page = client.get("/staff/oncall/load/")
    assert page.status_code == 200

    rows = {row.responder.pk: row for row in page.context["rows"]}
    assert rows[ana.pk].on_call_hours == pytest.approx(5 * 24, abs=0.1)
    assert rows[ana.pk].week_hours == pytest.approx(5 * 24, abs=0.1)
    assert rows[ana.pk].over_limit
    assert (rows[ana.pk].deployments, rows[ana.pk].deployed_hours) == (1, 5.0)
    assert (rows[ana.pk].pages, rows[ana.pk].accepted) == (1, 1)
    assert (rows[beto.pk].pages, rows[beto.pk].accepted, rows[beto.pk].over_limit) == (1, 0, False)
    assert rows[beto.pk].resting_until == beto.rest_until
    assert b"over the limit" in page.content

    for n in range(3, 25):
        extra = make_responder(chapter, n)
        put_on_call(extra, zone, since=now - timedelta(days=2))
        _deploy(extra, incident, 1, ended=False)
    with django_assert_max_num_queries(len(few) + 1):
        bigger = client.get("/staff/oncall/load/")
    assert len(bigger.context["rows"]) == 24
    assert AuditEvent.objects.filter(action="responder.list").count() == 2


def test_schedule_blocks_clip_for_the_week() -> None:
    import uuid

    from vigil.responders.schedule_views import clip

    start = datetime(2026, 3, 1, tzinfo=UTC)
    block = Block(uuid.uuid4(), 1, "rotation", start, start + timedelta(days=3))
    clipped = clip([block], start + timedelta(days=1), start + timedelta(days=10))
    assert clipped[0].starts_at == start + timedelta(days=1) and clipped[0].ends_at == block.ends_at
    assert clip([block], start + timedelta(days=4), start + timedelta(days=5)) == []
