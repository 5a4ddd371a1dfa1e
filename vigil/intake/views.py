"""The public report form. No account, no JavaScript needed, no IP address kept.

Every rejection re-renders the form with the person's answers and a message in their
language: 400 for input we cannot accept, 413 for a request or photo that is too large, 429
when one source has sent too many reports this hour. Nothing is stored unless everything
passed.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from vigil.core import ratelimit
from vigil.core.http import client_ip
from vigil.intake import pow, uploads
from vigil.intake.actions import ReportInput, store_report
from vigil.intake.forms import ReportForm
from vigil.intake.models import Agency, Channel, Kind, Report

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

HOUR = timedelta(hours=1)
CHECK_FORM = _("Some answers need another look. Nothing was saved yet.")
UNREADABLE = _("We could not read what your browser sent. Nothing was saved. Please fill in the form again.")
TOO_BIG = _("What you sent is too large. Nothing was saved. A photo can be at most 10 MB.")
TOO_MANY = _(
    "Too many reports have come from your connection in the last hour. Nothing was saved. "
    "If this is urgent, call or text the hotline."
)
PHOTO_AGAIN = _("Please choose the photo again.")


def nojs_limit() -> int:
    return max(1, settings.INTAKE_RATE_PER_HOUR // 3)


def _render_form(
    request: HttpRequest, form: ReportForm, *, status: int = 200, notice: StrPromise | str | None = None
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "notice": notice,
        "pow_bits": pow.bits_of(str(form["pow_token"].value() or "")),
        "location_added": form.is_bound and bool(form.data.get("latitude")) and bool(form.data.get("longitude")),
    }
    return render(request, "intake/report_form.html", context, status=status)


def _fresh_form() -> ReportForm:
    return ReportForm(initial={"pow_token": pow.issue_token(), "agency": Agency.UNKNOWN})


def _renew_token(form: ReportForm) -> None:
    data = QueryDict(mutable=True)
    data.update(form.data)
    data["pow_token"] = pow.issue_token()
    data["pow_answer"] = ""
    form.data = data


@require_safe
def report_form(request: HttpRequest) -> HttpResponse:
    return _render_form(request, _fresh_form())


@require_safe
def report_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/thanks.html", {"report": None})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def report_submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseRedirect(reverse("report_form"))
    # Upload handlers can only be swapped before the body is parsed, hence the CSRF check
    # runs inside (csrf_protect) rather than in the middleware. A parse failure surfaces here.
    handler = uploads.PhotoUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        return _submit(request, handler)
    except RequestDataTooBig:
        return _render_form(request, _fresh_form(), status=413, notice=TOO_BIG)
    except (SuspiciousOperation, BadRequest, MultiPartParserError):
        return _render_form(request, _fresh_form(), status=400, notice=UNREADABLE)


@csrf_protect
def _submit(request: HttpRequest, handler: uploads.PhotoUploadHandler) -> HttpResponse:
    form = ReportForm(request.POST, request.FILES)
    valid = form.is_valid()
    if handler.too_large:
        form.add_error("photo", uploads.TOO_LARGE)
        valid = False
    status = 413 if handler.too_large or form.photo_too_large else 400
    if not valid and form.files.get("photo") and "photo" not in form.errors:
        form.add_error("photo", PHOTO_AGAIN)

    # Cheapest checks first: the signature and hash cost microseconds and touch no table.
    token = str(form.data.get("pow_token", ""))
    answer = str(form.data.get("pow_answer", ""))
    try:
        ticket = pow.check(token, answer, nojs=form.data.get("nojs") == "1")
    except pow.PowRejected as rejected:
        form.add_error(None, rejected.message)
        if rejected.renew:
            _renew_token(form)
        return _render_form(request, form, status=status, notice=None if valid else CHECK_FORM)
    if not valid:
        return _render_form(request, form, status=status, notice=CHECK_FORM)

    source = client_ip(request)
    # One transaction (one fsync) for the count, the spent token and the report: commits
    # are what bound intake throughput on SQLite with synchronous=FULL.
    with transaction.atomic(durable=True):
        allowed = (
            not ticket.nojs or ratelimit.hit(source, purpose="web-report-nojs", limit=nojs_limit(), window=HOUR)
        ) and ratelimit.hit(source, purpose="web-report", limit=settings.INTAKE_RATE_PER_HOUR, window=HOUR)
        if not allowed:
            return _render_form(request, form, status=429, notice=TOO_MANY)

        # Decoding a photo is the expensive step, so it runs only within the hourly allowance.
        photo: bytes | None = None
        if upload := form.cleaned_data.get("photo"):
            try:
                photo = uploads.sanitize_photo(upload.read(uploads.MAX_PHOTO_BYTES + 1))
            except uploads.PhotoRejected as rejected:
                form.add_error("photo", rejected.message)
                return _render_form(request, form, status=413 if rejected.too_large else 400, notice=CHECK_FORM)

        try:
            pow.spend(ticket)
        except pow.PowRejected as rejected:
            form.add_error(None, rejected.message)
            _renew_token(form)
            return _render_form(request, form, status=400)

        report = _store(form.cleaned_data, photo, source=source)
    return render(request, "intake/thanks.html", {"report": report})


def _store(data: dict[str, Any], photo: bytes | None, *, source: str) -> Report:
    report_id = uuid.uuid4()
    photo_name = uploads.store_photo(photo, report_id=report_id) if photo else ""
    try:
        return store_report(
            ReportInput(
                channel=Channel.WEB,
                report_id=report_id,
                kind=data["kind"] or Kind.OTHER,
                details=data["details"],
                address=data["address"],
                zip_code=data["zip_code"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                observed_at=data["observed_at"] or timezone.now(),
                agents_count=data["agents_count"],
                vehicles_count=data["vehicles_count"],
                agency=data["agency"] or Agency.UNKNOWN,
                language=(get_language() or "en")[:2],
                contact_phone=data["contact_phone"],
                photo_name=photo_name,
                source=source,
            )
        )
    except BaseException:
        uploads.delete_photo(photo_name)
        raise
