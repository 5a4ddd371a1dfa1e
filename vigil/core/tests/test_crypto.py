"""Data at rest: blind indexes (A5), tamper detection (A6), no key loaded (A3)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

import pytest
from django.db import connection, transaction

from vigil.core import crypto
from vigil.core.fields import Ciphertext, LockedValue
from vigil.core.models import Chapter
from vigil.core.phones import normalize_phone, phone_index
from vigil.core.tests.crypto_helpers import data_keys, new_report, raw
from vigil.intake.models import Report

CANARY = "CANARY-7f3a 1418 W 18th St, apt 2"
PHONES = [f"+1312{n:07d}" for n in range(10_000)]


@pytest.fixture
def stored_indexes(chapter: Chapter) -> set[str]:
    """10,000 reports with a callback number, as the database holds them: only the keyed index."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    Report.objects.bulk_create(
        Report(
            chapter=chapter,
            received_at=now,
            channel="sms",
            purge_after=now + timedelta(days=1),
            contact_index=phone_index(phone),
        )
        for phone in PHONES
    )
    return set(Report.objects.values_list("contact_index", flat=True))


def test_a_blind_index_cannot_be_recomputed_without_the_key(stored_indexes: set[str]) -> None:
    wrong_key = secrets.token_bytes(32)
    guesses = {
        "wrong key": [hmac.new(wrong_key, f"phone\x1f{p}".encode(), hashlib.sha256).hexdigest() for p in PHONES],
        "plain sha256": [hashlib.sha256(p.encode()).hexdigest() for p in PHONES],
        "plain sha256 with purpose": [hashlib.sha256(f"phone\x1f{p}".encode()).hexdigest() for p in PHONES],
        "digits only": [hashlib.sha256(p[1:].encode()).hexdigest() for p in PHONES],
    }
    for name, attempt in guesses.items():
        assert sum(guess in stored_indexes for guess in attempt) == 0, name


def test_with_the_right_key_every_phone_is_found(stored_indexes: set[str]) -> None:
    assert len(stored_indexes) == 10_000
    assert sum(phone_index(p) in stored_indexes for p in PHONES) == 10_000
    # However the number is written, it normalises to the same index.
    for written in ["(312) 000-0042", "312-000-0042", "3120000042", "+1 312 000 0042"]:
        assert Report.objects.filter(contact_index=phone_index(normalize_phone(written))).count() == 1


def flip(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0xFF
    return bytes(changed)


def test_a_flipped_byte_in_any_of_100_ciphertexts_is_detected(caplog: pytest.LogCaptureFixture) -> None:
    context = {"table": "intake_report", "column": "details", "row": "row-1"}
    header = 3 + len(crypto.keyring().primary or "")
    raised = 0
    with caplog.at_level(logging.WARNING, logger="vigil.security"):
        for i in range(100):
            plaintext = f"{CANARY} #{i}".encode()
            sealed = crypto.encrypt(plaintext, **context)
            # Every byte after the header: nonce, ciphertext and tag, front to back.
            position = header + (i * (len(sealed) - header)) // 100
            try:
                crypto.decrypt(flip(sealed, position), **context)
            except crypto.TamperedCiphertext:
                raised += 1
    assert raised == 100
    warnings = [r for r in caplog.records if r.name == "vigil.security"]
    assert len(warnings) == 100
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert CANARY not in caplog.text and "row-1" not in caplog.text


def test_a_flipped_header_byte_never_yields_a_value() -> None:
    context = {"table": "intake_report", "column": "details", "row": "row-1"}
    sealed = crypto.encrypt(CANARY.encode(), **context)
    header = 3 + len(crypto.keyring().primary or "")
    for position in range(header):
        with pytest.raises((crypto.TamperedCiphertext, crypto.DataLocked)):
            crypto.decrypt(flip(sealed, position), **context)


def test_a_tampered_field_shows_as_tampered_not_as_garbage(chapter: Chapter, caplog: pytest.LogCaptureFixture) -> None:
    report = new_report(chapter, details=CANARY)
    sealed = raw(report, "details")
    Report.objects.filter(pk=report.pk).update(details=Ciphertext(flip(sealed, len(sealed) - 5)))

    with caplog.at_level(logging.WARNING, logger="vigil.security"):
        shown = Report.objects.get(pk=report.pk).details
    assert isinstance(shown, LockedValue) and shown.tampered
    assert str(shown) == "⚠"
    assert "tampered ciphertext in intake_report.details" in caplog.text
    assert CANARY not in caplog.text and str(report.pk) not in caplog.text


def test_ciphertext_moved_to_another_row_or_column_does_not_decrypt(chapter: Chapter) -> None:
    first = new_report(chapter, details=CANARY, address="somewhere else")
    second = new_report(chapter, details="another report")
    Report.objects.filter(pk=second.pk).update(details=Ciphertext(raw(first, "details")))
    Report.objects.filter(pk=first.pk).update(address=Ciphertext(raw(first, "details")))

    moved_row = Report.objects.get(pk=second.pk).details
    moved_column = Report.objects.get(pk=first.pk).address
    assert isinstance(moved_row, LockedValue) and moved_row.tampered
    assert isinstance(moved_column, LockedValue) and moved_column.tampered
    assert Report.objects.get(pk=first.pk).details == CANARY


def test_the_database_holds_no_plaintext_of_an_encrypted_field(chapter: Chapter) -> None:
    report = new_report(chapter, details=CANARY)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details FROM intake_report WHERE id = %s",
            [report.pk.hex if connection.vendor == "sqlite" else report.pk],
        )
        stored = bytes(cursor.fetchone()[0])
    assert CANARY.encode() not in stored
    assert stored.startswith(crypto.MAGIC)


def test_without_data_keys_fields_read_as_locked_and_cannot_be_written(chapter: Chapter) -> None:
    report = new_report(chapter, details=CANARY, address="1418 W 18th St")
    with data_keys("", blind=""):
        assert not crypto.keyring().loaded
        locked = Report.objects.get(pk=report.pk)
        assert isinstance(locked.details, LockedValue) and not locked.details.tampered
        assert str(locked.details) == "🔒"
        assert CANARY not in str(locked.details)

        # Saving an untouched row keeps its ciphertext as it was.
        locked.kind = "arrest"
        locked.save()

        locked.details = "new text typed while locked"
        with pytest.raises(crypto.DataLocked), transaction.atomic():
            locked.save()
        fresh = Report.objects.get(pk=report.pk)
        fresh.address = fresh.address
        with pytest.raises(crypto.DataLocked), transaction.atomic():
            fresh.save()
        with pytest.raises(crypto.DataLocked):
            phone_index("+13125550100")

    after = Report.objects.get(pk=report.pk)
    assert after.details == CANARY and after.kind == "arrest"


def test_a_value_under_a_key_that_is_no_longer_loaded_reads_as_locked(chapter: Chapter) -> None:
    report = new_report(chapter, details=CANARY)
    with data_keys("other:" + crypto.new_key_text()):
        shown = Report.objects.get(pk=report.pk).details
        assert isinstance(shown, LockedValue) and not shown.tampered
