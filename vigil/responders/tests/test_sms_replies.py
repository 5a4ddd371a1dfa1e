"""Volunteers answering by text through the real Twilio webhook: page replies in English and
Spanish with typos, AVAILABLE / OFF, and texts that are not replies going on to the keywords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import formats, timezone, translation

from vigil.alerts import sms_keywords
from vigil.alerts.models import Subscriber, SubscriberStatus
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.incidents.models import EventKind, FieldReport, Incident, IncidentEvent, Outcome
from vigil.intake import sms
from vigil.responders import paging, texts
from vigil.responders.models import (
    Assignment,
    PageRecipient,
    PageResponse,
    Paging,
    PagingStage,
    Responder,
    Shift,
    ShiftKind,
)
from vigil.responders.sms import parse_reply
from vigil.responders.tests.conftest import make_responder, phone_of, put_on_call, text_from


@pytest.fixture(autouse=True)
def _keywords() -> None:
    # Another module's test may unregister the alerts' keywords.
    sms_keywords.register()


def paged_incident(zone: Zone) -> Incident:
    now = timezone.now()
    incident = Incident.objects.create(
        chapter=zone.chapter, kind="home", zone=zone, first_report_at=now, last_report_at=now, report_count=1
    )
    paging.start_paging(incident)
    return incident


def said(text: str, language: str = "en", **values: object) -> str:
    with translation.override(language):
        return texts.render(text, **values)


ACCEPTS = [
    ("1", None),
    ("1 15", 15),
    ("1,15", 15),
    ("1-15min", 15),
    ("1 15 min", 15),
    ("si 15", 15),
    ("sí", None),
    ("SI", None),
    ("Si, 10 minutos", 10),
    ("yes 10", 10),
    ("Yes", None),
    ("ok 20", 20),
    ("acepto", None),
    ("Acepto 15", 15),
    ("acpeto 5", 5),
    ("accept", None),
    ("accpet 12", 12),
    ("voy", None),
    ("voy 10", 10),
    ("going", None),
    ("on my way 7", 7),
    ("en camino", None),
    ("sí, voy", None),
    ("Si claro, 20 min", 20),
    ("ya voy", None),
    ("I'll go 10", 10),
]
DECLINES = [
    "2",
    "no",
    "No.",
    "decline",
    "no puedo",
    "No Puedo!",
    "rechazo",
    "cant",
    "can't",
    "cannot",
    "ocupada",
    "no voy",
    "No, no puedo",
    "I can't",
    "cant make it",
]
ON_SCENE = [
    "3",
    "on scene",
    "onscene",
    "On Scene",
    "en escena",
    "en el lugar",
    "llegue",
    "llegué",
    "here",
    "aqui",
    "aquí",
    "llegué, hay 3 camionetas",
    "on scene 2 agents at the door",
]


@pytest.mark.parametrize(("body", "eta"), ACCEPTS)
def test_accept_replies_parse(body: str, eta: int | None) -> None:
    assert parse_reply(body) == parse_reply(body) and parse_reply(body) is not None
    reply = parse_reply(body)
    assert reply is not None
    assert (reply.response, reply.eta_minutes, reply.incident_number) == (PageResponse.ACCEPTED, eta, None)


@pytest.mark.parametrize("body", DECLINES)
def test_decline_replies_parse(body: str) -> None:
    reply = parse_reply(body)
    assert reply is not None and reply.response == PageResponse.DECLINED


@pytest.mark.parametrize("body", ON_SCENE)
def test_on_scene_replies_parse(body: str) -> None:
    reply = parse_reply(body)
    assert reply is not None and reply.response == PageResponse.ON_SCENE


@pytest.mark.parametrize(
    ("body", "eta", "number"), [("1 15 #42", 15, 42), ("1 15 42", 15, 42), ("si #7", None, 7), ("1 #42 15", 15, 42)]
)
def test_a_reply_may_name_the_incident(body: str, eta: int | None, number: int) -> None:
    reply = parse_reply(body)
    assert reply is not None
    assert (reply.eta_minutes, reply.incident_number) == (eta, number)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "hello",
        "ICE at 18th and Blue Island",
        "1 van outside the school",
        "3 vans outside the school",
        "si hay agentes",
        "15",
        "JOIN 60608",
        "there in 10",
        "2 99999999999999999999",
    ],
)
def test_other_texts_are_not_replies(body: str) -> None:
    assert parse_reply(body) is None


def test_an_arrival_with_what_they_see_names_no_incident() -> None:
    reply = parse_reply("llegué, hay 3 camionetas")
    assert reply is not None and (reply.response, reply.incident_number) == (PageResponse.ON_SCENE, None)


# --- Through the webhook ---------------------------------------------------------------------


@pytest.mark.parametrize(("body", "eta"), ACCEPTS)
def test_accepting_by_text_makes_the_lead(db, zone: Zone, ana: Responder, body: str, eta: int | None) -> None:
    incident = paged_incident(zone)

    reply = text_from(phone_of(1), body)

    assert reply == said(texts.LEAD, number=incident.pk)
    current = Paging.objects.get(incident=incident)
    assert current.lead == ana
    page = PageRecipient.objects.get(responder=ana)
    assert (page.response, page.eta_minutes) == (PageResponse.ACCEPTED, eta)
    assert Assignment.objects.get(responder=ana).is_lead


@pytest.mark.parametrize("body", DECLINES)
def test_declining_by_text(db, zone: Zone, ana: Responder, beto: Responder, body: str) -> None:
    incident = paged_incident(zone)

    assert text_from(phone_of(1), body) == said(texts.DECLINED, number=incident.pk)

    assert PageRecipient.objects.get(responder=ana).response == PageResponse.DECLINED
    assert IncidentEvent.objects.filter(incident=incident, kind=EventKind.DECLINED).count() == 1


@pytest.mark.parametrize("body", ON_SCENE)
def test_on_scene_by_text(db, zone: Zone, ana: Responder, body: str) -> None:
    incident = paged_incident(zone)
    text_from(phone_of(1), "1 10")

    assert text_from(phone_of(1), body) == said(texts.ON_SCENE, number=incident.pk)

    assert Assignment.objects.get(responder=ana).on_scene_at is not None


def test_an_eta_by_text_is_four_hours_at_most_as_on_the_web(db, zone: Zone, ana: Responder) -> None:
    paged_incident(zone)
    text_from(phone_of(1), "1 999")
    assert PageRecipient.objects.get(responder=ana).eta_minutes == paging.MAX_ETA_MINUTES == 240


def test_ok_thanks_after_declining_does_not_make_the_lead(db, zone: Zone, ana: Responder) -> None:
    incident = paged_incident(zone)
    text_from(phone_of(1), "2")

    for body in ("ok gracias", "1 15"):
        assert text_from(phone_of(1), body) == said(texts.ALREADY_DECLINED, number=incident.pk)

    assert not Assignment.objects.exists()
    assert Paging.objects.get(incident=incident).lead is None
    assert Incident.objects.count() == 1  # and no neighbour report was made of it


def test_an_enormous_number_from_someone_paged_is_not_understood_not_a_crash(db, zone: Zone, ana: Responder) -> None:
    paged_incident(zone)
    assert text_from(phone_of(1), "2 99999999999999999999") == said(texts.NOT_UNDERSTOOD)
    assert PageRecipient.objects.get(responder=ana).response == PageResponse.NONE


def test_one_phone_on_two_chapters_rosters_answers_the_page_it_just_got(
    db, zone: Zone, other_zone: Zone, ana: Responder
) -> None:
    in_cicero = make_responder(other_zone.chapter, 1, home_zones=[other_zone])  # Ana's phone, both rosters
    put_on_call(in_cicero, other_zone)
    incident = paged_incident(other_zone)

    assert text_from(phone_of(1), "1 10") == said(texts.LEAD, number=incident.pk)

    assert Paging.objects.get(incident=incident).lead == in_cicero
    assert not Assignment.objects.filter(responder=ana).exists()


def test_the_second_to_accept_joins(db, zone: Zone, ana: Responder, beto: Responder) -> None:
    incident = paged_incident(zone)
    text_from(phone_of(1), "1 15")
    assert text_from(phone_of(2), "si 5") == said(texts.JOINED, number=incident.pk)
    assert Paging.objects.get(incident=incident).lead == ana


def test_every_decline_escalates_through_the_webhook(db, zone: Zone, ana: Responder, fede: Responder) -> None:
    incident = paged_incident(zone)
    text_from(phone_of(1), "no puedo")
    current = Paging.objects.get(incident=incident)
    assert current.stage == PagingStage.RING
    assert PageRecipient.objects.filter(paging=current, responder=fede).exists()


def test_replies_come_in_the_volunteers_language(db, zone: Zone, elena: Responder) -> None:
    incident = paged_incident(zone)
    assert text_from(phone_of(5), "acepto 10") == said(texts.LEAD, "es", number=incident.pk)


def test_a_reply_naming_another_incident(db, zone: Zone, ana: Responder) -> None:
    first = paged_incident(zone)
    second = paged_incident(zone)
    assert text_from(phone_of(1), f"1 15 #{first.pk}") == said(texts.LEAD, number=first.pk)
    assert Paging.objects.get(incident=first).lead == ana
    assert Paging.objects.get(incident=second).lead is None
    # Without a number: the most recent open page.
    assert text_from(phone_of(1), "1") == said(texts.LEAD, number=second.pk)


def test_si_without_a_page_still_confirms_an_alert_subscription(db, zone: Zone, other_chapter: Chapter) -> None:
    # A volunteer of Cicero subscribing to Pilsen's alerts.
    make_responder(other_chapter, 30)
    text_from(phone_of(30), "ALTA 60608")

    reply = text_from(phone_of(30), "si")

    assert reply == said(sms_keywords.CONFIRMED, "es") % {"network": "Vigil", "zones": "Pilsen"}
    assert Subscriber.objects.get().status == SubscriberStatus.ACTIVE
    assert not Assignment.objects.exists()


def test_a_volunteer_subscribes_to_their_own_chapters_alerts_on_their_paging_number(
    db, zone: Zone, ana: Responder
) -> None:
    text_from(phone_of(1), "JOIN 60608")

    reply = text_from(phone_of(1), "yes")

    assert reply == said(sms_keywords.CONFIRMED, "en") % {"network": "Vigil", "zones": "Pilsen"}
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.endpoint_id == ana.endpoint_id


def test_si_with_an_open_page_accepts_it_and_leaves_the_subscription_pending(
    db, zone: Zone, other_chapter: Chapter
) -> None:
    volunteer = make_responder(other_chapter, 30)
    other_zone = Zone.objects.create(chapter=other_chapter, name="Berwyn", cells=[])
    put_on_call(volunteer, other_zone)
    text_from(phone_of(30), "ALTA 60608")
    incident = paged_incident(other_zone)

    assert text_from(phone_of(30), "si") == said(texts.LEAD, number=incident.pk)

    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_someone_not_on_the_roster_goes_to_the_keywords(db, zone: Zone, ana: Responder) -> None:
    paged_incident(zone)
    stranger = "+13125550199"
    text_from(stranger, "ALTA 60608")
    assert text_from(stranger, "si") == said(sms_keywords.CONFIRMED, "es") % {"network": "Vigil", "zones": "Pilsen"}
    assert Paging.objects.get().lead is None


def test_on_scene_without_a_page_or_assignment_goes_on(db, zone: Zone, ana: Responder) -> None:
    text_from(phone_of(1), "3")
    assert not Assignment.objects.exists()


# --- AVAILABLE / OFF -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "hours"), [("AVAILABLE", 4), ("available 6", 6), ("Disponible 2 horas", 2), ("DISPONIBLE 99", 24)]
)
def test_available_for_some_hours(db, zone: Zone, volunteers, body: str, hours: int) -> None:
    volunteers(20, home_zones=[zone])

    reply = text_from(phone_of(20), body)

    assert reply == said(texts.AVAILABLE, hours=hours)
    shift = Shift.objects.get(kind=ShiftKind.AVAILABLE)
    assert shift.zone is None
    assert shift.ends_at - shift.starts_at == timedelta(hours=hours)
    assert AuditEvent.objects.filter(action="responder.available").exists()


def test_available_puts_them_on_call_in_their_home_zones(db, zone: Zone, volunteers) -> None:
    idle = volunteers(20, home_zones=[zone])
    text_from(phone_of(20), "AVAILABLE 2")
    incident = paged_incident(zone)
    assert PageRecipient.objects.filter(paging__incident=incident, responder=idle).exists()


@pytest.mark.parametrize("body", ["OFF", "off", "No disponible", "FUERA"])
def test_off_takes_them_off_call(db, zone: Zone, ana: Responder, body: str) -> None:
    reply = text_from(phone_of(1), body)

    shift = Shift.objects.get(kind=ShiftKind.OFF)
    assert reply is not None and reply.startswith(said(texts.OFF, until="")[:20])
    # Until the end of their rotation slot (12 hours from an hour ago).
    assert timedelta(hours=10) < shift.ends_at - shift.starts_at <= timedelta(hours=11)
    ends = timezone.localtime(shift.ends_at)
    if ends.date() != timezone.localdate():  # past midnight: the day is named too
        assert sms.ascii_only(formats.date_format(ends, "D H:i")) in reply
    else:
        assert ends.strftime("%H:%M") in reply
    incident = paged_incident(zone)
    assert not PageRecipient.objects.filter(paging__incident=incident).exists()


def test_off_ends_an_available_shift(db, zone: Zone, volunteers) -> None:
    volunteers(20, home_zones=[zone])
    text_from(phone_of(20), "AVAILABLE")
    text_from(phone_of(20), "OFF")
    available = Shift.objects.get(kind=ShiftKind.AVAILABLE)
    assert available.ends_at <= timezone.now()
    off = Shift.objects.get(kind=ShiftKind.OFF)
    assert off.ends_at - off.starts_at == timedelta(hours=12)


def test_available_from_someone_not_on_the_roster_is_not_ours(db, zone: Zone) -> None:
    text_from("+13125550199", "AVAILABLE")
    assert not Shift.objects.exists()


# --- Texts --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_reply_fits_one_segment(language: str) -> None:
    with translation.override(language):
        longest = max((texts.kind_phrase(kind) for kind in texts.KIND_PHRASES), key=len)
    values = {"number": 123456, "hours": 24, "until": "mie 23:59", "what": longest, "zone": "Z" * 40}
    for name in dir(texts):
        value = getattr(texts, name)
        if name.isupper() and isinstance(value, str):
            body = said(value, language, **values)
            assert sms.sms_segments(body) == 1, (name, body)


# --- Field report by text --------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["INFORME", "FR", "field", "Informe:"])
def test_a_field_report_by_text(db, zone: Zone, ana: Responder, keyword: str) -> None:
    incident = paged_incident(zone)
    text_from(phone_of(1), "1 10")
    text_from(phone_of(1), "3")

    reply = text_from(phone_of(1), f"{keyword} 1 S: 6 agents, 2 vans; A: knocking on doors")

    assert reply == said(texts.FIELD_REPORT, number=incident.pk)
    report = FieldReport.objects.get(incident=incident)
    assert report.outcome == Outcome.CONFIRMED
    assert report.on_scene
    assert report.verifier == ana.user


def test_a_field_report_may_name_its_incident(db, zone: Zone, ana: Responder) -> None:
    first = paged_incident(zone)
    text_from(phone_of(1), "1 10")
    second = paged_incident(zone)
    text_from(phone_of(1), f"1 5 #{second.pk}")

    reply = text_from(phone_of(1), f"INFORME #{first.pk} 1 two vans")

    assert reply == said(texts.FIELD_REPORT, number=first.pk)
    report = FieldReport.objects.get()
    assert (report.incident_id, report.outcome) == (first.pk, Outcome.CONFIRMED)
    assert text_from(phone_of(1), "INFORME #999999 2") == said(texts.CLOSED, number=999999)


@pytest.mark.parametrize("body", ["DONE", "listo", "Terminé.", "LISTO #{n}"])
def test_done_by_text_ends_the_assignment(db, zone: Zone, ana: Responder, body: str) -> None:
    incident = paged_incident(zone)
    text_from(phone_of(1), "1 10")

    assert text_from(phone_of(1), body.format(n=incident.pk)) == said(texts.ENDED, number=incident.pk)

    assert Assignment.objects.get(responder=ana).ended_at is not None
    assert EventKind.ENDED in IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True)


def test_done_from_someone_with_nothing_to_end_is_a_neighbours_text(db, zone: Zone, ana: Responder) -> None:
    assert text_from(phone_of(1), "listo") != said(texts.ENDED, number=1)
    assert not Assignment.objects.exists()


def test_a_field_report_without_an_assignment(db, zone: Zone, ana: Responder) -> None:
    assert text_from(phone_of(1), "INFORME 1 all quiet") == said(texts.NO_ASSIGNMENT)
    assert not FieldReport.objects.exists()


def test_a_field_report_without_an_outcome_gets_the_usage(db, zone: Zone, ana: Responder) -> None:
    paged_incident(zone)
    text_from(phone_of(1), "1")
    assert text_from(phone_of(1), "INFORME") == said(texts.FIELD_USAGE)


def test_a_number_we_cannot_read_from_someone_paged(db, zone: Zone, ana: Responder) -> None:
    paged_incident(zone)
    assert text_from(phone_of(1), "5") == said(texts.NOT_UNDERSTOOD)
    assert text_from(phone_of(1), "help") == said(texts.HELP)
    assert not Assignment.objects.exists()


def test_spanish_page_texts_fit_with_the_suggested_translation() -> None:
    """The Spanish the lead is asked to add (see the report), with the longest values."""
    suggested = (
        "Vigil #{number}: {what}, zona {zone}. Responda 1 + minutos para aceptar (1 15), 2 rechazar, 3 al llegar."
    )
    body = suggested.format(number=123456, what="posible redada en trabajo", zone="Z" * 40)
    assert sms.sms_segments(body) == 1, len(body)
