"""RSVP by text through the real inbound path (webhooks.receive_sms), in English and Spanish."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from vigil.core.models import AuditEvent, Chapter
from vigil.intake.webhooks import InboundSms, receive_sms
from vigil.organizing import sms as rsvp_sms
from vigil.organizing.models import Event, Rsvp, RsvpAnswer
from vigil.organizing.tests.conftest import ANA_PHONE, BETO_PHONE, future, make_event, make_responder
from vigil.responders.models import Responder, ResponderStatus

STRANGER = "+13125550188"


@pytest.fixture(autouse=True)
def _keyword() -> Iterator[None]:
    rsvp_sms.register()
    yield


def text(body: str, sender: str) -> str | None:
    return receive_sms(InboundSms(sid=f"SM{uuid.uuid4().hex}", phone=sender, body=body))


@pytest.fixture
def training(chapter: Chapter) -> Event:
    return make_event(chapter, future(), number=12)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("RSVP 12 YES", RsvpAnswer.YES),
        ("rsvp 12 yes", RsvpAnswer.YES),
        ("Rsvp #12 yesss!", RsvpAnswer.YES),
        ("RSVP 12: ok", RsvpAnswer.YES),
        ("RSVP 12 NO", RsvpAnswer.NO),
        ("rsvp 12 nope", RsvpAnswer.NO),
        ("RSVP 12 MAYBE", RsvpAnswer.MAYBE),
        ("RSVP 12 maybee", RsvpAnswer.MAYBE),
    ],
)
def test_a_volunteer_answers_in_english(ana: Responder, training: Event, body: str, answer: str) -> None:
    reply = text(body, ANA_PHONE)

    found = Rsvp.objects.get(event=training, responder=ana)
    assert (found.answer, found.via) == (answer, "sms")
    assert reply is not None and "#12" in reply
    assert "Casa Aztlan" not in reply and "Ana" not in reply


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("RSVP 12 SI", RsvpAnswer.YES),
        ("rsvp 12 sí", RsvpAnswer.YES),
        ("RSVP 12 siii", RsvpAnswer.YES),
        ("ASISTIRE 12 SI", RsvpAnswer.YES),
        ("asistiré 12 si", RsvpAnswer.YES),
        ("Asistire 12 no", RsvpAnswer.NO),
        ("RSVP 12 TALVEZ", RsvpAnswer.MAYBE),
        ("rsvp 12 tal vez", RsvpAnswer.MAYBE),
        ("RSVP 12 quizás", RsvpAnswer.MAYBE),
    ],
)
def test_a_volunteer_answers_in_spanish(beto: Responder, training: Event, body: str, answer: str) -> None:
    text(body, BETO_PHONE)

    found = Rsvp.objects.get(event=training, responder=beto)
    assert (found.answer, found.via) == (answer, "sms")


def test_the_latest_answer_counts_and_each_is_audited(ana: Responder, training: Event) -> None:
    text("RSVP 12 YES", ANA_PHONE)
    text("RSVP 12 NO", ANA_PHONE)

    assert Rsvp.objects.get().answer == RsvpAnswer.NO
    assert AuditEvent.objects.filter(action="event.rsvp").count() == 2


def test_the_reply_is_short_and_in_the_volunteers_language(beto: Responder, training: Event) -> None:
    from vigil.intake import sms

    reply = text("RSVP 12 YES", BETO_PHONE)

    assert reply is not None
    assert sms.sms_segments(reply) == 1


def test_strangers_and_unknown_events_get_the_same_reply(
    ana: Responder, training: Event, other_chapter: Chapter, chapter: Chapter
) -> None:
    theirs = make_event(other_chapter, future(), number=40)
    make_responder(chapter, "Pending", "+13125550177", status=ResponderStatus.APPLIED)

    stranger = text("RSVP 12 YES", STRANGER)
    pending = text("RSVP 12 YES", "+13125550177")
    unknown = text("RSVP 99 YES", ANA_PHONE)
    elsewhere = text(f"RSVP {theirs.number} YES", ANA_PHONE)

    assert stranger is not None
    assert stranger.replace("12", "N") == pending.replace("12", "N")  # type: ignore[union-attr]
    assert stranger.replace("12", "N") == unknown.replace("99", "N")  # type: ignore[union-attr]
    assert stranger.replace("12", "N") == elsewhere.replace("40", "N")  # type: ignore[union-attr]
    assert not Rsvp.objects.exists()


def test_a_cancelled_or_started_event_takes_no_answers(ana: Responder, chapter: Chapter) -> None:
    cancelled = make_event(chapter, future(), number=20)
    Event.objects.filter(pk=cancelled.pk).update(cancelled_at=timezone.now())
    make_event(chapter, timezone.now() - timedelta(minutes=5), number=21)

    assert "cancelled" in (text("RSVP 20 YES", ANA_PHONE) or "")
    assert "started" in (text("RSVP 21 YES", ANA_PHONE) or "")
    assert not Rsvp.objects.exists()


@pytest.mark.parametrize("body", ["RSVP", "RSVP 12", "RSVP yes", "RSVP 12 party", "RSVP twelve yes"])
def test_a_malformed_rsvp_gets_the_usage(ana: Responder, training: Event, body: str) -> None:
    reply = text(body, ANA_PHONE)

    assert reply is not None and "RSVP 12 YES" in reply
    assert not Rsvp.objects.exists()


def test_the_answer_parser() -> None:
    assert rsvp_sms.parse("12 YES") == (12, RsvpAnswer.YES)
    assert rsvp_sms.parse("#7 Sí") == (7, RsvpAnswer.YES)
    assert rsvp_sms.parse("3 tal vez") == (3, RsvpAnswer.MAYBE)
    assert rsvp_sms.parse("3 noo") == (3, RsvpAnswer.NO)
    assert rsvp_sms.parse("yes 12") is None
    assert rsvp_sms.parse("12") is None
