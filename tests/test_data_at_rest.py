"""A1: canaries seeded through every intake channel are nowhere in the database files,
the WAL, the uploads or the logs, in plain, UTF-16 or base64 form."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from PIL import Image

from conftest import login
from tests.rawscan import hits
from tests.twilio import inbound_sms, text_via_webhook, twilio_signature
from vigil.channels.models import Delivery
from vigil.channels.sender import Sender
from vigil.core.tests.test_retention import byte_forms
from vigil.intake.models import Report
from vigil.intake.tests.helpers import send_report

CANARY_TEXT = "CANARY-Xochitl-Quetzal-8841"
CANARY_ADDRESS = "CANARY 4417 S Ashland Ave"
CANARY_PHONES = ["+13125550198", "(312) 555-0198", "3125550198"]
CANARY_SMS_PHONE = "+17735550143"
CANARY_CALL_PHONE = "+13125550166"


def jpeg_with_comment() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "JPEG", comment=CANARY_TEXT.encode())
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_nothing_sensitive_is_readable_in_the_files_after_the_whole_flow(
    settings, tmp_path, caplog, dispatcher, zone
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("a byte scan reads the SQLite files; PostgreSQL stores the same ciphertext")
    settings.MEDIA_ROOT = tmp_path / "media"
    caplog.set_level(logging.DEBUG)
    neighbour = Client()

    photo = io.BytesIO(jpeg_with_comment())
    photo.name = "photo.jpg"
    response = send_report(
        neighbour, details=CANARY_TEXT, address=CANARY_ADDRESS, contact_phone=CANARY_PHONES[1], photo=photo
    )
    assert response.status_code == 200

    url = "http://testserver/webhooks/twilio/sms"
    fields = inbound_sms("SM" + "a" * 32, CANARY_SMS_PHONE, f"REPORT {CANARY_TEXT} at 18th and Blue Island 60608")
    response = Client().post(
        url, fields, headers={"X-Twilio-Signature": twilio_signature(settings.TWILIO_AUTH_TOKEN, url, fields)}
    )
    assert response.status_code == 200

    staff = login(Client(), dispatcher)
    response = staff.post(
        "/staff/calls/new",
        {
            "kind": "home",
            "zip_code": "60608",
            "address": CANARY_ADDRESS,
            "details": CANARY_TEXT,
            "contact_phone": CANARY_CALL_PHONE,
            "agency": "unknown",
            "language": "es",
            "chapter": str(zone.chapter_id),
            "when": "0",
        },
    )
    assert response.status_code in (200, 302)
    assert Report.objects.count() == 3
    # Staff read everything back (decryption happens in memory only).
    incident_id = Report.objects.first().link.incident_id  # type: ignore[union-attr]
    assert CANARY_TEXT in staff.get(f"/staff/incidents/{incident_id}/").content.decode()

    database = Path(connection.settings_dict["NAME"])
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    files += [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    files = [f for f in files if f.exists()]
    log_file = tmp_path / "captured.log"
    log_file.write_text(caplog.text, encoding="utf-8")
    needles = [
        form
        for text in [
            CANARY_TEXT,
            CANARY_ADDRESS,
            *CANARY_PHONES,
            CANARY_SMS_PHONE,
            CANARY_CALL_PHONE,
            CANARY_SMS_PHONE[2:],
            CANARY_CALL_PHONE[2:],
        ]
        for form in byte_forms(text)
    ]
    assert len(files) >= 2
    # The scan sees what is stored in the clear (a staff username), so a miss means something.
    assert hits([dispatcher.username.encode()], files) != []
    assert hits(needles, [*files, log_file]) == []


# --- Cases and family plans (issue 5) ----------------------------------------------------

CASE_NAME = "CANARY-Itzel-Cuauhtemoc-5307"
CASE_A_NUMBERS = ["A123456789", "123-456-789", "123456789"]
CASE_NOTE = "CANARY-note-called-facility-6612"
FAMILY_PHONES = ["+17735550187", "(773) 555-0187", "7735550187"]
PLAN_MESSAGE = "CANARY-mensaje-recoge-a-los-ninos-9043"
PLAN_DOCUMENTS = "CANARY-folder-under-the-stairs-2718"
PLAN_CONTACT_PHONE = "+17735550172"


@pytest.mark.django_db(transaction=True)
def test_nothing_of_a_case_or_a_family_plan_is_readable_in_the_files(settings, tmp_path, caplog, legal_coordinator):
    if connection.vendor != "sqlite":
        pytest.skip("a byte scan reads the SQLite files; PostgreSQL stores the same ciphertext")
    from django.db import transaction
    from django.utils import timezone

    from vigil.cases.actions import PersonInput, store_case, store_family_contact
    from vigil.cases.models import Case, CaseNote
    from vigil.families import plans
    from vigil.families.models import Plan

    settings.MEDIA_ROOT = tmp_path / "media"
    caplog.set_level(logging.DEBUG)
    now = timezone.now()
    chapter = legal_coordinator.chapters.get()
    with transaction.atomic(durable=True):
        case = store_case(
            chapter_id=chapter.pk,
            opened_from="hotline",
            person=PersonInput(name=CASE_NAME, a_number="A-123-456-789", phone=FAMILY_PHONES[1], summary=CASE_NOTE),
            now=now,
            actor=legal_coordinator,
        )
        store_family_contact(case, name=CASE_NAME, phone=FAMILY_PHONES[1], actor=legal_coordinator)
        note = CaseNote(case=case, author=legal_coordinator, at=now)
        note.body = CASE_NOTE
        note.save(force_insert=True)
    plan, code, _pin = plans.create_plan(
        plans.PlanInput(
            contacts=[plans.ContactInput(name=CASE_NAME, phone=PLAN_CONTACT_PHONE, message=PLAN_MESSAGE)],
            name=CASE_NAME,
            phone=FAMILY_PHONES[0],
            documents=PLAN_DOCUMENTS,
        ),
        now=now,
        pin="2468",
    )
    # The family's panic: their message is sealed in the outbox and delivered (sandbox inbox),
    # and a second case is opened from the plan.
    settings.SANDBOX = True
    assert text_via_webhook(PLAN_CONTACT_PHONE, f"DETENIDO {code}")
    asyncio.run(Sender().run(idle_wait=0.1, until_idle=True))
    assert Case.objects.filter(opened_from="panic").count() == 1
    assert Delivery.objects.filter(message__purpose="panic").exclude(sent_at=None).count() == 1
    # Everything reads back with the network's keys (decryption happens in memory only).
    stored = Case.objects.select_related("data_key").get(pk=case.pk)
    assert (stored.name, stored.a_number) == (CASE_NAME, "123456789")
    assert stored.notes.get().body == CASE_NOTE
    assert stored.family.get().phone == FAMILY_PHONES[0]
    stored_plan = Plan.objects.select_related("data_key").get(pk=plan.pk)
    assert stored_plan.documents == PLAN_DOCUMENTS
    assert stored_plan.contacts.get().message == PLAN_MESSAGE
    assert code.isdigit()

    database = Path(connection.settings_dict["NAME"])
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    files += [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    files = [f for f in files if f.exists()]
    log_file = tmp_path / "captured.log"
    log_file.write_text(caplog.text, encoding="utf-8")
    needles = [
        form
        for text in [
            CASE_NAME,
            *CASE_A_NUMBERS,
            CASE_NOTE,
            *FAMILY_PHONES,
            FAMILY_PHONES[0][2:],
            PLAN_MESSAGE,
            PLAN_DOCUMENTS,
            PLAN_CONTACT_PHONE,
            PLAN_CONTACT_PHONE[2:],
        ]
        for form in byte_forms(text)
    ]
    assert len(files) >= 2
    # The scan sees what is stored in the clear (a staff username), so a miss means something.
    assert hits([legal_coordinator.username.encode()], files) != []
    assert hits(needles, [*files, log_file]) == []
