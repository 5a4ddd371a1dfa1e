"""Evidence from the scene: hashed as received, cleaned, encrypted, and every access in custody."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from conftest import PASSWORD, login, make_staff
from vigil.accounts.models import Role, User
from vigil.core.models import AuditEvent, Chapter
from vigil.core.retention import purge_expired
from vigil.incidents.models import EventKind, Incident, IncidentEvent, Status
from vigil.responders import evidence as ev
from vigil.responders.models import (
    Assignment,
    CustodyAction,
    CustodyEntry,
    Evidence,
)
from vigil.responders.tests.conftest import make_responder
from vigil.responders.tests.test_mp4 import GPS, MEDIA, sample_video

CANARY = b"CanaryCam-SN-778812"


# --- personas and scene -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def make_incident(chapter: Chapter, **fields: Any) -> Incident:
    now = timezone.now()
    return Incident.objects.create(chapter=chapter, first_report_at=now, last_report_at=now, **fields)


@pytest.fixture
def incident(chapter: Chapter) -> Incident:
    return make_incident(chapter)


@pytest.fixture
def other_incident(other_chapter: Chapter) -> Incident:
    return make_incident(other_chapter)


def make_volunteer(username: str, chapter: Chapter, n: int) -> User:
    user = make_responder(chapter, n, username=username, mfa=True).user
    assert user is not None
    return user


@pytest.fixture
def volunteer(chapter: Chapter, incident: Incident) -> User:
    """A volunteer assigned to the incident."""
    user = make_volunteer("vic.volunteer", chapter, 101)
    Assignment.objects.create(incident=incident, responder=user.responder, accepted_at=timezone.now())
    return user


@pytest.fixture
def bystander(chapter: Chapter) -> User:
    """A volunteer of the same chapter, not assigned to this incident."""
    return make_volunteer("bea.bystander", chapter, 102)


def client_for(user: User) -> Client:
    return login(Client(), user)


def gps_photo() -> bytes:
    image = Image.new("RGB", (64, 32), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CANARY.decode()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (41.0, 51.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (87.0, 39.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def send(client: Client, incident: Incident, data: bytes, *, caption: str = "", name: str = "IMG_0001.jpg") -> Any:
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("evidence_upload", args=[incident.pk]), {"file": upload, "caption": caption})


def upload_as(user: User, incident: Incident, data: bytes, **kwargs: Any) -> Evidence:
    response = send(client_for(user), incident, data, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Evidence.objects.latest("uploaded_at")


def custody(evidence: Evidence) -> list[str]:
    return list(CustodyEntry.objects.filter(evidence_ref=evidence.pk).values_list("action", flat=True))


# --- upload ---------------------------------------------------------------------------------


def test_an_assigned_volunteer_sends_a_photo_hashed_as_received_and_cleaned(
    volunteer: User, incident: Incident, media_root: Path
) -> None:
    original = gps_photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    evidence = upload_as(volunteer, incident, original, caption="Two vans at the corner")

    assert evidence.sha256 == hashlib.sha256(original).hexdigest()
    assert evidence.kind == "photo" and evidence.size == len(original)
    assert evidence.uploaded_by == volunteer and evidence.caption == "Two vans at the corner"
    working = ev.read_copy(evidence, ev.WORKING)
    assert evidence.working_sha256 == hashlib.sha256(working).hexdigest()
    image = Image.open(io.BytesIO(working))
    assert len(image.getexif()) == 0 and not image.info.get("exif") and CANARY not in working
    # Both files are on disk under server-made names, encrypted: no marker readable.
    files = stored_files(media_root)
    assert sorted(str(path.relative_to(media_root)) for path in files) == sorted(
        [evidence.working_name, evidence.original_name]
    )
    for path in files:
        assert ev.NAME_PATTERN.fullmatch(str(path.relative_to(media_root)))
        sealed = path.read_bytes()
        assert CANARY not in sealed and b"Exif" not in sealed and b"\xff\xd8\xff" not in sealed[:16]
    # The original keeps everything (it is for the attorney).
    assert ev.read_copy(evidence, ev.ORIGINAL) == original
    [entry] = CustodyEntry.objects.filter(evidence=evidence)
    assert (entry.action, entry.actor, entry.sha256) == (CustodyAction.UPLOAD, volunteer, evidence.sha256)
    assert AuditEvent.objects.filter(action="evidence.upload", object_id=str(evidence.pk)).count() == 1
    # Their own upload is listed on their page and they may open the working copy.
    page = client_for(volunteer).get(reverse("evidence_upload", args=[incident.pk]))
    assert reverse("evidence_own_file", args=[evidence.pk]).encode() in page.content


def test_a_video_loses_its_gps_but_keeps_its_size_and_media(volunteer: User, incident: Incident) -> None:
    video = sample_video(brand=b"qt  ")
    evidence = upload_as(volunteer, incident, video, name="IMG_0002.MOV")

    working = ev.read_copy(evidence, ev.WORKING)
    assert evidence.kind == "video" and evidence.content_type == "video/quicktime"
    assert len(working) == len(video) and GPS not in working and MEDIA in working
    assert evidence.sha256 == hashlib.sha256(video).hexdigest() != evidence.working_sha256
    assert ev.read_copy(evidence, ev.ORIGINAL) == video


def test_without_keeping_originals_only_the_working_copy_is_stored(
    settings: Any, volunteer: User, incident: Incident, media_root: Path
) -> None:
    settings.EVIDENCE_KEEP_ORIGINALS = False
    evidence = upload_as(volunteer, incident, gps_photo())
    assert evidence.original_name == ""
    assert [str(path.relative_to(media_root)) for path in stored_files(media_root)] == [evidence.working_name]


def test_staff_with_a_field_role_may_upload(verifier: User, incident: Incident) -> None:
    evidence = upload_as(verifier, incident, gps_photo())
    assert custody(evidence) == [CustodyAction.UPLOAD]


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"%PDF-1.4 not a photo", 415, b"not a photo or video"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 200, 400, b"not a photo or video"),
        (sample_video()[:300], 400, b"damaged or incomplete"),
        (b"", 400, b"Choose a photo or video"),
    ],
    ids=["pdf", "broken-jpeg", "truncated-video", "empty"],
)
def test_wrong_or_broken_files_are_refused_with_a_message_and_nothing_stored(
    volunteer: User, incident: Incident, media_root: Path, data: bytes, status: int, words: bytes
) -> None:
    response = send(client_for(volunteer), incident, data)
    assert response.status_code == status
    assert words in response.content
    assert not Evidence.objects.exists() and not CustodyEntry.objects.exists()
    assert stored_files(media_root) == []


def test_an_oversize_video_is_refused_while_streaming_and_nothing_is_stored(
    settings: Any, volunteer: User, incident: Incident, media_root: Path
) -> None:
    settings.MAX_EVIDENCE_MB = 1
    big = sample_video() + b"\0" * (1024 * 1024)
    response = send(client_for(volunteer), incident, big)
    assert response.status_code == 413
    assert b"too large" in response.content and b"1 MB" in response.content
    assert not Evidence.objects.exists() and stored_files(media_root) == []


def test_the_refusal_is_in_spanish_for_a_spanish_speaker(volunteer: User, incident: Incident) -> None:
    client = client_for(volunteer)
    client.cookies["django_language"] = "es"
    response = send(client, incident, b"%PDF-1.4")
    assert response.status_code == 415
    assert response["Content-Language"] == "es"


def test_who_may_not_upload_gets_404_and_nothing_is_read(
    bystander: User, outsider: User, legal_coordinator: User, incident: Incident, other_incident: Incident,
    volunteer: User, media_root: Path,
) -> None:  # fmt: skip
    for user, target in [
        (bystander, incident),  # not assigned
        (outsider, incident),  # another chapter
        (legal_coordinator, incident),  # not a field role
        (volunteer, other_incident),  # assigned elsewhere
    ]:
        client = client_for(user)
        assert client.get(reverse("evidence_upload", args=[target.pk])).status_code == 404
        assert send(client, target, gps_photo()).status_code == 404
    assert Client().get(reverse("evidence_upload", args=[incident.pk])).status_code == 302
    assert not Evidence.objects.exists() and stored_files(media_root) == []


def test_an_assignment_ended_long_ago_no_longer_allows_uploads(volunteer: User, incident: Incident) -> None:
    Assignment.objects.update(ended_at=timezone.now() - timedelta(days=2))
    assert send(client_for(volunteer), incident, gps_photo()).status_code == 404


# --- viewing ----------------------------------------------------------------------------------


@pytest.fixture
def photo_evidence(volunteer: User, incident: Incident) -> Evidence:
    return upload_as(volunteer, incident, gps_photo(), caption='=HYPERLINK("http://x")')


def test_staff_of_the_chapter_see_the_working_copy_and_each_view_is_in_custody(
    photo_evidence: Evidence, dispatcher: User, verifier: User, organizer: User, legal_coordinator: User,
    admin_user: User,
) -> None:  # fmt: skip
    for user in (dispatcher, verifier, organizer, legal_coordinator, admin_user):
        response = client_for(user).get(reverse("evidence_file", args=[photo_evidence.pk]))
        assert response.status_code == 200, user.role
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert hashlib.sha256(body).hexdigest() == photo_evidence.working_sha256
        assert response["Content-Type"] == "image/jpeg"
        assert response["Content-Disposition"].startswith("inline;") and "no-store" in response["Cache-Control"]
    views = CustodyEntry.objects.filter(evidence=photo_evidence, action=CustodyAction.VIEW)
    assert sorted(views.values_list("actor_label", flat=True)) == sorted(
        u.username for u in (dispatcher, verifier, organizer, legal_coordinator, admin_user)
    )
    assert set(views.values_list("sha256", flat=True)) == {photo_evidence.working_sha256}
    assert AuditEvent.objects.filter(action="evidence.view").count() == 5


def test_the_uploader_sees_their_own_working_copy_but_no_staff_page(
    photo_evidence: Evidence, volunteer: User, bystander: User
) -> None:
    client = client_for(volunteer)
    own = client.get(reverse("evidence_own_file", args=[photo_evidence.pk]))
    assert own.status_code == 200
    assert custody(photo_evidence) == [CustodyAction.UPLOAD, CustodyAction.VIEW]
    for name in ("evidence_file", "evidence_original", "evidence_custody"):
        assert client.get(reverse(name, args=[photo_evidence.pk])).status_code == 404, name
    assert client.post(reverse("evidence_export", args=[photo_evidence.pk])).status_code == 404
    assert client.get(reverse("evidence_list", args=[photo_evidence.incident_id])).status_code == 404
    # Another volunteer may not see it, even through the volunteer's route.
    assert client_for(bystander).get(reverse("evidence_own_file", args=[photo_evidence.pk])).status_code == 404


def test_another_chapter_gets_404_everywhere(photo_evidence: Evidence, outsider: User, chapter: Chapter) -> None:
    outsider_legal = make_staff("lex.outsider", Role.LEGAL, outsider.chapters.get())
    for user in (outsider, outsider_legal):
        client = client_for(user)
        for name in ("evidence_file", "evidence_original", "evidence_custody"):
            assert client.get(reverse(name, args=[photo_evidence.pk])).status_code == 404, name
        assert client.post(reverse("evidence_export", args=[photo_evidence.pk])).status_code == 404
        assert client.get(reverse("evidence_list", args=[photo_evidence.incident_id])).status_code == 404
    assert custody(photo_evidence) == [CustodyAction.UPLOAD]


def test_only_legal_and_admin_open_the_original(
    photo_evidence: Evidence, dispatcher: User, verifier: User, organizer: User, legal_coordinator: User,
    admin_user: User,
) -> None:  # fmt: skip
    url = reverse("evidence_original", args=[photo_evidence.pk])
    for user in (dispatcher, verifier, organizer):
        assert client_for(user).get(url).status_code == 403, user.role
    for user in (legal_coordinator, admin_user):
        response = client_for(user).get(url)
        assert response.status_code == 200
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert hashlib.sha256(body).hexdigest() == photo_evidence.sha256
        assert response["Content-Disposition"].startswith("attachment;")
    entries = CustodyEntry.objects.filter(evidence=photo_evidence, action=CustodyAction.VIEW_ORIGINAL)
    assert sorted(entries.values_list("actor_label", flat=True)) == sorted(
        [legal_coordinator.username, admin_user.username]
    )


def test_the_incident_list_and_custody_log(
    photo_evidence: Evidence, dispatcher: User, legal_coordinator: User, django_assert_max_num_queries: Any
) -> None:
    client = client_for(legal_coordinator)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("evidence_list", args=[photo_evidence.incident_id]))
    assert page.status_code == 200
    assert reverse("evidence_original", args=[photo_evidence.pk]).encode() in page.content
    assert b"=HYPERLINK(&quot;http://x&quot;)" in page.content
    fragment = client.get(reverse("evidence_list", args=[photo_evidence.incident_id]), headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and photo_evidence.sha256[:16].encode() in fragment.content
    as_dispatcher = client_for(dispatcher).get(reverse("evidence_list", args=[photo_evidence.incident_id]))
    assert reverse("evidence_original", args=[photo_evidence.pk]).encode() not in as_dispatcher.content
    log = client.get(reverse("evidence_custody", args=[photo_evidence.pk]))
    assert log.status_code == 200 and photo_evidence.sha256.encode() in log.content
    assert b"vic.volunteer" in log.content
    assert AuditEvent.objects.filter(action="evidence.custody_read").count() == 1
    assert AuditEvent.objects.filter(action="evidence.list").count() == 3


def test_without_the_data_key_the_file_is_locked_not_an_error(
    photo_evidence: Evidence, dispatcher: User, settings: Any
) -> None:
    from vigil.core import crypto

    settings.DATA_KEYS = ""
    crypto.reset_keyring()
    try:
        response = client_for(dispatcher).get(reverse("evidence_file", args=[photo_evidence.pk]))
    finally:
        crypto.reset_keyring()
    assert response.status_code == 503 and b"locked" in response.content


def test_a_tampered_file_is_refused(photo_evidence: Evidence, dispatcher: User, media_root: Path) -> None:
    path = media_root / photo_evidence.working_name
    sealed = bytearray(path.read_bytes())
    sealed[-1] ^= 1
    path.write_bytes(sealed)
    response = client_for(dispatcher).get(reverse("evidence_file", args=[photo_evidence.pk]))
    assert response.status_code == 409 and b"integrity" in response.content


# --- export -----------------------------------------------------------------------------------


def reauthenticated(client: Client) -> Client:
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD, "next": "/"})
    assert response.status_code == 302
    return client


def test_export_needs_recent_reauthentication_and_writes_a_neutralised_custody_sheet(
    photo_evidence: Evidence, legal_coordinator: User, dispatcher: User
) -> None:
    url = reverse("evidence_export", args=[photo_evidence.pk])
    assert client_for(dispatcher).post(url).status_code == 403
    # A username that a spreadsheet would run as a formula (E3).
    legal_coordinator.username = "=cmd|'/c calc'!A1"
    legal_coordinator.save()
    client = client_for(legal_coordinator)
    client.get(reverse("evidence_file", args=[photo_evidence.pk]))

    first = client.post(url)
    assert first.status_code == 302 and first["Location"].startswith(reverse("account_reauthenticate"))
    assert CustodyAction.EXPORT not in custody(photo_evidence)

    response = reauthenticated(client).post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip" and "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert sorted(archive.namelist()) == ["custody.csv", "original.jpg", "working.jpg"]
    assert hashlib.sha256(archive.read("original.jpg")).hexdigest() == photo_evidence.sha256
    assert hashlib.sha256(archive.read("working.jpg")).hexdigest() == photo_evidence.working_sha256
    rows = list(csv.reader(io.StringIO(archive.read("custody.csv").decode())))
    assert rows[1][3] == photo_evidence.sha256
    actions = [(row[1], row[2]) for row in rows[4:]]
    assert actions == [
        ("upload", "vic.volunteer"),
        ("view", "'=cmd|'/c calc'!A1"),
        ("export", "'=cmd|'/c calc'!A1"),
    ]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert custody(photo_evidence)[-1] == CustodyAction.EXPORT
    assert AuditEvent.objects.filter(action="evidence.export", actor=legal_coordinator).count() == 1


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "plain"])
def test_csv_cells_are_neutralised(cell: str) -> None:
    assert ev.neutralise(cell) == (cell if cell == "plain" else "'" + cell)


# --- retention --------------------------------------------------------------------------------


def close(incident: Incident, at: Any) -> None:
    Incident.objects.filter(pk=incident.pk).update(status=Status.CLOSED)
    IncidentEvent.objects.create(
        incident=incident, at=at, kind=EventKind.STATUS, from_status=Status.CONFIRMED, to_status=Status.CLOSED
    )


@pytest.fixture
def purge_now() -> Iterator[Any]:
    yield timezone.now()


def test_evidence_of_long_closed_incidents_is_purged_and_the_chain_kept(
    settings: Any, photo_evidence: Evidence, chapter: Chapter, volunteer: User, media_root: Path, purge_now: Any
) -> None:
    recent = make_incident(chapter)
    Assignment.objects.create(incident=recent, responder=volunteer.responder, accepted_at=purge_now)
    kept = upload_as(volunteer, recent, gps_photo())
    still_open = upload_as(volunteer, make_incident_with_assignment(chapter, volunteer), gps_photo())
    days = settings.RETAIN_EVIDENCE_DAYS
    close(photo_evidence.incident, purge_now - timedelta(days=days + 1))
    close(recent, purge_now - timedelta(days=days - 1))

    result = purge_expired(now=purge_now)

    assert result.counts["responders.evidence"] == 1
    assert set(Evidence.objects.values_list("pk", flat=True)) == {kept.pk, still_open.pk}
    names = {str(path.relative_to(media_root)) for path in stored_files(media_root)}
    assert names == {kept.working_name, kept.original_name, still_open.working_name, still_open.original_name}
    chain = CustodyEntry.objects.filter(evidence_ref=photo_evidence.pk)
    assert list(chain.values_list("action", flat=True)) == [CustodyAction.UPLOAD, CustodyAction.PURGE]
    assert not chain.filter(evidence__isnull=False).exists()
    assert chain.last().sha256 == photo_evidence.sha256  # type: ignore[union-attr]
    # Running again changes nothing.
    purge_expired(now=purge_now)
    assert CustodyEntry.objects.filter(action=CustodyAction.PURGE).count() == 1


def make_incident_with_assignment(chapter: Chapter, volunteer: User) -> Incident:
    incident = make_incident(chapter)
    Assignment.objects.create(incident=incident, responder=volunteer.responder, accepted_at=timezone.now())
    return incident


def test_orphan_files_from_a_crashed_upload_are_swept(media_root: Path, db: Any) -> None:
    from vigil.responders.retention import sweep_orphan_files

    (media_root / "evidence").mkdir()
    orphan = media_root / "evidence" / ("ab" * 16 + ".work.enc")
    orphan.write_bytes(b"V1 sealed")
    assert sweep_orphan_files(timezone.now()) == 0  # young: maybe an upload in flight
    assert sweep_orphan_files(timezone.now() + timedelta(hours=2)) == 1
    assert not orphan.exists()
