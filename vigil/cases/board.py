"""Reads for the case pages: the board (constant queries whatever the number of cases), the
lookup by A-number or phone, and what one case's page shows.

Cases are fetched only through `vigil.cases.access` (visible_cases / case_for); the helpers
here shape what the templates show. Names are decrypted with the case's own key, which comes
in the same query as the case (select_related("data_key")).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case as DbCase
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vigil.accounts.models import Role, User
from vigil.cases import access
from vigil.cases.actions import a_number_index, normalize_a_number
from vigil.cases.models import (
    CHECKLIST,
    Case,
    CaseAssignment,
    CaseStatus,
    Deadline,
    DeadlineKind,
    Hearing,
    Task,
    TaskKind,
)
from vigil.core.fields import LockedValue
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index
from vigil.responders.models import ResponderStatus

PAGE_SIZE = 100
FILTERS = ("all", "mine", "overdue")
TABS = ("open", "closed")
NEEDS = (TaskKind.HOUSING, TaskKind.FOOD, TaskKind.SCHOOL, TaskKind.MEDICAL, TaskKind.OTHER)
FIND_LIMIT = 20


def initials(user: Any) -> str:
    """ "LL" for lucia.legal or Lucía López: what fits in a checklist cell."""
    if user is None:
        return ""
    full = (getattr(user, "get_full_name", lambda: "")() or "").strip()
    words = full.split() if full else str(user.get_username()).replace("_", ".").replace("-", ".").split(".")
    return "".join(w[0] for w in words if w)[:3].upper()


def countdown(when: datetime | None, now: datetime) -> str:
    """ "overdue", "today", "tomorrow", "in 5 days"; "" for no date."""
    if when is None:
        return ""
    if when < now:
        return _("overdue")
    days = (when - now).days
    if days == 0:
        return _("today") if timezone.localdate(when) == timezone.localdate(now) else _("tomorrow")
    if days == 1:
        return _("tomorrow")
    return ngettext("in %(n)s day", "in %(n)s days", days) % {"n": days}


def _count(model: type[Any], **filters: Any) -> Coalesce:
    rows = model.objects.filter(case=OuterRef("pk"), **filters).order_by().values("case").annotate(n=Count("pk"))
    return Coalesce(Subquery(rows.values("n"), output_field=IntegerField()), Value(0))


def annotated(cases: QuerySet[Case], now: datetime) -> QuerySet[Case]:
    """Cases with what the board shows that is not on the row itself: overdue counts, the
    next hearing and the next open deadline (one subquery each, no query per case)."""
    next_deadline = Deadline.objects.filter(case=OuterRef("pk"), done_at__isnull=True).order_by("due_at")
    return cases.annotate(
        overdue_tasks=_count(Task, due_at__lt=now, done_at__isnull=True),
        overdue_deadlines=_count(Deadline, due_at__lt=now, done_at__isnull=True),
        next_hearing_at=Subquery(
            Hearing.objects.filter(case=OuterRef("pk"), at__gte=now).order_by("at").values("at")[:1]
        ),
        next_deadline_at=Subquery(next_deadline.values("due_at")[:1]),
        next_deadline_kind=Subquery(next_deadline.values("kind")[:1]),
    )


@dataclass
class ChecklistCell:
    kind: str
    label: str
    done: bool
    owner: str
    overdue: bool


@dataclass
class BoardRow:
    case: Case
    label: str
    name: str
    locked: bool
    facility: str
    days_detained: int
    next_label: str
    next_at: datetime | None
    next_countdown: str
    checklist: list[ChecklistCell]
    overdue: int
    assignees: list[str]


@dataclass
class Board:
    rows: list[BoardRow]
    page: Page
    filter: str
    tab: str
    legal: bool
    chapters: list[Any] = field(default_factory=list)


def _next(case: Any, now: datetime) -> tuple[str, datetime | None]:
    hearing, deadline = case.next_hearing_at, case.next_deadline_at
    if deadline is not None and (hearing is None or deadline <= hearing):
        try:
            label = str(DeadlineKind(case.next_deadline_kind).label)
        except ValueError:
            label = _("Deadline")
        return label, deadline
    if hearing is not None:
        return _("Hearing"), hearing
    return "", None


def _row(case: Any, now: datetime) -> BoardRow:
    name = case.name
    locked = isinstance(name, LockedValue) or case.status == CaseStatus.SHREDDED
    by_kind = {t.kind: t for t in case.checklist_tasks}
    cells = []
    for kind in CHECKLIST:
        task = by_kind.get(kind)
        cells.append(
            ChecklistCell(
                kind=str(kind),
                label=str(TaskKind(kind).label),
                done=bool(task and task.done_at),
                owner=initials(task.owner) if task else "",
                overdue=bool(task and not task.done_at and task.due_at and task.due_at < now),
            )
        )
    since = case.taken_at or case.opened_at
    until = case.closed_at or now
    next_label, next_at = _next(case, now)
    return BoardRow(
        case=case,
        label=case.label,
        name="" if locked else str(name or ""),
        locked=locked,
        facility=case.current_facility.name if case.current_facility else "",
        days_detained=max(0, (until - since).days),
        next_label=next_label,
        next_at=next_at,
        next_countdown=countdown(next_at, now),
        checklist=cells,
        overdue=case.overdue_tasks + case.overdue_deadlines,
        assignees=[a.user.get_username() for a in case.board_assignments],
    )


def board(user: User, now: datetime, *, filter: str = "all", tab: str = "open", page: Any = 1) -> Board:
    """One page of the board: the same number of queries for 3 cases or 5,000."""
    filter = filter if filter in FILTERS else "all"
    tab = tab if tab in TABS else "open"
    cases = access.visible_cases(user)
    if tab == "open":
        cases = cases.filter(status=CaseStatus.OPEN)
    else:
        cases = cases.filter(status__in=(CaseStatus.CLOSED, CaseStatus.SHREDDED))
    if filter == "mine":
        mine_tasks = Task.objects.filter(case=OuterRef("pk"), owner=user, done_at__isnull=True)
        mine_assigned = CaseAssignment.objects.filter(case=OuterRef("pk"), user=user)
        cases = cases.filter(Q(Exists(mine_assigned)) | Q(Exists(mine_tasks)))
    cases = annotated(cases, now)
    if filter == "overdue":
        cases = cases.filter(Q(overdue_tasks__gt=0) | Q(overdue_deadlines__gt=0))
    overdue_first = DbCase(
        When(Q(overdue_tasks__gt=0) | Q(overdue_deadlines__gt=0), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    ordering: list[Any] = [overdue_first, "opened_at", "number"] if tab == "open" else ["-closed_at", "-number"]
    cases = (
        cases.select_related("data_key", "current_facility", "chapter")
        .defer("summary", "taken_place", "attorney", "bond_paid_by", "bond_refund", "date_of_birth", "a_number")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(kind__in=CHECKLIST).defer("detail").select_related("owner"),
                to_attr="checklist_tasks",
            ),
            Prefetch(
                "assignments",
                queryset=CaseAssignment.objects.select_related("user").order_by("added_at"),
                to_attr="board_assignments",
            ),
        )
        .order_by(*ordering)
    )
    paginator = Paginator(cases, PAGE_SIZE)
    found = paginator.get_page(page)
    rows = [_row(case, now) for case in found.object_list]
    return Board(rows=rows, page=found, filter=filter, tab=tab, legal=access.is_legal(user))


class FindError(ValueError):
    pass


@dataclass
class Found:
    query_kind: str
    cases: list[Case]


def find(user: User, text: str) -> Found:
    """Cases whose A-number or phone (the person's, or a family contact's) is exactly this one,
    among the cases this user may see. FindError for something that is neither."""
    text = text.strip()
    if not text:
        raise FindError(_("Enter an A-number (for example A-123-456-789) or a phone number."))
    if len(text) > 40:
        raise FindError(_("That is too long for an A-number or a phone number."))
    visible = access.visible_cases(user)
    a_number = ""
    try:
        a_number = normalize_a_number(text)
    except ValueError:
        a_number = ""
    if a_number:
        matches = visible.filter(a_number_index=a_number_index(a_number))
        kind = "a_number"
    else:
        try:
            index = phone_index(normalize_phone(text))
        except InvalidPhone:
            raise FindError(
                _("That is neither an A-number (8 or 9 digits, for example A-123-456-789) nor a phone number.")
            ) from None
        matches = visible.filter(Q(phone_index=index) | Q(family__phone_index=index))
        kind = "phone"
    found = list(
        Case.objects.filter(pk__in=matches.values("pk")).select_related("chapter").order_by("-opened_at")[:FIND_LIMIT]
    )
    return Found(query_kind=kind, cases=found)


def chapter_staff(chapter_id: int) -> QuerySet[User]:
    """Who may own a case's tasks or be assigned to it: active staff of the case's chapter."""
    return (
        User.objects.filter(chapters=chapter_id, is_active=True, role__in=access.STAFF_ROLES)
        .distinct()
        .order_by("username")
    )


def assignable_people(chapter_id: int) -> QuerySet[User]:
    """Who may be assigned to a case: the chapter's active staff, and its approved volunteers
    with a login (an accompaniment driver, an interpreter). An assigned volunteer gets the
    hearing and deadline reminders and nothing else: volunteers have no case pages."""
    volunteers = Q(role=Role.VOLUNTEER, responder__chapter_id=chapter_id, responder__status=ResponderStatus.APPROVED)
    staff = Q(chapters=chapter_id, role__in=access.STAFF_ROLES)
    return User.objects.filter(staff | volunteers, is_active=True).distinct().order_by("role", "username")


def may_open_cases(user: Any) -> bool:
    return access.may_use_cases(user) and getattr(user, "role", None) in (Role.LEGAL, Role.DISPATCHER)
