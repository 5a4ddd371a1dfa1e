"""A1: canaries seeded through every intake channel are nowhere in the database files,
the WAL, the uploads or the logs, in plain, UTF-16 or base64 form."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from PIL import Image

from conftest import login
from tests.rawscan import hits
from tests.twilio import inbound_sms, twilio_signature
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
