"""Retention (SECURITY-TESTS B1-B3): what is past its time is gone, rows and files alike,
what is not stays untouched, and a purge killed at any point finishes on the next run."""

from __future__ import annotations

import base64
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import live
from tests.rawscan import hits
from vigil.core import retention
from vigil.core.models import AuditEvent, Chapter, RateBucket, UsedToken
from vigil.incidents.models import Incident, IncidentReport
from vigil.intake.actions import ReportInput, receive_report
from vigil.intake.models import Channel, ConversationState, InboundMessage, Report, SmsConversation

DAY = timedelta(days=1)


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def write_photo(media: Path, content: bytes = b"encrypted photo bytes", *, name: str | None = None) -> str:
    name = name or f"reports/{uuid.uuid4().hex}.jpg.enc"
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return name


def neighbour_report(
    media: Path, *, details: str = "Two vans outside the clinic", phone: str = "+13125550100"
) -> Report:
    return receive_report(
        ReportInput(
            channel=Channel.WEB,
            details=details,
            address="18th St & Blue Island Ave",
            zip_code="60608",
            contact_phone=phone,
            photo_name=write_photo(media),
            source="198.51.100.7",
        )
    )


def received_days_ago(report: Report, days: float) -> Report:
    """Move a report back in time as if it had arrived `days` ago."""
    received = timezone.now() - timedelta(days=days)
    Report.objects.filter(pk=report.pk).update(
        received_at=received,
        purge_after=received + timedelta(days=settings.RETAIN_REPORT_DAYS),
        contact_expires_at=received + timedelta(days=settings.RETAIN_CONTACT_DAYS),
    )
    return Report.objects.get(pk=report.pk)


def photo_files(media: Path) -> set[str]:
    root = media / "reports"
    return {p.relative_to(media).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def orphan_files(media: Path) -> set[str]:
    return photo_files(media) - set(Report.objects.exclude(photo_name="").values_list("photo_name", flat=True))


def old_file(path: Path) -> None:
    past = time.time() - 2 * 3600
    os.utime(path, (past, past))


# --- B1: one day past retention is gone, one day before is kept -----------------------------


def test_a_report_one_day_past_retention_is_gone_with_its_photo_contact_and_links(db, media):
    report = received_days_ago(neighbour_report(media), settings.RETAIN_REPORT_DAYS + 1)
    photo = media / report.photo_name
    SmsConversation.objects.create(
        phone_index="a" * 64, state=ConversationState.ASK_PLACE, report=report, expires_at=timezone.now() + DAY
    )
    incident = Incident.objects.get(links__report=report)
    count_before = incident.report_count

    result = retention.purge_expired()

    assert not Report.objects.filter(pk=report.pk).exists()
    assert not photo.exists()
    assert not IncidentReport.objects.filter(report_id=report.pk).exists()
    assert not SmsConversation.objects.filter(report_id=report.pk).exists()
    assert result.counts["intake.report"] == 1
    # The incident stays as the network's record of what happened, with its count.
    incident.refresh_from_db()
    assert incident.report_count == count_before


def test_a_report_one_day_before_retention_is_kept_without_its_expired_contact_and_photo(db, media):
    report = received_days_ago(neighbour_report(media), settings.RETAIN_REPORT_DAYS - 1)
    photo = media / report.photo_name

    retention.purge_expired()

    kept = Report.objects.get(pk=report.pk)
    assert kept.details == "Two vans outside the clinic"
    assert kept.address == "18th St & Blue Island Ave"
    assert kept.contact_phone is None and kept.contact_index == "" and kept.contact_expires_at is None
    assert kept.photo_name == "" and not photo.exists()
    assert IncidentReport.objects.filter(report_id=report.pk).exists()


def test_contacts_and_photos_each_expire_on_their_own_schedule(db, media):
    contact_expired = received_days_ago(neighbour_report(media), settings.RETAIN_CONTACT_DAYS + 1)
    photo_expired = received_days_ago(neighbour_report(media), settings.RETAIN_UPLOAD_DAYS + 1)
    fresh = received_days_ago(neighbour_report(media), settings.RETAIN_CONTACT_DAYS - 1)
    assert settings.RETAIN_CONTACT_DAYS + 1 < settings.RETAIN_UPLOAD_DAYS

    retention.purge_expired()

    contact_expired.refresh_from_db()
    assert contact_expired.contact_phone is None and contact_expired.contact_index == ""
    assert contact_expired.photo_name and (media / contact_expired.photo_name).exists()
    photo_name = photo_expired.photo_name
    photo_expired.refresh_from_db()
    assert photo_expired.photo_name == "" and not (media / photo_name).exists()
    fresh.refresh_from_db()
    assert fresh.contact_phone == "+13125550100" and fresh.contact_index
    assert (media / fresh.photo_name).exists()


def test_short_lived_records_past_their_time_are_gone_and_the_rest_kept(db, media):
    now = timezone.now()
    chapter = Chapter.objects.create(slug="elsewhere", name="Elsewhere")
    conversation = [
        SmsConversation.objects.create(
            phone_index=f"{i}" * 64, state=ConversationState.ASK_WHAT, expires_at=now + delta
        )
        for i, delta in enumerate((-DAY, DAY))
    ]
    inbound = [
        InboundMessage.objects.create(provider_id=f"SM{i}", received_at=now - timedelta(days=days))
        for i, days in enumerate((8, 6))
    ]
    buckets = [
        RateBucket.objects.create(key=f"k{i}", window_start=now - age, count=3)
        for i, age in enumerate((2 * DAY, timedelta(hours=1)))
    ]
    tokens = [
        UsedToken.objects.create(digest=f"{i}" * 64, expires_at=now + delta) for i, delta in enumerate((-DAY, DAY))
    ]
    for status, finished in (("SUCCESSFUL", now - 8 * DAY), ("FAILED", now - 6 * DAY), ("READY", None)):
        DBTaskResult.objects.create(
            args_kwargs={"args": [], "kwargs": {}},
            task_path="vigil.core.tasks.purge_expired",
            backend_name="default",
            run_after=now,
            status=status,
            finished_at=finished,
        )
    audits = [
        AuditEvent.objects.create(action="report.receive", actor_label="public:web", chapter=chapter) for _ in range(2)
    ]
    AuditEvent.objects.filter(pk=audits[0].pk).update(at=now - timedelta(days=settings.RETAIN_AUDIT_DAYS + 1))

    retention.purge_expired()

    for gone, kept in (conversation, inbound, buckets, tokens, audits):
        model = type(gone)
        assert not model.objects.filter(pk=gone.pk).exists(), model
        assert model.objects.filter(pk=kept.pk).exists(), model
    assert list(DBTaskResult.objects.order_by("status").values_list("status", flat=True)) == ["FAILED", "READY"]


def test_photo_files_without_a_report_are_swept_once_no_upload_can_still_be_in_flight(db, media):
    stray = media / write_photo(media)
    partial = media / write_photo(media, name=f"reports/{uuid.uuid4().hex}.jpg.part")
    in_flight = media / write_photo(media)
    old_file(stray)
    old_file(partial)
    outside = media / "elsewhere.txt"
    outside.write_text("not a report photo")
    old_file(outside)

    retention.purge_expired()

    assert not stray.exists() and not partial.exists()
    assert in_flight.exists()
    assert outside.exists()


def test_a_photo_name_leading_outside_the_photo_folder_is_never_deleted(db, media, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    report = received_days_ago(neighbour_report(media), settings.RETAIN_UPLOAD_DAYS + 1)
    Report.objects.filter(pk=report.pk).update(photo_name="reports/../../victim.txt")

    retention.purge_expired()

    assert victim.exists()
    assert Report.objects.get(pk=report.pk).photo_name == ""


def test_every_run_is_audited_with_counts_only_and_a_rerun_finds_nothing_to_do(db, media):
    for _ in range(3):
        received_days_ago(neighbour_report(media), settings.RETAIN_REPORT_DAYS + 1)
    before = AuditEvent.objects.count()

    first = retention.purge_expired(batch_size=2)
    rows = list(AuditEvent.objects.order_by("id")[before:].values("action", "actor_label", "object_type", "object_id"))
    second = retention.purge_expired()

    assert first.counts["intake.report"] == 3
    assert {row["action"] for row in rows} == {"retention.purge"}
    assert {row["actor_label"] for row in rows} == {"system:retention"}
    # Counts, never ids: two batches of reports (2 + 1).
    assert [int(r["object_id"]) for r in rows if r["object_type"] == "intake.report"] == [2, 1]
    assert all(row["object_id"].isdigit() for row in rows)
    assert second.total == 0
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None and (last.action, last.object_type, last.object_id) == ("retention.purge", "retention", "0")


# --- B2: purged bytes are gone from the database, its WAL and the media folder --------------


def byte_forms(text: str) -> list[bytes]:
    """The text as bytes, UTF-16 either way, and base64 at each of the three alignments."""
    raw = text.encode()
    forms = [raw, text.encode("utf-16-le"), text.encode("utf-16-be")]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        # Only the groups made of the text's own bytes, not of its neighbours' (or padding).
        forms.append(encoded[4 if shift else 0 : -4])
    return [form for form in forms if len(form) >= 8]


def var_files(media: Path) -> list[Path]:
    database = Path(connection.settings_dict["NAME"])
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    files += [p for p in media.rglob("*") if p.is_file()]
    return [f for f in files if f.exists()]


@pytest.mark.skipif(os.environ.get("VIGIL_TEST_DATABASE") == "postgres", reason="scans SQLite's files")
def test_b2_purged_report_bytes_are_gone_from_the_sqlite_files_and_media(transactional_db, media):
    canary = f"CANARY{uuid.uuid4().hex[:12].upper()}"
    phone = f"+1312555{random.randint(1000, 9999)}"
    report = receive_report(
        ReportInput(
            channel=Channel.WEB,
            details=f"agents at the {canary} bakery",
            address=f"{canary} and 18th",
            contact_phone=phone,
            zip_code="60608",
            photo_name=write_photo(media, f"photo of {canary}".encode()),
        )
    )
    received_days_ago(report, settings.RETAIN_REPORT_DAYS + 1)
    row_id = [report.pk.hex.encode()]
    canaries = byte_forms(canary) + byte_forms(phone) + byte_forms(phone[2:])
    # The scan can see what it looks for: the row's key is on disk, the canary in the photo.
    assert hits(row_id, var_files(media)), "the report's id should be on disk before the purge"
    assert hits(canaries, var_files(media)), "the photo's canary should be on disk before the purge"

    result = retention.purge_expired()

    assert result.checkpoint is not None and result.checkpoint[0] == 0, "the WAL checkpoint was blocked"
    wal = Path(f"{connection.settings_dict['NAME']}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert hits(canaries, var_files(media)) == []
    assert hits(row_id, var_files(media)) == []


# --- B3: kill -9 the purge anywhere; the rerun reaches the same end state --------------------


def seed_backlog(media: Path, chapter: Chapter, incident: Incident, *, expired: int, now: datetime) -> list[Report]:
    """`expired` reports past every retention, with photos, contacts and incident links."""
    received = now - timedelta(days=settings.RETAIN_REPORT_DAYS + 1)
    reports = []
    for i in range(expired):
        report = Report(
            chapter=chapter,
            received_at=received,
            channel=Channel.SMS,
            zip_code="60608",
            contact_index=f"{i:064d}",
            contact_expires_at=received + timedelta(days=settings.RETAIN_CONTACT_DAYS),
            photo_name=write_photo(media),
            purge_after=received + timedelta(days=settings.RETAIN_REPORT_DAYS),
        )
        report.details = f"backlog report {i}"
        report.contact_phone = "+13125550100"
        reports.append(report)
    Report.objects.bulk_create(reports)
    IncidentReport.objects.bulk_create(IncidentReport(report=r, incident=incident, linked_at=now) for r in reports)
    return reports


def remaining_work(now: datetime) -> int:
    contact = Report.objects.filter(contact_expires_at__lte=now).count()
    photo = Report.objects.filter(received_at__lte=now - timedelta(days=settings.RETAIN_UPLOAD_DAYS)).exclude(
        photo_name=""
    )
    return contact + photo.count() + Report.objects.filter(purge_after__lte=now).count()


def start_purge(media: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigil.settings_test",
        "DATABASE_URL": live.test_database_url(),
        "VIGIL_VAR_DIR": str(media.parent),
    }
    env.pop("VIGIL_TEST_DATABASE", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "purge_expired", "--batch-size", "7"],
        cwd=live.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def end_state(media: Path) -> dict[str, object]:
    reports = Report.objects.order_by("pk")
    return {
        "reports": [(r.pk, r.details, r.contact_phone, r.contact_index, r.photo_name) for r in reports],
        "links": sorted(IncidentReport.objects.values_list("report_id", flat=True)),
        "files": sorted(photo_files(media)),
        "orphans": sorted(orphan_files(media)),
    }


@pytest.mark.slow
def test_b3_a_purge_killed_at_ten_random_points_finishes_on_rerun_with_no_orphans(transactional_db, media):
    chapter = Chapter.objects.create(slug="pilsen", name="Pilsen")
    now = timezone.now()
    incident = Incident.objects.create(chapter=chapter, first_report_at=now, last_report_at=now, report_count=0)
    # Arrived today, past the contact retention, a day before the report retention.
    kept = [
        received_days_ago(neighbour_report(media, details=f"kept {i}"), days)
        for i, days in enumerate((0, settings.RETAIN_CONTACT_DAYS + 1, settings.RETAIN_REPORT_DAYS - 1))
    ]
    kept_links = sorted(IncidentReport.objects.filter(report__in=kept).values_list("report_id", flat=True))
    interrupted = 0
    rng = random.Random()
    for _ in range(10):
        seed_backlog(media, chapter, incident, expired=60, now=now)
        total = remaining_work(timezone.now())
        kill_at = rng.randint(1, total - 1)
        purge = start_purge(media)
        assert purge.stdout is not None
        for line in purge.stdout:
            if line.strip() == "purge: started":
                break
        while purge.poll() is None and remaining_work(timezone.now()) > kill_at:
            time.sleep(0.002)
        os.kill(purge.pid, signal.SIGKILL)
        purge.wait()
        purge.stdout.close()
        interrupted += 0 < remaining_work(timezone.now()) < total

    purge = start_purge(media)
    output, _ = purge.communicate(timeout=120)
    assert purge.returncode == 0, output

    assert interrupted >= 5, "most kills should land in the middle of the purge"
    state = end_state(media)
    fresh, contact_gone, photo_gone = (Report.objects.get(pk=r.pk) for r in kept)
    assert state["reports"] == sorted(
        [
            (fresh.pk, "kept 0", "+13125550100", fresh.contact_index, fresh.photo_name),
            (contact_gone.pk, "kept 1", None, "", contact_gone.photo_name),
            (photo_gone.pk, "kept 2", None, "", ""),
        ]
    )
    assert fresh.photo_name and contact_gone.photo_name
    assert state["files"] == sorted([fresh.photo_name, contact_gone.photo_name])
    assert state["orphans"] == []
    assert state["links"] == kept_links
    assert Incident.objects.filter(pk=incident.pk).exists()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            assert cursor.fetchall() == [("ok",)]
    # The same end state as a purge never interrupted: another run changes nothing.
    retention.purge_expired()
    assert end_state(media) == state
