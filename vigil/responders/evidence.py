"""Photos and video from the scene, and their chain of custody.

A responder's upload is hashed (SHA-256) while it streams in, so the hash is of the bytes
exactly as received. The WORKING copy that staff look at has no metadata: photos are
re-encoded from their pixels (vigil.intake.uploads.sanitize_photo), videos have their
metadata boxes overwritten in place (vigil.responders.mp4). When the network keeps
originals for legal defense (settings.EVIDENCE_KEEP_ORIGINALS) the bytes as received are
kept too; they still hold the GPS position, so only the chapter's legal role and admins may
open them. Both files are encrypted with vigil.core.crypto, bound to the evidence row's id
and to which copy they are, and written under server-made names in MEDIA_ROOT/evidence/.

Memory, not disk: an upload is kept in ONE pre-sized buffer in memory (never a temporary
file: a plaintext video with its GPS track must not touch the disk, not even unlinked) and
refused as soon as it passes MAX_EVIDENCE_MB. The original is encrypted and written first,
then the video is cleaned in that same buffer, so a 100 MB video costs about 200 MB at peak
(the buffer plus one ciphertext), not three or four copies.

Every access writes a CustodyEntry (and an audit row) in the same transaction: upload,
view, view of the original, export; retention writes PURGE. Entries outlive the evidence.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigil.accounts.models import Role, User
from vigil.core import crypto
from vigil.core.audit import audit
from vigil.core.media import write_private_file
from vigil.incidents.models import Incident
from vigil.intake import uploads
from vigil.responders import mp4
from vigil.responders.access import AFTER_DONE
from vigil.responders.models import (
    Assignment,
    CustodyAction,
    CustodyEntry,
    Evidence,
    EvidenceKind,
    ResponderStatus,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

EVIDENCE_DIR = "evidence"
NAME_PATTERN = re.compile(r"^evidence/[0-9a-f]{32}\.(?:work|orig)\.enc$")
WORKING, ORIGINAL = "working", "original"
FIELD_NAME = "file"
MAX_CAPTION = 2000
# A volunteer may still upload this long after their assignment ended (home, on wifi).
UPLOAD_GRACE = AFTER_DONE
_MAX_BIGINT = 2**63 - 1

# Staff of the incident's chapter who may upload (the field roles, as for field reports).
UPLOADER_ROLES = (Role.VERIFIER, Role.DISPATCHER, Role.ORGANIZER, Role.ADMIN)
# Staff of the chapter who may see the working copy, the list and the custody log.
VIEWER_ROLES = (Role.VERIFIER, Role.DISPATCHER, Role.ORGANIZER, Role.ADMIN, Role.LEGAL)
# Only these may see the original (it has the GPS position) and export.
ORIGINAL_ROLES = (Role.LEGAL, Role.ADMIN)

WRONG_TYPE = _(
    "This file is not a photo or video we can take. Send a JPEG, PNG, WebP or HEIC photo, or an MP4 or MOV video."
)
BROKEN = _("This file seems damaged or incomplete. Try choosing it again, or send it again once it is saved.")
NO_FILE = _("Choose a photo or video to send.")
CAPTION_TOO_LONG = _("The note is too long (at most 2000 characters).")


def max_bytes() -> int:
    return int(settings.MAX_EVIDENCE_MB) * 1024 * 1024


def too_large_message() -> str:
    return str(
        _("This file is too large. Photos can be at most %(photo)s MB and videos at most %(video)s MB.")
        % {"photo": uploads.MAX_PHOTO_BYTES // (1024 * 1024), "video": settings.MAX_EVIDENCE_MB}
    )


class EvidenceRejected(ValueError):
    """An upload we refuse; `message` is for the person who sent it, `status` the HTTP answer."""

    def __init__(self, message: StrPromise | str, *, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


# --- receiving ----------------------------------------------------------------------------


class EvidenceUploadHandler(FileUploadHandler):
    """Receives the one file into a single buffer sized from Content-Length, hashing as it
    goes; refuses it (and drops what it had) once it passes MAX_EVIDENCE_MB."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = max_bytes()
        self.too_large = False
        self.files_seen = 0
        self.expected = 0
        self.buffer = bytearray()
        self.length = 0
        self.digest = hashlib.sha256()

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        # The body is the file plus a few form fields; the buffer is sized once from it so
        # it never reallocates (a reallocation would briefly hold the video twice).
        self.expected = max(0, min(int(content_length or 0), self.limit))

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.files_seen += 1
        if field_name != FIELD_NAME or self.files_seen > 1:
            raise SkipFile()
        self.buffer = bytearray(self.expected)
        self.length = 0
        self.digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        end = self.length + len(raw_data)
        if end > self.limit:
            self.too_large = True
            self.buffer = bytearray()
            self.length = 0
            raise SkipFile()
        if end > len(self.buffer):
            self.buffer.extend(bytes(end - len(self.buffer)))
        self.buffer[self.length : end] = raw_data
        self.length = end
        self.digest.update(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        del self.buffer[self.length :]
        return UploadedFile(file=io.BytesIO(), name="evidence", content_type="application/octet-stream", size=0)

    def received(self) -> tuple[bytearray, str] | None:
        """The bytes as received and their SHA-256, or None when no file arrived."""
        if self.too_large or self.files_seen == 0 or self.length == 0:
            return None
        return self.buffer, self.digest.hexdigest()


# --- files --------------------------------------------------------------------------------


def _path(name: str) -> Path:
    # The name comes from the database; check it is one we made before touching the disk.
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError("not a stored evidence name")
    return Path(settings.MEDIA_ROOT) / name


def evidence_root() -> Path:
    return Path(settings.MEDIA_ROOT) / EVIDENCE_DIR


def _seal(data: bytes | bytearray, *, evidence_id: uuid.UUID, copy: str) -> bytes:
    # AES-GCM takes any bytes-like object: passing the buffer itself avoids one more copy.
    return crypto.encrypt(cast(bytes, data), table=Evidence._meta.db_table, column=copy, row=str(evidence_id))


def _write(data: bytes | bytearray, *, evidence_id: uuid.UUID, copy: str) -> str:
    suffix = "work" if copy == WORKING else "orig"
    name = f"{EVIDENCE_DIR}/{uuid.uuid4().hex}.{suffix}.enc"
    sealed = _seal(data, evidence_id=evidence_id, copy=copy)
    path = _path(name)
    write_private_file(path, sealed)
    return name


def delete_file(name: str) -> bool:
    """Remove a stored evidence file; False if there was none."""
    if not name:
        return False
    try:
        _path(name).unlink()
    except (FileNotFoundError, ValueError):
        return False
    return True


def read_copy(evidence: Evidence, copy: str) -> bytes:
    """The decrypted working copy or original. FileNotFoundError, DataLocked, TamperedCiphertext."""
    name = evidence.working_name if copy == WORKING else evidence.original_name
    if not name:
        raise FileNotFoundError("no such copy")
    sealed = _path(name).read_bytes()
    return crypto.decrypt(sealed, table=Evidence._meta.db_table, column=copy, row=str(evidence.pk))


# --- what a file is -------------------------------------------------------------------------


def sniff(data: bytes | bytearray) -> str:
    """EvidenceKind.PHOTO or VIDEO from the first bytes (never from the name or the browser's
    content type), or EvidenceRejected."""
    head = bytes(data[:16])
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return EvidenceKind.PHOTO
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return EvidenceKind.PHOTO
    if mp4.is_iso_bmff(data):
        return EvidenceKind.PHOTO if mp4.is_still_image(data) else EvidenceKind.VIDEO
    raise EvidenceRejected(WRONG_TYPE, status=415)


@dataclass(frozen=True)
class Working:
    data: bytes | bytearray
    kind: str
    content_type: str


def _working_copy(data: bytearray, kind: str, *, keep_original: bool, store_original: Any) -> Working:
    if kind == EvidenceKind.PHOTO:
        if len(data) > uploads.MAX_PHOTO_BYTES:
            raise EvidenceRejected(too_large_message(), status=413)
        try:
            clean = uploads.sanitize_photo(bytes(data))
        except uploads.PhotoRejected as rejected:
            if rejected.too_large:
                raise EvidenceRejected(too_large_message(), status=413) from None
            raise EvidenceRejected(WRONG_TYPE if rejected.message is uploads.NOT_AN_IMAGE else BROKEN) from None
        if keep_original:
            store_original(data)
        return Working(clean, EvidenceKind.PHOTO, "image/jpeg")
    try:
        mp4.check(data)
    except mp4.NotIsoBmff:
        raise EvidenceRejected(WRONG_TYPE, status=415) from None
    except mp4.BrokenVideo:
        raise EvidenceRejected(BROKEN) from None
    if keep_original:
        # Written before the buffer is cleaned in place: the original is the bytes received.
        store_original(data)
    mp4.clean(data)
    return Working(data, EvidenceKind.VIDEO, mp4.content_type(data))


# --- who may do what ------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _valid_id(incident_id: int) -> bool:
    return isinstance(incident_id, int) and 0 < incident_id <= _MAX_BIGINT


def _responder_assigned(user: Any, incident: Incident) -> bool:
    responder = getattr(user, "responder", None) if getattr(user, "role", None) == Role.VOLUNTEER else None
    if responder is None or responder.status != ResponderStatus.APPROVED or responder.chapter_id != incident.chapter_id:
        return False
    since = timezone.now() - UPLOAD_GRACE
    return Assignment.objects.filter(incident=incident, responder=responder).exclude(ended_at__lt=since).exists()


def access_incident_for_upload(user: Any, incident_id: int) -> Incident:
    """The incident this user may send evidence for, or Http404 (missing or not theirs)."""
    if not _active(user) or not _valid_id(incident_id):
        raise Http404
    incident = Incident.objects.select_related("chapter").filter(pk=incident_id).first()
    if incident is None:
        raise Http404
    if user.role in UPLOADER_ROLES and incident.chapter_id in user.chapter_ids():
        return incident
    if _responder_assigned(user, incident):
        return incident
    raise Http404


def access_incident_for_evidence(user: Any, incident_id: int) -> Incident:
    """An incident whose evidence list this staff member may read, or Http404."""
    if not _active(user) or not _valid_id(incident_id) or user.role not in VIEWER_ROLES:
        raise Http404
    incident = Incident.objects.filter(pk=incident_id, chapter_id__in=user.chapter_ids()).first()
    if incident is None:
        raise Http404
    return incident


def access_evidence_by_id(user: Any, evidence_id: uuid.UUID, *, staff: bool = True) -> Evidence:
    """A piece of evidence this user may see (the working copy), or Http404.

    Staff pages (`staff=True`): the chapter's viewer roles. The volunteer's own pages
    (`staff=False`): only what that user uploaded, for an incident of their chapter.
    """
    if not _active(user):
        raise Http404
    queryset = Evidence.objects.select_related("incident", "uploaded_by")
    if staff:
        if user.role not in VIEWER_ROLES:
            raise Http404
        evidence = queryset.filter(pk=evidence_id, incident__chapter_id__in=user.chapter_ids()).first()
    else:
        evidence = queryset.filter(pk=evidence_id, uploaded_by=user).first()
    if evidence is None:
        raise Http404
    return evidence


def may_see_original(user: Any, evidence: Evidence) -> bool:
    return (
        _active(user)
        and user.role in ORIGINAL_ROLES
        and evidence.incident.chapter_id in user.chapter_ids()
        and bool(evidence.original_name)
    )


def may_export(user: Any, evidence: Evidence) -> bool:
    return _active(user) and user.role in ORIGINAL_ROLES and evidence.incident.chapter_id in user.chapter_ids()


# --- actions --------------------------------------------------------------------------------


def _custody(evidence: Evidence, actor: User, action: str, sha256: str) -> CustodyEntry:
    return CustodyEntry.objects.create(
        evidence=evidence,
        evidence_ref=evidence.pk,
        at=timezone.now(),
        actor=actor,
        actor_label=actor.get_username()[:150],
        action=action,
        sha256=sha256,
    )


def store_evidence(incident: Incident, data: bytearray, sha256: str, *, caption: str, acting_user: User) -> Evidence:
    """Check, clean, encrypt and record one upload; EvidenceRejected leaves nothing behind.

    `data` is the buffer as received (a video is cleaned in it, in place) and `sha256` its
    hash computed while it streamed in.
    """
    if not data:
        raise EvidenceRejected(NO_FILE)
    if len(data) > max_bytes():
        raise EvidenceRejected(too_large_message(), status=413)
    caption = caption.strip()
    if len(caption) > MAX_CAPTION:
        raise EvidenceRejected(CAPTION_TOO_LONG)
    kind = sniff(data)
    size = len(data)
    evidence_id = uuid.uuid4()
    keep = bool(settings.EVIDENCE_KEEP_ORIGINALS)
    written: list[str] = []

    def store_original(original: bytes | bytearray) -> None:
        written.append(_write(original, evidence_id=evidence_id, copy=ORIGINAL))

    try:
        working = _working_copy(data, kind, keep_original=keep, store_original=store_original)
        working_sha256 = hashlib.sha256(working.data).hexdigest()
        working_name = _write(working.data, evidence_id=evidence_id, copy=WORKING)
        written.append(working_name)
        with transaction.atomic(durable=True):
            evidence = Evidence.objects.create(
                id=evidence_id,
                incident=incident,
                uploaded_by=acting_user,
                uploaded_at=timezone.now(),
                kind=working.kind,
                content_type=working.content_type,
                size=size,
                sha256=sha256,
                working_sha256=working_sha256,
                working_name=working_name,
                original_name=written[0] if keep else "",
                caption=caption,
            )
            _custody(evidence, acting_user, CustodyAction.UPLOAD, sha256)
            audit(acting_user, "evidence.upload", evidence, chapter=incident.chapter)
    except BaseException:
        for name in written:
            delete_file(name)
        raise
    return evidence


def open_copy(evidence: Evidence, *, acting_user: User, original: bool = False) -> bytes:
    """Decrypt a copy for display and record who saw it (custody + audit, one transaction)."""
    copy = ORIGINAL if original else WORKING
    data = read_copy(evidence, copy)
    with transaction.atomic(durable=True):
        if original:
            _custody(evidence, acting_user, CustodyAction.VIEW_ORIGINAL, evidence.sha256)
            audit(acting_user, "evidence.view_original", evidence, chapter=evidence.incident.chapter)
        else:
            _custody(evidence, acting_user, CustodyAction.VIEW, evidence.working_sha256)
            audit(acting_user, "evidence.view", evidence, chapter=evidence.incident.chapter)
    return data


def read_custody(evidence: Evidence, *, acting_user: User) -> list[CustodyEntry]:
    """The chain of custody of one piece of evidence (the read is audited)."""
    with transaction.atomic(durable=True):
        audit(acting_user, "evidence.custody_read", evidence, chapter=evidence.incident.chapter)
    return list(CustodyEntry.objects.filter(evidence_ref=evidence.pk).order_by("at", "id"))


def list_for_incident(incident: Incident, *, acting_user: User) -> list[Evidence]:
    with transaction.atomic(durable=True):
        audit(acting_user, "evidence.list", incident, chapter=incident.chapter)
    return list(Evidence.objects.filter(incident=incident).select_related("uploaded_by").order_by("-uploaded_at"))


def own_uploads(user: User, incident: Incident) -> list[Evidence]:
    return list(Evidence.objects.filter(incident=incident, uploaded_by=user).order_by("-uploaded_at"))


# --- export ---------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """E3: a spreadsheet must not run a cell as a formula."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def custody_csv(evidence: Evidence, entries: list[CustodyEntry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["evidence", "kind", "size", "sha256_received", "sha256_working"])
    writer.writerow(
        [
            neutralise(str(evidence.pk)),
            neutralise(evidence.kind),
            str(evidence.size),
            neutralise(evidence.sha256),
            neutralise(evidence.working_sha256),
        ]
    )
    writer.writerow([])
    writer.writerow(["at", "action", "actor", "sha256"])
    for entry in entries:
        writer.writerow(
            [
                neutralise(entry.at.isoformat()),
                neutralise(entry.action),
                neutralise(entry.actor_label),
                neutralise(entry.sha256),
            ]
        )
    return out.getvalue().encode("utf-8")


def _extension(evidence: Evidence, data: bytes) -> str:
    if evidence.kind == EvidenceKind.VIDEO:
        return "mov" if mp4.content_type(data) == "video/quicktime" else "mp4"
    head = data[:16]
    if head.startswith(b"\x89PNG"):
        return "png"
    if head[:4] == b"RIFF":
        return "webp"
    if mp4.is_iso_bmff(head):
        return "heic"
    return "jpg"


def export_name(evidence: Evidence) -> str:
    return f"evidence-{evidence.pk}.zip"


def export(evidence: Evidence, *, acting_user: User) -> Iterator[bytes]:
    """Record the export, then stream a zip: the working copy, the original (if kept) and
    custody.csv (which already lists this export). One decrypted file in memory at a time."""
    # Fail before recording anything if a file is missing.
    for name in filter(None, (evidence.working_name, evidence.original_name)):
        if not _path(name).is_file():
            raise FileNotFoundError("an evidence file is missing")
    with transaction.atomic(durable=True):
        _custody(evidence, acting_user, CustodyAction.EXPORT, evidence.sha256)
        audit(acting_user, "evidence.export", evidence, chapter=evidence.incident.chapter)
    entries = list(CustodyEntry.objects.filter(evidence_ref=evidence.pk).order_by("at", "id"))
    sheet = custody_csv(evidence, entries)
    return _zip_stream(evidence, sheet)


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable sink whose contents are taken as they come."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        return len(chunk)

    def take(self) -> list[bytes]:
        chunks, self.chunks = self.chunks, []
        return chunks


def _zip_stream(evidence: Evidence, sheet: bytes) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        working = read_copy(evidence, WORKING)
        archive.writestr(f"working.{_extension(evidence, working)}", working)
        del working
        yield from pipe.take()
        if evidence.original_name:
            original = read_copy(evidence, ORIGINAL)
            archive.writestr(f"original.{_extension(evidence, original)}", original)
            del original
            yield from pipe.take()
        archive.writestr("custody.csv", sheet)
        yield from pipe.take()
    yield from pipe.take()
