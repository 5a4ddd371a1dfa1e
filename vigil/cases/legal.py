"""A case's legal work: where the person is held (and every transfer), the locator log, the
attorney and bond, hearings and deadlines.

The `record_*`/`save_*`/`add_*` functions run in the caller's transaction (the views wrap
them in a durable one with the case row locked) and write their audit row there. They raise
`LegalError` with a message for the person at the keyboard when the change cannot be made;
nothing is written then.

`detail_context(case)` is what cases/_legal.html needs on the case page, in a constant
number of queries (five, whatever the history's length).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from vigil.cases.legal_forms import (
    DeadlineForm,
    DetentionForm,
    HearingForm,
    HearingUpdateForm,
    LegalForm,
    LocatorForm,
)
from vigil.cases.models import (
    BondStatus,
    Case,
    Deadline,
    DeadlineKind,
    Detention,
    Facility,
    Hearing,
    LocatorCheck,
    LocatorResult,
    Task,
    TaskKind,
)
from vigil.core.audit import audit
from vigil.core.fields import LockedValue

# How far ahead a detention may be dated (a transfer announced for tonight); more is a typo.
FUTURE_SLACK = timedelta(days=1)


class LegalError(ValueError):
    """A change refused, with a message for the person who asked for it."""


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _task_done(case: Case, kind: str, now: datetime) -> None:
    Task.objects.filter(case=case, kind=kind, done_at__isnull=True).update(done_at=now)


def chapter_facilities(case: Case) -> list[Facility]:
    return list(Facility.objects.filter(chapter_id=case.chapter_id).order_by("name"))


# --- detention and locator checks --------------------------------------------------------


def _store_detention(
    case: Case, *, facility: Facility | None, facility_other: str, from_at: datetime, actor: Any, now: datetime
) -> Detention:
    if facility is not None and facility.chapter_id != case.chapter_id:
        raise LegalError(gettext("That facility is not in this chapter's directory."))
    if from_at > now + FUTURE_SLACK:
        raise LegalError(gettext("The date is in the future. Enter when they arrived there."))
    open_stays = case.detentions.filter(to_at__isnull=True)
    latest = open_stays.order_by("-from_at").first()
    if latest is not None and from_at < latest.from_at:
        raise LegalError(gettext("A transfer must be dated after the current place's start date."))
    open_stays.update(to_at=from_at)
    detention = Detention.objects.create(
        case=case,
        facility=facility,
        facility_other="" if facility is not None else facility_other.strip()[:200],
        from_at=from_at,
        recorded_by=_user_or_none(actor),
    )
    case.current_facility = facility
    if case.located_at is None:
        # When the network first found them; transfers keep it.
        case.located_at = from_at
    case.save(update_fields=["current_facility", "located_at"])
    _task_done(case, TaskKind.LOCATED, now)
    return detention


def record_detention(
    case: Case, *, facility: Facility | None, facility_other: str, from_at: datetime, actor: Any, now: datetime
) -> Detention:
    """A new place of detention from `from_at`: the open one (if any) ends then, the case's
    current facility changes and the LOCATED checklist task is done."""
    detention = _store_detention(
        case, facility=facility, facility_other=facility_other, from_at=from_at, actor=actor, now=now
    )
    audit(actor, "case.detention", case)
    return detention


def record_locator_check(
    case: Case, *, source: str, result: str, facility: Facility | None, note: str, actor: Any, now: datetime
) -> LocatorCheck:
    """One check of the ICE locator, the court line, a facility… whoever did it and whatever
    it said. Found or transferred to a facility other than the current one records the
    detention too; released ends the current one."""
    if facility is not None and facility.chapter_id != case.chapter_id:
        raise LegalError(gettext("That facility is not in this chapter's directory."))
    check = LocatorCheck(
        case=case,
        checked_by=_user_or_none(actor),
        checked_at=now,
        source=source,
        result=result,
        facility=facility if result in (LocatorResult.FOUND, LocatorResult.TRANSFERRED) else None,
    )
    check.note = note.strip()[:2000]
    check.save(force_insert=True)
    if check.facility is not None:
        current = case.detentions.filter(to_at__isnull=True).order_by("-from_at").first()
        if current is None or current.facility_id != check.facility.pk:
            _store_detention(case, facility=check.facility, facility_other="", from_at=now, actor=actor, now=now)
    elif result == LocatorResult.RELEASED:
        case.detentions.filter(to_at__isnull=True).update(to_at=now)
        if case.current_facility_id is not None:
            case.current_facility = None
            case.save(update_fields=["current_facility"])
    audit(actor, "case.locator_check", case)
    return check


# --- attorney and bond -------------------------------------------------------------------


def save_legal(
    case: Case,
    *,
    representation: str,
    attorney: str,
    bond_status: str,
    bond_amount: Decimal | None,
    bond_paid_at: datetime | None,
    bond_paid_by: str,
    bond_refund: str,
    actor: Any,
    now: datetime,
) -> None:
    """Representation, attorney and bond. An attorney named → ATTORNEY task done; a bond
    decision (anything but "not decided") → BOND task done."""
    case.representation = representation
    case.attorney = attorney.strip()[:200]
    case.bond_status = bond_status
    case.bond_amount = bond_amount
    case.bond_paid_at = bond_paid_at
    case.bond_paid_by = bond_paid_by.strip()[:200]
    case.bond_refund = bond_refund.strip()[:200]
    case.save(
        update_fields=[
            "representation",
            "attorney",
            "bond_status",
            "bond_amount",
            "bond_paid_at",
            "bond_paid_by",
            "bond_refund",
        ]
    )
    if str(case.attorney).strip():
        _task_done(case, TaskKind.ATTORNEY, now)
    if bond_status != BondStatus.UNKNOWN:
        _task_done(case, TaskKind.BOND, now)
    audit(actor, "case.legal", case)


# --- hearings and deadlines ----------------------------------------------------------------


def add_hearing(case: Case, *, kind: str, court: str, at: datetime, actor: Any) -> Hearing:
    hearing = Hearing.objects.create(case=case, kind=kind, court=court.strip()[:200], at=at)
    audit(actor, "case.hearing", case)
    return hearing


def update_hearing(hearing: Hearing, *, at: datetime, court: str, outcome: str, actor: Any) -> Hearing:
    """An outcome or a reschedule. A new date starts its reminders over."""
    fields = ["court", "outcome"]
    if at.replace(second=0, microsecond=0) != hearing.at.replace(second=0, microsecond=0):
        # A new date (forms give minutes: the same minute is the same hearing).
        hearing.at = at
        hearing.reminders_sent = 0
        fields += ["at", "reminders_sent"]
    hearing.court = court.strip()[:200]
    hearing.outcome = outcome.strip()[:2000]
    hearing.save(update_fields=fields)
    audit(actor, "case.hearing", hearing.case)
    return hearing


def add_deadline(case: Case, *, kind: str, due_at: datetime, note: str, actor: Any) -> Deadline:
    deadline = Deadline(case=case, kind=kind, due_at=due_at)
    deadline.note = note.strip()[:2000]
    deadline.save(force_insert=True)
    audit(actor, "case.deadline", case)
    return deadline


def set_deadline_done(deadline: Deadline, *, done: bool, actor: Any, now: datetime) -> Deadline:
    deadline.done_at = (deadline.done_at or now) if done else None
    deadline.save(update_fields=["done_at"])
    audit(actor, "case.deadline", deadline.case)
    return deadline


# --- countdowns ----------------------------------------------------------------------------


def countdown(target: datetime, now: datetime) -> str:
    """ "in 3 days", "tomorrow", "today", "overdue by 2 days": by calendar days in the
    network's time zone."""
    days = (timezone.localtime(target).date() - timezone.localtime(now).date()).days
    if target >= now:
        if days <= 0:
            return gettext("today")
        if days == 1:
            return gettext("tomorrow")
        return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}
    late = -days
    if late <= 0:
        return gettext("overdue")
    return ngettext("overdue by %(count)d day", "overdue by %(count)d days", late) % {"count": late}


# --- the case page ---------------------------------------------------------------------------


def _with_case(rows: QuerySet[Any], case: Case) -> list[Any]:
    """The rows, each pointing at this very case object (so sealed fields use its key)."""
    listed = list(rows)
    for row in listed:
        row.case = case
    return listed


def detail_context(case: Case) -> dict[str, Any]:
    """What templates/cases/_legal.html needs, in a constant number of queries."""
    now = timezone.now()
    detentions = _with_case(
        Detention.objects.filter(case_id=case.pk).select_related("facility", "recorded_by").order_by("-from_at"), case
    )
    checks = _with_case(
        LocatorCheck.objects.filter(case_id=case.pk).select_related("checked_by", "facility").order_by("-checked_at"),
        case,
    )
    hearings = _with_case(Hearing.objects.filter(case_id=case.pk).order_by("at"), case)
    deadlines = _with_case(Deadline.objects.filter(case_id=case.pk).order_by("due_at"), case)
    for hearing in hearings:
        setattr(hearing, "upcoming", hearing.at >= now)  # noqa: B010 - a display attribute
        setattr(hearing, "countdown", countdown(hearing.at, now) if hearing.at >= now else "")  # noqa: B010
    for deadline in deadlines:
        setattr(deadline, "overdue", deadline.done_at is None and deadline.due_at < now)  # noqa: B010
        setattr(deadline, "countdown", "" if deadline.done_at else countdown(deadline.due_at, now))  # noqa: B010
    urgent = [d for d in deadlines if d.done_at is None and d.kind == DeadlineKind.STAY]
    editable = case.is_open and not isinstance(case.attorney, LockedValue)
    context: dict[str, Any] = {
        "legal_now": now,
        "legal_editable": editable,
        "legal_detentions": detentions,
        "legal_current_detention": next((d for d in detentions if d.to_at is None), None),
        "legal_checks": checks,
        "legal_hearings": hearings,
        "legal_deadlines": deadlines,
        "legal_urgent_deadlines": urgent,
        "legal_facilities": [],
        "legal_forms": {},
    }
    if not editable:
        return context
    facilities = chapter_facilities(case)
    local_now = timezone.localtime(now).replace(second=0, microsecond=0)
    context["legal_facilities"] = facilities
    context["legal_forms"] = {
        "detention": DetentionForm(facilities=facilities, initial={"from_at": local_now}, auto_id="detention-%s"),
        "locator": LocatorForm(facilities=facilities, auto_id="locator-%s"),
        "legal": LegalForm(initial=legal_initial(case), auto_id="legal-%s"),
        "hearing": HearingForm(auto_id="hearing-%s"),
        "deadline": DeadlineForm(auto_id="deadline-%s"),
    }
    for hearing in hearings:
        form = HearingUpdateForm(
            initial={"at": hearing.at, "court": hearing.court, "outcome": hearing.outcome},
            auto_id=f"hearing-{hearing.pk}-%s",
        )
        setattr(hearing, "form", form)  # noqa: B010
    return context


def legal_initial(case: Case) -> dict[str, Any]:
    return {
        "representation": case.representation,
        "attorney": case.attorney,
        "bond_status": case.bond_status,
        "bond_amount": case.bond_amount,
        "bond_paid_at": case.bond_paid_at,
        "bond_paid_by": case.bond_paid_by,
        "bond_refund": case.bond_refund,
    }
