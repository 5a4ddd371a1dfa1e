"""Case exports (request, admin queue, approve/refuse, download), closing and reopening, and
the staff page of a case's pressure campaign.

Every object route answers 404 for a case (or export) of another chapter, an unassigned case
or a made-up id (SECURITY-TESTS.md D2), before anything else is checked, the re-authentication
redirect included: nobody learns that something exists from being asked for a password.
Someone who can see the case but lacks the role for an action (an assigned dispatcher closing
it) gets 404 too: every case route answers 404, never 403; approving one's own export, on the
export queue, is the one 403. Exports, their approval and their download need a recent
re-authentication (C14).
"""

from __future__ import annotations

import uuid
from typing import Any

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigil.accounts.models import Role, User
from vigil.cases import access, campaigns, closing, exports
from vigil.cases.closing import ClosingError
from vigil.cases.closing_forms import CampaignForm, CampaignUpdateForm, CloseForm, ConsentForm, ExportForm
from vigil.cases.models import Campaign, Case, ExportFormat, ExportRequest
from vigil.core.audit import audit


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


@reauthentication_required
def _recently_authenticated(request: HttpRequest) -> None:
    """Raises allauth's ReauthenticationRequired for a stale session: its middleware sends the
    user to re-enter their password and then replays this request (a POST included)."""
    return None


def _require_recent_login(request: HttpRequest) -> None:
    _recently_authenticated(request)


def _problem(request: HttpRequest, case: Case | None, message: str, status: int = 400) -> HttpResponse:
    return render(request, "cases/exports/problem.html", {"case": case, "message": message}, status=status)


# --- exports ------------------------------------------------------------------------------


@require_POST
@login_required
def case_export_request(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if not closing.may_export(user, case):
        raise Http404
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _problem(request, case, _("Choose PDF or CSV."))
    _require_recent_login(request)
    now = timezone.now()
    try:
        export = closing.request_export(case, export_format=form.cleaned_data["format"], acting_user=user, now=now)
    except ClosingError as problem:
        return _problem(request, case, problem.message)
    if export.approved_at is not None:
        return redirect("case_export_download", export_id=export.pk)
    messages.info(request, _("Your export waits for a second admin's approval. Its download link will be here."))
    return redirect(reverse("case_detail", args=[case.pk]) + "#closing")


@require_GET
@login_required
def case_export_download(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    """Only the requester, once, within VIGIL_CASE_EXPORT_HOURS of approval; else 404."""
    user = _user(request)
    export = ExportRequest.objects.filter(pk=export_id, requested_by=user).first()
    if export is None:
        raise Http404
    case = access.case_for(user, export.case_id)
    now = timezone.now()
    if not closing.downloadable(user, now).filter(pk=export.pk).exists():
        raise Http404
    _require_recent_login(request)
    if exports.is_locked(case):
        return _problem(request, case, _("The data key is not loaded, so this case cannot be exported now."), 503)
    with transaction.atomic(durable=True):
        if not closing.claim_download(export, acting_user=user, now=now):
            raise Http404
        access.note_read(user, case, "case.export")
        audit(user, "case.export_download", case)
        if export.format == ExportFormat.PDF:
            body = exports.build_pdf(case, generated_by=user.get_username(), now=now)
            content_type, extension = "application/pdf", "pdf"
        else:
            body = exports.build_csv(case, generated_by=user.get_username(), now=now)
            content_type, extension = "text/csv; charset=utf-8", "csv"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(case, extension)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _admin(request: HttpRequest) -> User:
    user = _user(request)
    if user.role != Role.ADMIN or not user.chapter_ids():
        raise Http404
    return user


@require_GET
@login_required
def export_queue(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    pending = list(closing.pending_for_admin(user)[:200])
    return render(
        request,
        "cases/exports/queue.html",
        {"pending": pending, "approval_on": settings.CASE_EXPORT_APPROVAL},
    )


@require_POST
@login_required
def export_approve(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    user = _admin(request)
    export = closing.export_for_admin(user, export_id)
    if export.requested_by_id == user.pk:
        return _problem(request, None, _("Another admin must approve an export you asked for."), 403)
    _require_recent_login(request)
    try:
        closing.approve_export(export, acting_user=user, now=timezone.now())
    except ClosingError as problem:
        return _problem(request, None, problem.message)
    messages.success(request, _("Export of %(label)s approved.") % {"label": export.case.label})
    return redirect("export_queue")


@require_POST
@login_required
def export_refuse(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    user = _admin(request)
    export = closing.export_for_admin(user, export_id)
    try:
        closing.refuse_export(export, acting_user=user, now=timezone.now())
    except ClosingError as problem:
        return _problem(request, None, problem.message)
    messages.success(request, _("Export of %(label)s refused.") % {"label": export.case.label})
    return redirect("export_queue")


# --- closing ------------------------------------------------------------------------------


@require_POST
@login_required
def case_close(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """POST action=close with an outcome, or action=reopen (legal only)."""
    user = _user(request)
    case = access.case_for(user, case_id)
    if not access.is_legal(user):
        raise Http404  # 404 on every case route (D2), even for staff who see this case
    form = CloseForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return _problem(request, case, " ".join(errors) or _("Choose how the case ended."))
    now = timezone.now()
    try:
        if form.cleaned_data["action"] == "reopen":
            closing.reopen_case(case.pk, acting_user=user, now=now)
            messages.success(request, _("The case is open again."))
        else:
            closing.close_case(case.pk, outcome=form.cleaned_data["outcome"], acting_user=user, now=now)
            messages.success(request, _("The case is closed. It will be shredded after the retention period."))
    except ClosingError as problem:
        return _problem(request, case, problem.message)
    return redirect(reverse("case_detail", args=[case.pk]) + "#closing")


# --- campaign (staff) ---------------------------------------------------------------------


def _campaign_of(case: Case) -> Campaign | None:
    campaign = Campaign.objects.filter(case=case).first()
    if campaign is not None:
        campaign.case = case  # its texts open with the case key
    return campaign


def _campaign_page(
    request: HttpRequest,
    case: Case,
    *,
    consent_form: ConsentForm | None = None,
    form: CampaignForm | None = None,
    update_form: CampaignUpdateForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    campaign = _campaign_of(case)
    if form is None:
        initial: dict[str, Any] = {}
        if campaign is not None and not campaigns.is_locked(campaign):
            initial = {
                name: str(getattr(campaign, name) or "")
                for name in ("title", "story", "call_script", "officials", "petition")
            }
        form = CampaignForm(initial=initial)
    counts = {"signatures": 0, "updates": 0}
    if campaign is not None:
        counts["signatures"] = campaign.signatures.count()
        counts["updates"] = campaign.signatures.filter(email_endpoint__isnull=False).count()
    context = {
        "case": case,
        "campaign": campaign,
        "has_consent": campaigns.has_consent(campaign),
        "locked": campaign is not None and campaigns.is_locked(campaign),
        "consent_form": consent_form or ConsentForm(),
        "form": form,
        "error": error,
        "counts": counts,
        "update_form": update_form or CampaignUpdateForm(),
        "updates": campaigns.updates_of(campaign) if campaign is not None and not campaigns.is_locked(campaign) else [],
        "public_url": request.build_absolute_uri(reverse("campaign_page", args=[campaign.slug])) if campaign else "",
        "officials": campaigns.officials(str(campaign.officials or "")) if campaign else [],
    }
    return render(request, "cases/campaign/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def case_campaign(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Consent first, then the texts, then publish/unpublish (legal only)."""
    user = _user(request)
    with transaction.atomic():
        case = access.case_for(user, case_id)
        if not access.is_legal(user):
            raise Http404
        access.note_read(user, case)
    if request.method == "GET":
        return _campaign_page(request, case)
    action = request.POST.get("action", "")
    now = timezone.now()
    try:
        if action == "consent":
            consent_form = ConsentForm(request.POST)
            if not consent_form.is_valid():
                return _campaign_page(
                    request, case, consent_form=consent_form, error=_("Please correct the form."), status=400
                )
            data = consent_form.cleaned_data
            campaigns.record_consent(case, given_by=data["given_by"], scope=data["scope"], acting_user=user, now=now)
            messages.success(request, _("Consent recorded."))
        elif action == "withdraw":
            campaigns.withdraw_consent(case, acting_user=user, now=now)
            messages.success(request, _("Consent withdrawn: the page is no longer public."))
        elif action == "save":
            form = CampaignForm(request.POST)
            if not form.is_valid():
                return _campaign_page(request, case, form=form, error=_("Please correct the form."), status=400)
            campaigns.save_texts(case, form.texts(), acting_user=user)
            messages.success(request, _("Campaign saved."))
        elif action == "publish":
            campaigns.publish(case, acting_user=user, now=now)
            messages.success(request, _("The campaign page is public."))
        elif action == "unpublish":
            campaigns.unpublish(case, acting_user=user, now=now)
            messages.success(request, _("The campaign page is no longer public."))
        elif action == "post_update":
            update_form = CampaignUpdateForm(request.POST)
            if not update_form.is_valid():
                return _campaign_page(
                    request, case, update_form=update_form, error=_("Please correct the form."), status=400
                )
            update = campaigns.post_update(case, update_form.cleaned_data["body"], acting_user=user, now=now)
            messages.success(
                request,
                ngettext(
                    "Update posted and emailed to %(n)s supporter.",
                    "Update posted and emailed to %(n)s supporters.",
                    update.emailed,
                )
                % {"n": update.emailed},
            )
        else:
            return _campaign_page(request, case, error=_("Unknown action."), status=400)
    except ClosingError as problem:
        return _campaign_page(request, case, error=problem.message, status=400)
    return redirect("case_campaign", case_id=case.pk)
