"""The guided plan by text message (PLAN / MIPLAN), through the real signed webhook."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override

from tests.twilio import text_via_webhook
from vigil.core.phones import phone_index
from vigil.families import panic, plans
from vigil.families import sms as plan_sms
from vigil.families.models import PanicEvent, Plan, PlanConversation
from vigil.families.tests.conftest import MARTA, ROSA
from vigil.intake import sms


@pytest.fixture(autouse=True)
def _a_person_texting_at_test_speed(settings: Any) -> None:
    # A test answers eleven questions within a second; a person takes minutes. The per-number
    # inbound rate (6 a minute) is intake's and is tested there.
    settings.SMS_RATE_PER_MINUTE = 100
    settings.SMS_REPLIES_PER_HOUR = 100


def said(message: str, language: str, **values: str) -> str:
    with override(language):
        text = gettext(message)
    return text % values if values else text


def rosa(body: str) -> str | None:
    return text_via_webhook(ROSA, body)


def test_rosa_makes_her_plan_in_spanish_by_text(chapter, zone):
    assert rosa("MIPLAN") == said(plan_sms.ASK_ZIP, "es")
    assert rosa("60608") == said(plan_sms.ASK_CONTACT, "es")
    assert rosa("Marta 312 555 0188") == said(plan_sms.ASK_LANGUAGE, "es")
    assert rosa("2") == said(plan_sms.ASK_MESSAGE, "es")
    assert rosa("Me detuvieron. Recoge a Sofi.") == said(plan_sms.ASK_MORE, "es")
    assert rosa("no") == said(plan_sms.ASK_CHILDREN, "es")
    assert rosa("Marta recoge a Sofi, escuela Jungman") == said(plan_sms.ASK_DOCUMENTS, "es")
    assert rosa("saltar") == said(plan_sms.ASK_ATTORNEY, "es")
    assert rosa("NO") == said(plan_sms.ASK_MEDICAL, "es")
    assert rosa("Insulina") == said(plan_sms.ASK_PIN, "es")
    done = rosa("2580")

    plan = Plan.objects.select_related("data_key").get()
    found = re.search(r"\b\d{6}\b", done or "")
    code = found.group() if found else ""
    assert done == said(plan_sms.DONE, "es", code=code)
    assert plans.open_plan(code, "2580") == plan
    assert plan.chapter == chapter and plan.language == "es"
    assert plan.phone == ROSA and plan.phone_index == phone_index(ROSA)
    assert plan.children_pickup == "Marta recoge a Sofi, escuela Jungman"
    assert not plan.documents and not plan.attorney and plan.medical == "Insulina"
    contact = plan.contacts.get()
    assert (contact.name, contact.phone, contact.language) == ("Marta", MARTA, "es")
    assert contact.message == "Me detuvieron. Recoge a Sofi." and contact.trusted
    assert not PlanConversation.objects.exists()
    assert plan.consent_at is None


def test_an_english_plan_with_three_contacts_and_hints_for_bad_answers(chapter, zone):
    replies = [
        rosa("plan"),
        rosa("my zip is unknown"),
        rosa("60608"),
        rosa("just a name"),
        rosa("Marta Flores, +1 (312) 555-0188"),
        rosa("French"),
        rosa("1"),
        rosa("skip"),
        rosa("maybe"),
        rosa("yes"),
        rosa("Juan 3125550199"),
        rosa("ES"),
        rosa("x" * 301),
        rosa("Juan, call my boss"),
        rosa("YES"),
        rosa("Luz 773 555 0110"),
        rosa("1"),
        rosa("Luz, pick up the kids"),
    ]
    expected = [
        plan_sms.ASK_ZIP,
        plan_sms.BAD_ZIP,
        plan_sms.ASK_CONTACT,
        plan_sms.BAD_CONTACT,
        plan_sms.ASK_LANGUAGE,
        plan_sms.ASK_LANGUAGE,
        plan_sms.ASK_MESSAGE,
        plan_sms.ASK_MORE,
        plan_sms.BAD_YES_NO,
        plan_sms.ASK_CONTACT,
        plan_sms.ASK_LANGUAGE,
        plan_sms.ASK_MESSAGE,
        plan_sms.BAD_MESSAGE,
        plan_sms.ASK_MORE,
        plan_sms.ASK_CONTACT,
        plan_sms.ASK_LANGUAGE,
        plan_sms.ASK_MESSAGE,
        plan_sms.ASK_CHILDREN,  # three contacts: no fourth
    ]
    assert replies == [said(m, "en") for m in expected]
    for answer in ("skip", "skip", "skip", "none"):
        rosa(answer)
    assert rosa("12") == said(plan_sms.BAD_PIN, "en")
    done = rosa("123456")
    assert done is not None and done.startswith("Your plan code is ")

    plan = Plan.objects.select_related("data_key").get()
    contacts = list(plan.contacts.all())
    assert [c.language for c in contacts] == ["en", "es", "en"]
    assert contacts[0].message == plans.default_message("en")
    assert plan.language == "en"


def test_every_question_fits_one_gsm7_segment():
    values = {"code": "482193"}
    for message in plan_sms.REPLIES + panic.REPLIES:
        with override("en"):
            text = gettext(message)
        text = text % values if "%(" in text else text
        assert sms.is_gsm7(text), message
        assert sms.sms_segments(text) == 1, message


def test_cancelar_stops_and_forgets_the_answers(chapter, zone):
    rosa("MIPLAN")
    rosa("60608")
    rosa("Marta 312 555 0188")

    assert rosa("CANCELAR") == said(plan_sms.CANCELLED, "es")

    assert not PlanConversation.objects.exists() and not Plan.objects.exists()


def test_stop_also_forgets_the_conversation(chapter, zone):
    rosa("PLAN")
    rosa("STOP")

    assert not PlanConversation.objects.exists()


def test_a_conversation_expires_after_30_minutes_of_silence(chapter, zone):
    rosa("PLAN")
    PlanConversation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    rosa("60608")

    assert not PlanConversation.objects.exists()
    assert not Plan.objects.exists()


def test_a_panic_in_the_middle_of_a_plan_conversation_is_still_a_panic(chapter, zone):
    from vigil.families.tests.conftest import make_rosa_plan

    plan, code = make_rosa_plan()
    text_via_webhook(MARTA, "PLAN")

    text_via_webhook(MARTA, f"DETAINED {code}")

    assert PanicEvent.objects.filter(plan=plan).count() == 1
    assert PlanConversation.objects.count() == 1


def test_answers_are_sealed_at_rest(chapter, zone):
    rosa("PLAN")
    rosa("60608")
    rosa("Marta 312 555 0188")

    raw = PlanConversation.objects.values_list("answers", flat=True).get()
    assert b"Marta" not in bytes(raw) and b"3125550188" not in bytes(raw)


def test_join_and_report_keywords_still_work_outside_a_plan(zone):
    from vigil.intake.models import Report

    text_via_webhook("+13125550111", "REPORT agents at 18th and Blue Island 60608")
    assert Report.objects.count() == 1
    assert text_via_webhook("+13125550112", "JOIN 60608") is not None
