"""Exports of a case for its attorney: re-authentication, second-admin approval, one download
within the window, formula-neutralised CSV, PDF, and 404 for everyone else (C14, D2, E3)."""

from __future__ import annotations

import csv
import io
import logging
import re
import uuid
import zlib
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, login, make_staff
from vigil.accounts.models import Role, User
from vigil.cases import actions, closing, exports
from vigil.cases.models import Case, CaseNote, ExportRequest
from vigil.cases.tests.closing_helpers import CANARY_NAME, full_case, reauthenticated
from vigil.core.models import AuditEvent, Chapter

HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)"]


@pytest.fixture
def case(chapter: Chapter, legal_coordinator: User) -> Case:
    return full_case(chapter, legal_coordinator)


@pytest.fixture
def approval(settings: Any) -> None:
    settings.CASE_EXPORT_APPROVAL = True


def export_url(case: Case) -> str:
    return reverse("case_export_request", args=[case.pk])


def actions_of(case: Case) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(case.pk), action__startswith="case.export")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_a_stale_session_must_reenter_its_password_and_then_gets_the_file(
    client: Client, case: Case, legal_coordinator: User
) -> None:
    login(client, legal_coordinator)
    stale = client.post(export_url(case), {"format": "csv"})
    assert stale.status_code == 302 and stale["Location"].startswith(reverse("account_reauthenticate"))
    assert not ExportRequest.objects.exists()

    # Re-entering the password replays the export request, which sends the file's link.
    back = client.post(stale["Location"], {"password": PASSWORD})
    assert back.status_code == 302
    export = ExportRequest.objects.get()
    assert back["Location"] == reverse("case_export_download", args=[export.pk])
    assert export.approved_by == legal_coordinator  # approval is off on this network
    response = client.get(back["Location"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="{case.label}.csv"'
    assert "no-store" in response["Cache-Control"]
    assert CANARY_NAME in response.content.decode("utf-8-sig")


def test_the_download_works_once_and_is_audited_as_a_read(client: Client, case: Case, legal_coordinator: User) -> None:
    reauthenticated(login(client, legal_coordinator))
    link = client.post(export_url(case), {"format": "pdf"})["Location"]
    first = client.get(link)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert case.label.encode() in first.content
    assert first["Content-Disposition"] == f'attachment; filename="{case.label}.pdf"'
    assert client.get(link).status_code == 404
    assert ExportRequest.objects.get().downloaded_at is not None
    assert actions_of(case) == ["case.export_request", "case.export", "case.export_download"]


def test_a_bad_format_is_a_clear_400_and_stores_nothing(client: Client, case: Case, legal_coordinator: User) -> None:
    reauthenticated(login(client, legal_coordinator))
    response = client.post(export_url(case), {"format": "xlsx"})
    assert response.status_code == 400 and b"PDF or CSV" in response.content
    assert not ExportRequest.objects.exists()


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    client: Client, chapter: Chapter, legal_coordinator: User
) -> None:
    case = full_case(chapter, legal_coordinator, name=HOSTILE[0], country_of_birth=HOSTILE[1])
    with transaction.atomic():
        actions.store_child(case, name=HOSTILE[2], actor=legal_coordinator)
        actions.store_family_contact(case, name=HOSTILE[3], actor=legal_coordinator)
        note = CaseNote(case=case, at=timezone.now())
        note.body = "\t=1+1"
        note.save(force_insert=True)
    reauthenticated(login(client, legal_coordinator))
    link = client.post(export_url(case), {"format": "csv"})["Location"]
    text = client.get(link).content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for value in HOSTILE:
        assert "'" + value in cells
    assert "'\t=1+1" in cells
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    titles = [row[0] for row in csv.reader(io.StringIO(text)) if len(row) == 1]
    assert titles[-10:] == [
        "Case and person",
        "Detention history",
        "Locator checks",
        "Hearings",
        "Deadlines",
        "Bond",
        "Family contacts",
        "Children",
        "Tasks",
        "Notes",
    ]


@pytest.mark.parametrize("value", [*HOSTILE, "\r1", None, 12])
def test_neutralise_quotes_formula_starts(value: Any) -> None:
    text = "" if value is None else str(value)
    expected = "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    assert exports.neutralise(value) == expected


def test_pdf_text_keeps_every_accent_and_marks_what_the_font_cannot_draw() -> None:
    assert exports.pdf_text("José Nguyễn Łukasz Ωμέγα Жанна — 李\x00") == "José Nguyễn Łukasz Ωμέγα Жанна — ?"


def _pdf_characters(pdf: bytes) -> str:
    """The characters the PDF's embedded font maps back to text (its ToUnicode tables)."""
    found = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text = zlib.decompress(stream)
        except zlib.error:
            text = stream  # fpdf2 writes the ToUnicode table uncompressed
        found += [chr(int(code, 16)) for code in re.findall(rb"<[0-9A-F]{4}> <([0-9A-F]{4})>", text)]
    return "".join(found)


def test_the_pdf_prints_a_vietnamese_name_as_written_and_logs_nothing_of_it(
    client: Client, chapter: Chapter, legal_coordinator: User, caplog: pytest.LogCaptureFixture
) -> None:
    case = full_case(chapter, legal_coordinator, name="Nguyễn Thị Hằng")
    reauthenticated(login(client, legal_coordinator))
    with caplog.at_level(logging.DEBUG):
        pdf = client.get(client.post(export_url(case), {"format": "pdf"})["Location"]).content
    assert {"ễ", "ị", "ằ"} <= set(_pdf_characters(pdf))
    # fontTools would list the glyphs it embeds (uni1EC5 is ễ) at INFO.
    assert not [r for r in caplog.records if r.name.startswith("fontTools") and r.levelno < logging.WARNING]


# --- second admin's approval ------------------------------------------------------------------


@pytest.fixture
def admins(chapter: Chapter, case: Case) -> tuple[User, User]:
    """Two admins of Pilsen; the first is assigned to the case (so may ask for its export)."""
    first = make_staff("ada.admin", Role.ADMIN, chapter)
    second = make_staff("abel.admin", Role.ADMIN, chapter)
    with transaction.atomic():
        actions.assign(case, first, now=timezone.now(), acting_user=first)
    return first, second


def test_with_approval_on_the_requester_cannot_approve_their_own_but_a_second_admin_can(
    approval: None, case: Case, admins: tuple[User, User]
) -> None:
    requester, other = admins
    mine = reauthenticated(login(Client(), requester))
    response = mine.post(export_url(case), {"format": "csv"})
    assert response.status_code == 302 and response["Location"].endswith("#closing")
    export = ExportRequest.objects.get()
    assert export.approved_at is None
    download = reverse("case_export_download", args=[export.pk])
    assert mine.get(download).status_code == 404

    queue = mine.get(reverse("export_queue"))
    assert queue.status_code == 200 and case.label.encode() in queue.content
    assert CANARY_NAME.encode() not in queue.content
    own = mine.post(reverse("export_approve", args=[export.pk]))
    assert own.status_code == 403
    export.refresh_from_db()
    assert export.approved_at is None

    theirs = login(Client(), other)
    stale = theirs.post(reverse("export_approve", args=[export.pk]))
    assert stale.status_code == 302 and stale["Location"].startswith(reverse("account_reauthenticate"))
    assert reauthenticated(theirs).post(reverse("export_approve", args=[export.pk])).status_code == 302
    export.refresh_from_db()
    assert export.approved_by == other
    again = theirs.post(reverse("export_approve", args=[export.pk]))
    assert again.status_code == 400
    # The approver gets no file: only the requester does, once.
    assert theirs.get(download).status_code == 404
    assert mine.get(download).status_code == 200
    assert mine.get(download).status_code == 404
    assert actions_of(case) == ["case.export_request", "case.export_approve", "case.export", "case.export_download"]


def test_a_refused_export_never_downloads(approval: None, case: Case, admins: tuple[User, User]) -> None:
    requester, other = admins
    mine = reauthenticated(login(Client(), requester))
    mine.post(export_url(case), {"format": "pdf"})
    export = ExportRequest.objects.get()
    assert login(Client(), other).post(reverse("export_refuse", args=[export.pk])).status_code == 302
    export.refresh_from_db()
    assert export.refused_at is not None
    assert mine.get(reverse("case_export_download", args=[export.pk])).status_code == 404
    assert reauthenticated(login(Client(), other)).post(reverse("export_approve", args=[export.pk])).status_code == 400
    assert "case.export_refuse" in actions_of(case)


def test_an_export_past_its_window_is_gone(client: Client, case: Case, legal_coordinator: User, settings: Any) -> None:
    reauthenticated(login(client, legal_coordinator))
    link = client.post(export_url(case), {"format": "csv"})["Location"]
    late = timezone.now() - timedelta(hours=settings.CASE_EXPORT_HOURS, minutes=1)
    ExportRequest.objects.update(approved_at=late, requested_at=late)
    assert client.get(link).status_code == 404
    assert ExportRequest.objects.get().downloaded_at is None


def test_nobody_else_reaches_an_export_or_the_queue(
    client: Client,
    case: Case,
    legal_coordinator: User,
    chapter: Chapter,
    outsider: User,
    dispatcher: User,
    organizer: User,
    admin_user: User,
    approval: None,
) -> None:
    reauthenticated(login(client, legal_coordinator))
    client.post(export_url(case), {"format": "csv"})
    export = ExportRequest.objects.get()
    other_legal = make_staff("luis.legal", Role.LEGAL, chapter)
    made_up = uuid.uuid4()
    for person in (outsider, dispatcher, organizer, other_legal):
        visitor = reauthenticated(login(Client(), person))
        assert visitor.get(reverse("case_export_download", args=[export.pk])).status_code == 404
        assert visitor.get(reverse("export_queue")).status_code == 404
        assert visitor.post(reverse("export_approve", args=[export.pk])).status_code == 404
        assert visitor.post(reverse("export_refuse", args=[export.pk])).status_code == 404
        if person is not other_legal:
            assert visitor.post(export_url(case), {"format": "csv"}).status_code == 404
    # An admin of another chapter: 404 for this chapter's export, before any password prompt.
    foreign_admin = make_staff("otis.admin", Role.ADMIN, outsider.chapters.get())
    stale = login(Client(), foreign_admin)
    assert stale.post(reverse("export_approve", args=[export.pk])).status_code == 404
    assert stale.post(reverse("export_refuse", args=[export.pk])).status_code == 404
    assert stale.post(reverse("export_approve", args=[made_up])).status_code == 404
    assert stale.post(reverse("case_export_request", args=[made_up]), {"format": "csv"}).status_code == 404
    # Wrong method on the routes: 405.
    assert client.get(export_url(case)).status_code == 405
    assert login(Client(), admin_user).get(reverse("export_approve", args=[export.pk])).status_code == 405
    export.refresh_from_db()
    assert export.approved_at is None and export.refused_at is None


def test_an_assigned_dispatcher_may_export_an_unassigned_one_may_not(
    case: Case, dispatcher: User, verifier: User
) -> None:
    with transaction.atomic():
        actions.assign(case, dispatcher, now=timezone.now(), acting_user=dispatcher)
    assigned = reauthenticated(login(Client(), dispatcher))
    link = assigned.post(export_url(case), {"format": "csv"})["Location"]
    assert assigned.get(link).status_code == 200
    assert reauthenticated(login(Client(), verifier)).post(export_url(case), {"format": "csv"}).status_code == 404


def test_the_case_page_part_costs_a_constant_number_of_queries(
    case: Case, legal_coordinator: User, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    for _ in range(5):
        ExportRequest.objects.create(
            case=case, format="csv", requested_by=legal_coordinator, requested_at=now, approved_at=now
        )
    with django_assert_max_num_queries(3):
        context = closing.detail_context(case, legal_coordinator)
    assert len(context["closing_ready_exports"]) == 5


def test_without_the_data_key_the_export_is_refused_and_stays_downloadable(
    client: Client, case: Case, legal_coordinator: User, settings: Any
) -> None:
    from vigil.core import crypto

    reauthenticated(login(client, legal_coordinator))
    link = client.post(export_url(case), {"format": "pdf"})["Location"]
    keys = settings.DATA_KEYS
    settings.DATA_KEYS = ""
    crypto.reset_keyring()
    try:
        response = client.get(link)
    finally:
        settings.DATA_KEYS = keys
        crypto.reset_keyring()
    assert response.status_code == 503 and b"data key" in response.content
    assert ExportRequest.objects.get().downloaded_at is None
    assert client.get(link).status_code == 200


def test_two_claims_of_one_download_have_exactly_one_winner(case: Case, legal_coordinator: User) -> None:
    now = timezone.now()
    export = ExportRequest.objects.create(
        case=case, format="csv", requested_by=legal_coordinator, requested_at=now, approved_at=now
    )
    with transaction.atomic():
        first = closing.claim_download(export, acting_user=legal_coordinator, now=now)
        second = closing.claim_download(export, acting_user=legal_coordinator, now=now)
    assert (first, second) == (True, False)
