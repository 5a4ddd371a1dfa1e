"""The panic keyword through the real signed webhook: DETAINED / DETENIDO <code>."""

from __future__ import annotations

import logging

import pytest
from django.utils.translation import gettext, override

from tests.twilio import text_via_webhook
from vigil.cases.models import Case, Child, FamilyContact, OpenedFrom
from vigil.channels.models import Delivery, Message, Purpose
from vigil.core.models import AuditEvent
from vigil.core.phones import phone_index
from vigil.families import panic
from vigil.families.models import PanicEvent, PanicVia, Plan
from vigil.families.tests.conftest import JUAN, JUAN_MESSAGE, MARTA, MARTA_MESSAGE, ROSA, STRANGER


def received(language: str) -> str:
    with override(language):
        return gettext(panic.RECEIVED)


def panic_texts() -> dict[str, str]:
    """Recipient blind index -> the text they will get (decrypted from the ledger)."""
    texts = {}
    for delivery in Delivery.objects.select_related("message", "endpoint").filter(message__purpose=Purpose.PANIC):
        texts[delivery.endpoint.address_index] = str(delivery.message.sealed_body)
    return texts


def test_rosa_texts_detenido_from_her_phone_and_each_contact_gets_their_own_message(rosa_plan):
    plan, code = rosa_plan

    reply = text_via_webhook(ROSA, f"DETENIDO {code}")

    assert reply == received("es")
    texts = panic_texts()
    assert set(texts) == {phone_index(MARTA), phone_index(JUAN)}
    assert texts[phone_index(MARTA)].startswith("Vigil: ")
    assert texts[phone_index(MARTA)].endswith(MARTA_MESSAGE)
    assert texts[phone_index(JUAN)] == f"Vigil: Emergency message from your family plan:\n{JUAN_MESSAGE}"
    messages = Message.objects.filter(purpose=Purpose.PANIC)
    assert messages.count() == 2
    assert all(m.body == "" for m in messages)
    assert {m.language for m in messages} == {"es", "en"}
    assert all(d.next_attempt_at < d.message.created_at for d in Delivery.objects.select_related("message"))  # urgent
    event = PanicEvent.objects.get(plan=plan)
    assert event.via == PanicVia.MEMBER and event.messages == 2
    case = Case.objects.select_related("data_key").get(pk=str(event.case_id))
    assert case.opened_from == OpenedFrom.PANIC and case.chapter_id == plan.chapter_id
    assert case.name == "Rosa Flores" and case.phone == ROSA
    assert case.attorney == "Lic. Ana Ruiz 312 555 0123"
    assert "Insulina diaria" in case.summary
    family = {str(f.name): f for f in FamilyContact.objects.select_related("case__data_key").filter(case=case)}
    assert set(family) == {"Marta Flores", "Juan Pérez"}
    assert family["Marta Flores"].language == "es" and family["Marta Flores"].reminders
    assert family["Juan Pérez"].language == "en"
    child = Child.objects.select_related("case__data_key").get(case=case)
    assert child.caregiver == "Marta recoge a Sofi" and child.school == "Escuela Jungman"
    plan.refresh_from_db()
    assert plan.last_panic_at is not None and plan.legal_may_read


def test_marta_the_trusted_contact_can_send_it_for_her(rosa_plan):
    plan, code = rosa_plan

    assert text_via_webhook(MARTA, f"DETAINED {code}") == received("en")

    assert PanicEvent.objects.get(plan=plan).via == PanicVia.CONTACT
    assert len(panic_texts()) == 2


def test_a_borrowed_phone_or_an_untrusted_contact_still_fires_it_recorded_as_other(rosa_plan):
    plan, code = rosa_plan

    text_via_webhook(JUAN, f"DETAINED {code}")

    assert PanicEvent.objects.get(plan=plan).via == PanicVia.OTHER_PHONE
    assert Case.objects.count() == 1


def test_a_second_panic_within_12_hours_neither_resends_nor_opens_a_second_case(rosa_plan):
    _plan, code = rosa_plan
    text_via_webhook(ROSA, f"DETENIDO {code}")

    again = text_via_webhook(MARTA, f"DETENIDO {code}")

    assert again == received("es")
    assert Case.objects.count() == 1 and PanicEvent.objects.count() == 1
    assert Delivery.objects.count() == 2


def test_a_wrong_code_gets_the_same_reply_and_sends_nothing(rosa_plan):
    _plan, code = rosa_plan
    wrong = "000000" if code != "000000" else "111111"

    assert text_via_webhook(STRANGER, f"DETAINED {wrong}") == received("en")

    assert Delivery.objects.count() == 0 and Case.objects.count() == 0


def test_after_five_wrong_codes_in_an_hour_even_the_right_code_is_refused(rosa_plan, settings):
    plan, code = rosa_plan
    wrong = [f"{n:06d}" for n in range(1, 10) if f"{n:06d}" != code][: settings.PLAN_ATTEMPTS_PER_HOUR]
    for attempt in wrong:
        assert text_via_webhook(STRANGER, f"DETAINED {attempt}") == received("en")

    assert text_via_webhook(STRANGER, f"DETAINED {code}") == received("en")

    assert Delivery.objects.count() == 0 and not PanicEvent.objects.exists()
    # Another phone (Marta's) is not held back by the stranger's guesses.
    text_via_webhook(MARTA, f"DETAINED {code}")
    assert PanicEvent.objects.filter(plan=plan).count() == 1


def test_guessing_from_many_phones_is_flagged_once_and_blocks_no_real_panic(rosa_plan, settings, caplog):
    from vigil.families.plans import GUESSING

    settings.PLAN_GUESS_ALERT = 3
    plan, code = rosa_plan
    wrong = [f"{n:06d}" for n in range(1, 10) if f"{n:06d}" != code]
    for n, attempt in enumerate(wrong[:6]):
        assert text_via_webhook(f"+1872555{n:04d}", f"DETAINED {attempt}") == received("en")

    assert AuditEvent.objects.filter(action=GUESSING).count() == 1
    assert "being guessed" in caplog.text and code not in caplog.text
    text_via_webhook(MARTA, f"DETAINED {code}")  # the family's real panic still goes out
    assert PanicEvent.objects.filter(plan=plan).count() == 1


def test_four_wrong_codes_do_not_lock_out_the_right_one(rosa_plan, settings):
    settings.PLAN_ATTEMPTS_PER_HOUR = 5
    _plan, code = rosa_plan
    for attempt in [f"{n:06d}" for n in range(1, 10) if f"{n:06d}" != code][:4]:
        text_via_webhook(ROSA, f"DETENIDO {attempt}")

    text_via_webhook(ROSA, f"DETENIDO {code}")

    assert PanicEvent.objects.count() == 1


def test_detenido_followed_by_words_is_a_report_not_a_panic(rosa_plan):
    from vigil.intake.models import Report

    text_via_webhook(STRANGER, "detenido un vecino en la calle 18 y Blue Island 60608")

    assert Report.objects.count() == 1
    assert not PanicEvent.objects.exists()


def test_detained_alone_explains_how_to_use_it(db):
    with override("en"):
        usage = gettext(panic.USAGE)
    assert text_via_webhook(STRANGER, "DETAINED") == usage


def test_plan_contents_never_reach_logs_or_message_bodies(rosa_plan, caplog):
    plan, code = rosa_plan
    caplog.set_level(logging.DEBUG)

    text_via_webhook(ROSA, f"DETENIDO {code}")
    text_via_webhook(STRANGER, "DETAINED 999999")

    logged = caplog.text
    for secret in (code, ROSA, MARTA, JUAN, "Rosa Flores", "Marta", "Sofi", "Insulina", MARTA_MESSAGE[:20]):
        assert secret not in logged
    for body in Message.objects.values_list("body", flat=True):
        assert "Marta" not in body and "Sofi" not in body and code not in body
    assert not AuditEvent.objects.filter(actor_label__contains=code).exists()


def test_deleting_the_plan_after_a_panic_leaves_the_legal_case(rosa_plan):
    from django.utils import timezone

    from vigil.families import plans

    plan, code = rosa_plan
    text_via_webhook(ROSA, f"DETENIDO {code}")

    assert plans.delete_plan(plan.pk, now=timezone.now())

    assert not Plan.objects.filter(pk=plan.pk).exists()
    assert Case.objects.count() == 1


def test_the_contacts_phones_go_when_both_the_plan_and_the_case_are_gone(rosa_plan, legal_coordinator):
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from vigil.cases import closing, retention
    from vigil.channels.models import DeliveryStatus, Endpoint
    from vigil.families import plans

    plan, code = rosa_plan
    text_via_webhook(ROSA, f"DETENIDO {code}")
    contacts = {phone_index(MARTA), phone_index(JUAN)}
    endpoints = Endpoint.objects.filter(address_index__in=contacts)
    assert endpoints.count() == 2

    # While the messages are on their way, and then while the case is open, the phones stay.
    assert plans.delete_plan(plan.pk, now=timezone.now())
    assert endpoints.count() == 2
    Delivery.objects.update(status=DeliveryStatus.DELIVERED)
    case = Case.objects.get()
    now = timezone.now()
    closing.close_case(case.pk, outcome="released", acting_user=legal_coordinator, now=now)
    assert endpoints.count() == 2

    # Shredding the case takes the last users of the two phones: nothing of them is left.
    assert retention.shred_due_cases(now + timedelta(days=settings.CASE_RETENTION_DAYS + 1)) == 1
    assert not endpoints.exists() and not Delivery.objects.exists()


@pytest.mark.parametrize("sender", [ROSA])
def test_the_panic_is_audited_without_personal_data(rosa_plan, sender):
    plan, code = rosa_plan
    text_via_webhook(sender, f"DETENIDO {code}")
    row = AuditEvent.objects.get(action="plan.panic")
    assert row.object_id == str(plan.pk) and row.actor_label == "sms:panic"
