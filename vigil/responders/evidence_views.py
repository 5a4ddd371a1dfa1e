"""Evidence pages: the volunteer's upload page (/r/evidence/) and the staff pages
(/staff/evidence/). Every read of a file writes a custody entry; see vigil.responders.evidence.

Staff pages answer 404 for another chapter's evidence and for roles that have no business
there (volunteers included); a staff member who may see a piece of evidence but not its
original (or its export) gets 403 for those.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigil.accounts.models import User
from vigil.core import crypto
from vigil.incidents.models import Incident
from vigil.responders import evidence as ev
from vigil.responders.models import Evidence, EvidenceKind

CHUNK = 1024 * 1024
MOBILE_BASE = "responders/mobile_base.html"
STAFF_BASE = "staff_base.html"
# A file opened on its own is a sandboxed document: nothing in it can run or be framed.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _unavailable(request: HttpRequest, *, base: str, locked: bool) -> HttpResponse:
    # A3/A6: no key, or a file that fails its integrity check: say so, never a 500.
    message = (
        _("This file is locked: the data key is not loaded on this server.")
        if locked
        else _("This file failed its integrity check and cannot be shown. Tell an admin.")
    )
    return render(
        request,
        "responders/evidence/unavailable.html",
        {"base": base, "message": message},
        status=503 if locked else 409,
    )


def _file_response(evidence: Evidence, data: bytes, *, original: bool) -> HttpResponseBase:
    def chunks() -> Iterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])

    if original:
        content_type, suffix = "application/octet-stream", "original"
    else:
        content_type = evidence.content_type
        suffix = {"image/jpeg": "jpg", "video/quicktime": "mov"}.get(content_type, "mp4")
    response = StreamingHttpResponse(chunks(), content_type=content_type)
    response["Content-Length"] = str(len(data))
    disposition = "attachment" if original else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="evidence-{evidence.pk}.{suffix}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def _serve(request: HttpRequest, evidence: Evidence, *, base: str, original: bool = False) -> HttpResponseBase:
    try:
        data = ev.open_copy(evidence, acting_user=_user(request), original=original)
    except crypto.DataLocked:
        return _unavailable(request, base=base, locked=True)
    except (crypto.TamperedCiphertext, FileNotFoundError, ValueError):
        return _unavailable(request, base=base, locked=False)
    return _file_response(evidence, data, original=original)


# --- the volunteer's pages (/r/evidence/) ---------------------------------------------------


def _upload_page(
    request: HttpRequest, incident: Incident, *, error: str = "", caption: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "incident": incident,
        "uploads": ev.own_uploads(_user(request), incident),
        "error": error,
        "caption": caption,
        "max_mb": ev.max_bytes() // (1024 * 1024),
        "accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,video/mp4,video/quicktime",
    }
    return render(request, "responders/evidence/upload.html", context, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@login_required
def evidence_upload(request: HttpRequest, incident_id: int) -> HttpResponse:
    # Who may send comes first: nobody else's upload is ever read into memory.
    incident = ev.access_incident_for_upload(request.user, incident_id)
    if request.method != "POST":
        return _upload_page(request, incident)
    # Upload handlers can only be swapped before the body is parsed, hence the CSRF check
    # runs inside (csrf_protect) rather than in the middleware.
    handler = ev.EvidenceUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        return _receive(request, incident, handler)
    except RequestDataTooBig:
        return _upload_page(request, incident, error=ev.too_large_message(), status=413)
    except (SuspiciousOperation, BadRequest, MultiPartParserError):
        return _upload_page(request, incident, error=str(ev.BROKEN), status=400)


@csrf_protect
def _receive(request: HttpRequest, incident: Incident, handler: ev.EvidenceUploadHandler) -> HttpResponse:
    caption = str(request.POST.get("caption", ""))
    if handler.too_large:
        return _upload_page(request, incident, error=ev.too_large_message(), caption=caption, status=413)
    received = handler.received()
    if received is None:
        return _upload_page(request, incident, error=str(ev.NO_FILE), caption=caption, status=400)
    data, sha256 = received
    handler.buffer = bytearray()  # the only reference left is `data`
    try:
        evidence = ev.store_evidence(incident, data, sha256, caption=caption, acting_user=_user(request))
    except ev.EvidenceRejected as rejected:
        return _upload_page(request, incident, error=str(rejected.message), caption=caption, status=rejected.status)
    except crypto.DataLocked:
        return _upload_page(
            request, incident, error=_("Uploads are switched off: the data key is not loaded."), status=503
        )
    del data
    sent = _("Photo received. Thank you.") if evidence.kind == EvidenceKind.PHOTO else _("Video received. Thank you.")
    messages.success(request, sent)
    return redirect("evidence_upload", incident_id=incident.pk)


@require_GET
@login_required
def evidence_own_file(request: HttpRequest, evidence_id: uuid.UUID) -> HttpResponseBase:
    """The working copy of something this user uploaded (volunteers have no staff pages)."""
    evidence = ev.access_evidence_by_id(request.user, evidence_id, staff=False)
    return _serve(request, evidence, base=MOBILE_BASE)


# --- staff pages (/staff/evidence/) ---------------------------------------------------------


@require_GET
@login_required
def evidence_list(request: HttpRequest, incident_id: int) -> HttpResponse:
    user = _user(request)
    incident = ev.access_incident_for_evidence(user, incident_id)
    items = ev.list_for_incident(incident, acting_user=user)
    context = {
        "incident": incident,
        "items": items,
        "may_original": user.role in ev.ORIGINAL_ROLES,
        "may_export": user.role in ev.ORIGINAL_ROLES,
        "partial": request.headers.get("HX-Request") == "true",
    }
    return render(request, "responders/evidence/list.html", context)


@require_GET
@login_required
def evidence_file(request: HttpRequest, evidence_id: uuid.UUID) -> HttpResponseBase:
    evidence = ev.access_evidence_by_id(request.user, evidence_id)
    return _serve(request, evidence, base=STAFF_BASE)


@require_GET
@login_required
def evidence_original(request: HttpRequest, evidence_id: uuid.UUID) -> HttpResponseBase:
    user = _user(request)
    evidence = ev.access_evidence_by_id(user, evidence_id)
    if user.role not in ev.ORIGINAL_ROLES:
        raise PermissionDenied
    if not ev.may_see_original(user, evidence):
        return _unavailable_original(request)
    return _serve(request, evidence, base=STAFF_BASE, original=True)


def _unavailable_original(request: HttpRequest) -> HttpResponse:
    message = _("The network does not keep originals, so only the working copy exists.")
    return render(request, "responders/evidence/unavailable.html", {"base": STAFF_BASE, "message": message}, status=404)


@reauthentication_required
def _export(request: HttpRequest, evidence: Evidence) -> HttpResponseBase:
    try:
        stream = ev.export(evidence, acting_user=_user(request))
    except crypto.DataLocked:
        return _unavailable(request, base=STAFF_BASE, locked=True)
    except (FileNotFoundError, ValueError):
        return _unavailable(request, base=STAFF_BASE, locked=False)
    response = StreamingHttpResponse(_guarded(stream), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{ev.export_name(evidence)}"'
    response["Cache-Control"] = "no-store"
    return response


def _guarded(stream: Iterator[bytes]) -> Iterator[bytes]:
    # Once streaming has begun a status cannot change; a file failing mid-way ends the zip
    # early (its central directory missing), which any unzip tool reports as damaged.
    try:
        yield from stream
    except (crypto.DataLocked, crypto.TamperedCiphertext, FileNotFoundError):
        return


@require_POST
@login_required
def evidence_export(request: HttpRequest, evidence_id: uuid.UUID) -> HttpResponseBase:
    """A zip with the working copy, the original (if kept) and custody.csv. C14: needs a recent
    re-authentication (checked after access, so nobody else learns anything by the redirect)."""
    user = _user(request)
    evidence = ev.access_evidence_by_id(user, evidence_id)
    if not ev.may_export(user, evidence):
        raise PermissionDenied
    return _export(request, evidence)


@require_GET
@login_required
def evidence_custody(request: HttpRequest, evidence_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    evidence = ev.access_evidence_by_id(user, evidence_id)
    entries = ev.read_custody(evidence, acting_user=user)
    context = {
        "evidence": evidence,
        "entries": entries,
        "may_original": ev.may_see_original(user, evidence),
        "may_export": ev.may_export(user, evidence),
    }
    return render(request, "responders/evidence/custody.html", context)
