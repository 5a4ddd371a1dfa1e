"""Who is on call and who may be paged: rotations, overrides, AVAILABLE/OFF, trainings, guardrails."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from vigil.channels.models import Endpoint
from vigil.core.models import Chapter, Zone
from vigil.responders import oncall
from vigil.responders.models import (
    Responder,
    ResponderRole,
    ResponderStatus,
    Rotation,
    RotationMember,
    Shift,
    ShiftKind,
    Training,
)
from vigil.responders.tests.conftest import make_responder

MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def volunteer(chapter: Chapter, n: int, *, trained: bool = True, backup: bool = False) -> Responder:
    return make_responder(chapter, n, trained=trained, backup=backup)


def rotation(zone: Zone, members: list[Responder], *, hours: int = 12) -> Rotation:
    rot = Rotation.objects.create(chapter=zone.chapter, zone=zone, name="Nights", starts_at=MONDAY, shift_hours=hours)
    for position, member in enumerate(members):
        RotationMember.objects.create(rotation=rot, responder=member, position=position)
    return rot


def shift(responder: Responder, kind: str, start: datetime, hours: float, zone: Zone | None = None) -> Shift:
    return Shift.objects.create(
        chapter=responder.chapter,
        responder=responder,
        zone=zone,
        kind=kind,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        created_at=start,
    )


@pytest.fixture
def ana(chapter: Chapter) -> Responder:
    return volunteer(chapter, 1)


@pytest.fixture
def beto(chapter: Chapter) -> Responder:
    return volunteer(chapter, 2)


@pytest.fixture
def carla(chapter: Chapter) -> Responder:
    return volunteer(chapter, 3)


def test_rotation_members_take_their_slots_in_turn(zone, ana, beto):
    rotation(zone, [ana, beto], hours=12)
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=1))) == {ana.pk}
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=13))) == {beto.pk}
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=25))) == {ana.pk}
    assert oncall.on_call([zone.pk], MONDAY - timedelta(hours=1)) == {}


def test_an_override_replaces_the_rotation_in_its_zone_for_its_time(zone, ana, beto, carla):
    rotation(zone, [ana, beto])
    shift(carla, ShiftKind.OVERRIDE, MONDAY + timedelta(hours=2), 4, zone)
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=3))) == {carla.pk}
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=7))) == {ana.pk}


def test_available_now_adds_the_volunteer_in_their_home_zones_and_off_takes_them_off(zone, other_zone, ana, beto):
    rotation(zone, [ana])
    beto.home_zones.add(zone)
    shift(beto, ShiftKind.AVAILABLE, MONDAY, 4)
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=1))) == {ana.pk, beto.pk}
    shift(ana, ShiftKind.OFF, MONDAY + timedelta(hours=1), 2)
    assert set(oncall.on_call([zone.pk], MONDAY + timedelta(hours=2))) == {beto.pk}


def test_only_trained_on_call_rested_reachable_volunteers_are_eligible(chapter, zone, ana, beto, carla):
    untrained = volunteer(chapter, 4, trained=False)
    rotation(zone, [ana])
    for person in (beto, carla, untrained):
        shift(person, ShiftKind.OVERRIDE, MONDAY, 1, zone)
    at = MONDAY + timedelta(minutes=30)
    # The override replaced Ana's rotation slot; Beto rests after a long deployment;
    # Carla's number was disabled by the provider.
    beto.rest_until = at + timedelta(hours=1)
    beto.save()
    Endpoint.objects.filter(pk=carla.endpoint_id).update(disabled_at=at)
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, at) == []
    beto.rest_until = at - timedelta(minutes=1)
    beto.save()
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, at) == [beto]
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.LEGAL_OBSERVER, at) == []


def test_an_expired_training_does_not_count(chapter, zone, ana):
    Training.objects.filter(responder=ana).update(expires_on=date(2026, 11, 1))
    shift(ana, ShiftKind.OVERRIDE, MONDAY, 1, zone)
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, MONDAY) == []


def test_a_training_counts_all_of_its_last_day_where_the_network_is(chapter, zone, ana):
    # 8 p.m. on 22 November in Chicago is already the 23rd in UTC.
    evening = datetime(2026, 11, 22, 20, 0, tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)
    Training.objects.filter(responder=ana).update(expires_on=date(2026, 11, 22))
    shift(ana, ShiftKind.OVERRIDE, evening - timedelta(hours=1), 8, zone)
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, evening) == [ana]
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, evening + timedelta(hours=4)) == []


@override_settings(MAX_SHIFT_HOURS_PER_WEEK=20)
def test_a_volunteer_over_the_weekly_hours_is_not_paged(chapter, zone, ana, beto):
    shift(ana, ShiftKind.OVERRIDE, MONDAY - timedelta(days=3), 20, zone)
    shift(ana, ShiftKind.OVERRIDE, MONDAY, 2, zone)
    shift(beto, ShiftKind.OVERRIDE, MONDAY, 2, zone)
    at = MONDAY + timedelta(hours=1)
    assert oncall.on_call_hours([ana.pk, beto.pk], at - oncall.WEEK, at) == {ana.pk: 21.0, beto.pk: 1.0}
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, at) == [beto]


def test_the_backup_list_is_paged_whatever_the_schedule(chapter, zone, ana):
    backup = volunteer(chapter, 9, backup=True)
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, MONDAY, backup=True) == [backup]


def test_a_backup_who_texted_off_is_not_paged(chapter, zone):
    backup = volunteer(chapter, 9, backup=True)
    shift(backup, ShiftKind.OFF, MONDAY - timedelta(hours=1), 4, None)
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, MONDAY, backup=True) == []
    later = MONDAY + timedelta(hours=3)
    assert oncall.eligible(chapter.pk, [zone.pk], ResponderRole.VERIFIER, later, backup=True) == [backup]


def test_hours_count_overlapping_zones_once_and_cut_out_off_time(chapter, zone, other_zone, ana):
    other = Zone.objects.create(chapter=chapter, name="Little Village")
    shift(ana, ShiftKind.OVERRIDE, MONDAY, 4, zone)
    shift(ana, ShiftKind.OVERRIDE, MONDAY + timedelta(hours=2), 4, other)
    shift(ana, ShiftKind.OFF, MONDAY + timedelta(hours=5), 1)
    assert oncall.on_call_hours([ana.pk], MONDAY, MONDAY + timedelta(days=1)) == {ana.pk: 5.0}


def test_calendar_blocks_cut_rotation_slots_where_an_override_covers_the_zone(chapter, zone, ana, beto):
    rotation(zone, [ana], hours=12)
    shift(beto, ShiftKind.OVERRIDE, MONDAY + timedelta(hours=4), 2, zone)
    blocks = oncall.schedule_blocks(chapter.pk, MONDAY, MONDAY + timedelta(hours=12))
    assert [(b.responder_id, b.kind, b.hours) for b in blocks] == [
        (ana.pk, "rotation", 4.0),
        (beto.pk, "override", 2.0),
        (ana.pk, "rotation", 6.0),
    ]


def test_a_text_is_matched_to_its_approved_responder_only(chapter, ana):
    assert oncall.responder_for_phone_index(ana.phone_index) == ana
    Responder.objects.filter(pk=ana.pk).update(status=ResponderStatus.SUSPENDED)
    assert oncall.responder_for_phone_index(ana.phone_index) is None
    assert oncall.responder_for_phone_index("") is None
