"""The end of a case: exports for the attorney, closing (and reopening), and what the case
page shows about both.

Exports (SECURITY-TESTS.md C14, E3): asked for by the legal role or a user assigned to the
case, after a recent re-authentication. With VIGIL_CASE_EXPORT_APPROVAL on, an admin of the
case's chapter other than the requester approves (or refuses) it first; otherwise the request
approves itself. Only the requester may download it, once, within VIGIL_CASE_EXPORT_HOURS of
the approval: the download claims the request with one conditional UPDATE, so two clicks can
never both get the file. Every step is audited in its own transaction; the download is also a
read of the whole case ("case.export").

Closing (legal only): an outcome, `shred_after` = now + VIGIL_CASE_RETENTION_DAYS, and any
public campaign comes down. A closed case is read-only (views check `case.is_open`) until the
retention job crypto-shreds it (vigil.cases.retention); legal may reopen it before then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vigil.accounts.models import Role
from vigil.cases import access
from vigil.cases.models import Campaign, Case, CaseStatus, ExportRequest, Outcome
from vigil.core.audit import audit


class ClosingError(Exception):
    """Something the user can fix or must know; `message` is shown as is (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- exports ------------------------------------------------------------------------------


def export_window() -> timedelta:
    return timedelta(hours=settings.CASE_EXPORT_HOURS)


def may_export(user: Any, case: Case) -> bool:
    """The legal role, or anyone assigned who can see the case (case_for already checked
    that), while there is still something to export."""
    return case.status != CaseStatus.SHREDDED and access.may_use_cases(user)


def is_chapter_admin(user: Any, chapter_id: int) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "role", None) == Role.ADMIN
        and chapter_id in user.chapter_ids()
    )


def downloadable(user: Any, now: datetime) -> QuerySet[ExportRequest]:
    """This user's exports that are approved, not refused, not yet downloaded and in time."""
    return ExportRequest.objects.filter(
        requested_by=user,
        approved_at__isnull=False,
        approved_at__gt=now - export_window(),
        refused_at__isnull=True,
        downloaded_at__isnull=True,
    )


@transaction.atomic(durable=True)
def request_export(case: Case, *, export_format: str, acting_user: Any, now: datetime) -> ExportRequest:
    if case.status == CaseStatus.SHREDDED:
        raise ClosingError(_("This case was shredded: there is nothing left to export."))
    export = ExportRequest(case=case, format=export_format, requested_by=acting_user, requested_at=now)
    if not settings.CASE_EXPORT_APPROVAL:
        export.approved_by = acting_user
        export.approved_at = now
    export.save(force_insert=True)
    audit(acting_user, "case.export_request", case)
    return export


def pending_for_admin(user: Any) -> QuerySet[ExportRequest]:
    """Exports waiting for an admin of their case's chapter."""
    return (
        ExportRequest.objects.filter(
            case__chapter_id__in=user.chapter_ids(), approved_at__isnull=True, refused_at__isnull=True
        )
        .select_related("case", "requested_by")
        .order_by("requested_at")
    )


def export_for_admin(user: Any, export_id: Any) -> ExportRequest:
    """An export of a case in this admin's chapters, else 404 (whatever the reason)."""
    found = (
        ExportRequest.objects.filter(pk=export_id, case__chapter_id__in=user.chapter_ids())
        .select_related("case", "case__chapter")
        .first()
    )
    if found is None or not is_chapter_admin(user, found.case.chapter_id):
        raise Http404
    return found


@transaction.atomic(durable=True)
def approve_export(export: ExportRequest, *, acting_user: Any, now: datetime) -> None:
    if export.requested_by_id == acting_user.pk:
        raise ClosingError(_("Another admin must approve an export you asked for."))
    decided = ExportRequest.objects.filter(pk=export.pk, approved_at__isnull=True, refused_at__isnull=True).update(
        approved_by=acting_user, approved_at=now
    )
    if not decided:
        raise ClosingError(_("This export was already approved or refused."))
    audit(acting_user, "case.export_approve", export.case)


@transaction.atomic(durable=True)
def refuse_export(export: ExportRequest, *, acting_user: Any, now: datetime) -> None:
    decided = ExportRequest.objects.filter(pk=export.pk, approved_at__isnull=True, refused_at__isnull=True).update(
        refused_at=now
    )
    if not decided:
        raise ClosingError(_("This export was already approved or refused."))
    audit(acting_user, "case.export_refuse", export.case)


def claim_download(export: ExportRequest, *, acting_user: Any, now: datetime) -> bool:
    """Mark the export downloaded, in the caller's transaction; False if it is not (or no
    longer) downloadable. One conditional UPDATE: exactly one of two racing clicks wins."""
    return bool(downloadable(acting_user, now).filter(pk=export.pk).update(downloaded_at=now))


# --- closing ------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def close_case(case_id: Any, *, outcome: str, acting_user: Any, now: datetime) -> Case:
    if outcome not in Outcome.values:
        raise ClosingError(_("Choose how the case ended."))
    case = access.case_for(acting_user, case_id, for_update=True)
    if not case.is_open:
        raise ClosingError(_("This case is already closed."))
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = now
    case.closed_by = acting_user
    case.shred_after = now + timedelta(days=settings.CASE_RETENTION_DAYS)
    case.save(update_fields=["status", "outcome", "closed_at", "closed_by", "shred_after"])
    # A closed case has no public page.
    Campaign.objects.filter(case=case, published_at__isnull=False, unpublished_at__isnull=True).update(
        unpublished_at=now
    )
    audit(acting_user, "case.close", case)
    return case


@transaction.atomic(durable=True)
def reopen_case(case_id: Any, *, acting_user: Any, now: datetime) -> Case:
    case = access.case_for(acting_user, case_id, for_update=True)
    if case.status == CaseStatus.SHREDDED:
        raise ClosingError(_("This case was shredded and cannot be reopened."))
    if case.is_open:
        raise ClosingError(_("This case is open."))
    case.status = CaseStatus.OPEN
    case.outcome = ""
    case.closed_at = None
    case.closed_by = None
    case.shred_after = None
    case.save(update_fields=["status", "outcome", "closed_at", "closed_by", "shred_after"])
    audit(acting_user, "case.reopen", case)
    return case


# --- the case page ------------------------------------------------------------------------


@dataclass
class ReadyExport:
    export: ExportRequest
    expires_at: datetime


def detail_context(case: Case, user: Any) -> dict[str, Any]:
    """What templates/cases/_closing.html needs, in a constant number of queries (two)."""
    now = timezone.now()
    window = export_window()
    mine = list(
        ExportRequest.objects.filter(case=case, requested_by=user, downloaded_at__isnull=True, refused_at__isnull=True)
        .filter(requested_at__gt=now - timedelta(days=14))
        .order_by("-requested_at")[:10]
    )
    ready = [ReadyExport(e, e.approved_at + window) for e in mine if e.approved_at and e.approved_at + window > now]
    waiting = [e for e in mine if e.approved_at is None]
    campaign = Campaign.objects.filter(case=case).only("id", "slug", "published_at", "unpublished_at").first()
    legal = access.is_legal(user)
    return {
        "closing_may_export": may_export(user, case),
        "closing_is_legal": legal,
        "closing_outcomes": Outcome.choices,
        "closing_ready_exports": ready,
        "closing_waiting_exports": waiting,
        "closing_approval_needed": settings.CASE_EXPORT_APPROVAL,
        "closing_campaign": campaign,
        "closing_retention_days": settings.CASE_RETENTION_DAYS,
    }
