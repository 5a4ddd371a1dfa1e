"""The case pages: the board, finding a case, opening one (hotline call or incident), a case's
page and its small writes (person, assignees, tasks, family, children, notes).

Who: the legal role sees every case of its chapters; other staff only the cases they are
assigned to; volunteers and everyone else 404. Another chapter's case, an unassigned one or a
made-up id answers 404 on every route, GET and POST, before anything else is looked at
(access.case_for). Every page that shows a case's personal data writes "case.read"
(access.note_read) in the transaction of the read; the board and the lookup write one row
each. A closed or shredded case refuses changes (409).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vigil.accounts.models import User
from vigil.cases import access, actions, board, closing, legal
from vigil.cases.forms import (
    AssignForm,
    ChildForm,
    ChildSafeForm,
    FamilyForm,
    NoteForm,
    PersonForm,
    TaskAddForm,
    TaskUpdateForm,
)
from vigil.cases.models import CHECKLIST, Case, CaseAssignment, CaseNote, CaseStatus, Task, TaskKind
from vigil.core import ratelimit
from vigil.core.audit import audit
from vigil.core.fields import LockedValue
from vigil.core.models import Chapter
from vigil.core.phones import InvalidPhone
from vigil.incidents.models import Incident
from vigil.incidents.selectors import INCIDENT_READER_ROLES
from vigil.intake.models import Report

_MAX_BIGINT = 2**63 - 1
# Lookups by A-number or phone per person per hour: each answers "is this person a case?",
# so an insider cannot walk a list of numbers through it.
FINDS_PER_HOUR = 60
PERSON_FIELDS = (
    "name",
    "date_of_birth",
    "a_number",
    "country_of_birth",
    "languages",
    "phone",
    "taken_place",
    "summary",
)


class Refused(Exception):
    """A change the case's state does not allow (closed, shredded, locked data)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _user(request: HttpRequest) -> User:
    """The staff member, or 404 for anyone the case pages do not exist for (volunteers)."""
    user = request.user
    if not isinstance(user, User) or not access.may_use_cases(user):
        raise Http404
    return user


def _post_only(request: HttpRequest) -> HttpResponse | None:
    # Checked after the case (or incident) was found: someone who may not see it gets 404
    # whatever the method, so the answer does not depend on the id.
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _audit_chapter(user: User) -> Chapter | None:
    ids = user.chapter_ids()
    return Chapter.objects.filter(pk=ids[0]).first() if len(ids) == 1 else None


def _closed_message(case: Case) -> str:
    if case.status == CaseStatus.SHREDDED:
        return _("This case is closed and its personal data was destroyed: it cannot be changed.")
    return _("This case is closed: it cannot be changed.")


# --- the board and the lookup -------------------------------------------------------------


@require_GET
@login_required
def case_board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    found = board.board(
        user,
        timezone.now(),
        filter=request.GET.get("filter", "all"),
        tab=request.GET.get("tab", "open"),
        page=request.GET.get("page", 1),
    )
    with transaction.atomic():
        page = f"{found.tab}/{found.filter}/{found.page.number}"
        access.note_board_page(user, page, _audit_chapter(user))
    context = {"board": found, "may_open": board.may_open_cases(user), "filters": board.FILTERS}
    return render(request, "cases/board.html", context)


@require_GET
@login_required
def case_find(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET.get("q")
    context: dict[str, Any] = {"q": query or "", "found": None, "error": ""}
    if query is None:
        return render(request, "cases/find.html", context)
    if not ratelimit.hit(str(user.pk), purpose="case-find", limit=FINDS_PER_HOUR, window=timedelta(hours=1)):
        context["error"] = _("Too many lookups in the last hour. Try again later.")
        return render(request, "cases/find.html", context, status=429)
    try:
        found = board.find(user, query)
    except board.FindError as exc:
        context["error"] = str(exc)
        return render(request, "cases/find.html", context, status=400)
    with transaction.atomic():
        audit(user, "case.find", object_type="cases.case", chapter=_audit_chapter(user))
    context["found"] = found
    return render(request, "cases/find.html", context)


# --- opening a case -----------------------------------------------------------------------


def _chapters(user: User) -> list[Chapter]:
    return list(Chapter.objects.filter(pk__in=user.chapter_ids()).order_by("name"))


@require_http_methods(["GET", "POST"])
@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not board.may_open_cases(user):
        raise Http404
    chapters = _chapters(user)
    if not chapters:
        raise Http404
    chapter: Chapter | None = chapters[0]
    form = PersonForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        picked = request.POST.get("chapter", str(chapters[0].pk))
        chapter = next((c for c in chapters if str(c.pk) == picked), None)
        if chapter is None:
            error, status, chapter = _("Choose one of your chapters."), 400, chapters[0]
        elif form.is_valid():
            try:
                case = actions.open_case(
                    chapter_id=chapter.pk,
                    opened_from="hotline",
                    person=form.to_input(),
                    now=timezone.now(),
                    actor=user,
                )
            except (ValueError, InvalidPhone):
                error, status = _("Please correct the form."), 400
            else:
                messages.success(request, _("Case %(label)s is open.") % {"label": case.label})
                return redirect("case_detail", case_id=case.pk)
        else:
            error, status = _("Please correct the form."), 400
    context = {"form": form, "chapters": chapters, "chapter": chapter, "error": error}
    return render(request, "cases/new.html", context, status=status)


def _incident_facts(incident: Incident) -> tuple[str, str]:
    """Where it happened and who reported it: zone, ZIP and the first report's address; each
    report's channel and time, and whether the reporter left a call-back number. The number
    itself stays with intake, which purges it after VIGIL_RETAIN_CONTACT_DAYS (DESIGN.md
    invariant 6): a neighbour who reported a raid did not agree to sit in a legal file for the
    life of the case. The dispatcher can read it on the incident until then."""
    parts = [p for p in (incident.zone.name if incident.zone else "", incident.zip_code) if p]
    reporters: list[str] = []
    for report in Report.objects.filter(link__incident=incident).order_by("received_at")[:20]:
        address = report.address
        if address and not isinstance(address, LockedValue) and len(parts) < 3:
            parts.append(str(address))
        line = f"{report.get_channel_display()} {timezone.localtime(report.received_at):%Y-%m-%d %H:%M}"
        if report.contact_phone:
            line += " (" + _("left a call-back number: ask the dispatcher") + ")"
        reporters.append(line)
    return ", ".join(parts), "; ".join(reporters)


@require_http_methods(["GET", "POST"])
@login_required
def case_from_incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    user = _user(request)
    if not board.may_open_cases(user) or not 0 < incident_id <= _MAX_BIGINT:
        raise Http404
    incident = Incident.objects.select_related("zone").filter(pk=incident_id, chapter_id__in=user.chapter_ids()).first()
    if incident is None:
        raise Http404
    if (refused := _post_only(request)) is not None:
        return refused
    place, reporters = _incident_facts(incident)
    summary = _("Opened from incident #%(id)s") % {"id": incident.pk}
    if reporters:
        summary += "\n" + _("Reported by: %(reports)s") % {"reports": reporters}
    person = actions.PersonInput(taken_at=incident.first_report_at, taken_place=place, summary=summary)
    case = actions.open_case(
        chapter_id=incident.chapter_id,
        opened_from="incident",
        person=person,
        now=timezone.now(),
        actor=user,
        incident_id=incident.pk,
    )
    messages.success(
        request, _("Case %(label)s is open. Add the detained person's name and details.") % {"label": case.label}
    )
    return redirect("case_edit", case_id=case.pk)


# --- one case -----------------------------------------------------------------------------


def _detail_context(user: User, case: Case) -> dict[str, Any]:
    now = timezone.now()
    tasks = list(case.tasks.select_related("owner").order_by("created_at"))
    order: dict[str, int] = {str(kind): i for i, kind in enumerate(CHECKLIST)}
    checklist = sorted((t for t in tasks if t.kind in order), key=lambda t: order[t.kind])
    needs = [t for t in tasks if t.kind not in order]
    for task in tasks:
        task.overdue = bool(task.due_at and not task.done_at and task.due_at < now)  # type: ignore[attr-defined]
        task.kind_label = str(TaskKind(task.kind).label) if task.kind in TaskKind.values else task.kind  # type: ignore[attr-defined]
    staff = list(board.chapter_staff(case.chapter_id))
    assignments = list(case.assignments.select_related("user").order_by("added_at"))
    assigned_ids = {a.user_id for a in assignments}
    shredded = case.status == CaseStatus.SHREDDED
    context: dict[str, Any] = {
        "case": case,
        "now": now,
        "shredded": shredded,
        "closed": not case.is_open,
        "checklist": checklist,
        "needs": needs,
        "family": [] if shredded else list(case.family.all()),
        "children": [] if shredded else list(case.children.all()),
        "notes": [] if shredded else list(case.notes.select_related("author")),
        "assignments": assignments,
        "staff": staff,
        "assignable": [u for u in board.assignable_people(case.chapter_id) if u.pk not in assigned_ids],
        "is_legal": access.is_legal(user),
        "incident_link": _incident_link(user, case),
        "days_detained": max(0, ((case.closed_at or now) - (case.taken_at or case.opened_at)).days),
        "forms": {
            "task": TaskAddForm(prefix="task", chapter_id=case.chapter_id),
            "family": FamilyForm(prefix="family"),
            "child": ChildForm(prefix="child"),
            "note": NoteForm(prefix="note"),
        },
        "error": "",
    }
    context.update(legal.detail_context(case))
    context.update(closing.detail_context(case, user))
    return context


def _incident_link(user: User, case: Case) -> str:
    if not case.incident_id:
        return ""
    from django.urls import reverse

    if user.role in INCIDENT_READER_ROLES:
        return reverse("incident_detail", kwargs={"pk": case.incident_id})
    if access.is_legal(user):
        return reverse("observation_log", kwargs={"incident_id": case.incident_id})
    return ""


def _render_detail(
    request: HttpRequest,
    user: User,
    case: Case,
    *,
    error: str = "",
    status: int = 200,
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    with transaction.atomic():
        access.note_read(user, case)
        context = _detail_context(user, case)
    context["forms"].update(bound or {})
    context["error"] = error
    return render(request, "cases/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _render_detail(request, user, case)


def _change(
    request: HttpRequest, user: User, case_id: uuid.UUID, change: Callable[[Case], str], *, to: str = "case_detail"
) -> HttpResponse:
    """Run `change` on the case, locked, in one durable transaction with its audit row; a
    closed case refuses (409) and nothing is written."""
    try:
        with transaction.atomic(durable=True):
            case = access.case_for(user, case_id, for_update=True)
            if not case.is_open:
                raise Refused(_closed_message(case))
            message = change(case)
    except Refused as exc:
        case = access.case_for(user, case_id)
        return _render_detail(request, user, case, error=exc.message, status=exc.status)
    if message:
        messages.success(request, message)
    return redirect(to, case_id=case_id)


def _refuse_if_closed(request: HttpRequest, user: User, case: Case) -> HttpResponse | None:
    if case.is_open:
        return None
    return _render_detail(request, user, case, error=_closed_message(case), status=409)


@require_http_methods(["GET", "POST"])
@login_required
def case_edit(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if (refused := _refuse_if_closed(request, user, case)) is not None:
        return refused
    if any(isinstance(getattr(case, name), LockedValue) for name in PERSON_FIELDS):
        error = _("The data key is not loaded, so this case cannot be edited now.")
        return render(request, "cases/edit.html", {"case": case, "form": None, "error": error}, status=409)
    if request.method == "GET":
        initial = {name: getattr(case, name) or "" for name in PERSON_FIELDS}
        initial["taken_at"] = timezone.localtime(case.taken_at) if case.taken_at else None
        with transaction.atomic():
            access.note_read(user, case)
        return render(request, "cases/edit.html", {"case": case, "form": PersonForm(initial=initial), "error": ""})
    form = PersonForm(request.POST)
    if not form.is_valid():
        context = {"case": case, "form": form, "error": _("Please correct the form.")}
        return render(request, "cases/edit.html", context, status=400)
    person = form.to_input()

    def change(locked: Case) -> str:
        for name in PERSON_FIELDS:
            limit = actions.LONG if name == "summary" else actions.SHORT
            setattr(locked, name, str(getattr(person, name))[:limit])
        locked.taken_at = person.taken_at
        locked.a_number_index = actions.a_number_index(person.a_number)
        locked.phone_index = actions.optional_phone_index(person.phone)[1]
        locked.save(update_fields=[*PERSON_FIELDS, "taken_at", "a_number_index", "phone_index"])
        audit(user, "case.edit", locked)
        return _("The case is saved.")

    return _change(request, user, case_id, change)


@require_http_methods(["GET", "POST"])
@login_required
def case_assign(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if (refused := _post_only(request)) is not None:
        return refused
    if not access.is_legal(user):
        raise Http404  # they see this case, but only the legal team assigns it: 404 on case routes (D2)
    if (closed := _refuse_if_closed(request, user, case)) is not None:
        return closed
    form = AssignForm(request.POST, chapter_id=case.chapter_id)
    if not form.is_valid():
        return _render_detail(request, user, case, error=_("Choose someone of this chapter."), status=400)
    member, op = form.cleaned_data["user"], form.cleaned_data["op"]

    def change(locked: Case) -> str:
        if op == "add":
            actions.assign(locked, member, now=timezone.now(), acting_user=user)
            return _("%(who)s is assigned to this case.") % {"who": member.get_username()}
        CaseAssignment.objects.filter(case=locked, user=member).delete()
        audit(user, "case.unassign", locked)
        return _("%(who)s is no longer assigned to this case.") % {"who": member.get_username()}

    return _change(request, user, case_id, change)


@require_http_methods(["GET", "POST"])
@login_required
def case_task_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if (refused := _post_only(request) or _refuse_if_closed(request, user, case)) is not None:
        return refused
    form = TaskAddForm(request.POST, prefix="task", chapter_id=case.chapter_id)
    if not form.is_valid():
        error = _("Please correct the new task.")
        return _render_detail(request, user, case, error=error, status=400, bound={"task": form})
    data = form.cleaned_data

    def change(locked: Case) -> str:
        task = Task(
            case=locked, kind=data["kind"], owner=data["owner"], due_at=data["due_at"], created_at=timezone.now()
        )
        task.detail = data["detail"]
        task.save(force_insert=True)
        audit(user, "case.task_add", locked)
        return _("The task is added.")

    return _change(request, user, case_id, change)


@require_http_methods(["GET", "POST"])
@login_required
def case_task_update(request: HttpRequest, case_id: uuid.UUID, task_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if not Task.objects.filter(case=case, pk=task_id).exists():
        raise Http404
    if (refused := _post_only(request) or _refuse_if_closed(request, user, case)) is not None:
        return refused
    form = TaskUpdateForm(request.POST, chapter_id=case.chapter_id)
    if not form.is_valid():
        return _render_detail(request, user, case, error=_("Please correct the task."), status=400)
    data = form.cleaned_data

    def change(locked: Case) -> str:
        task = Task.objects.select_for_update().get(case=locked, pk=task_id)
        if data["action"] == "done":
            task.done_at = task.done_at or timezone.now()
        elif data["action"] == "undo":
            task.done_at = None
        else:
            task.owner = data["owner"]
            task.due_at = data["due_at"]
        task.save(update_fields=["done_at", "owner", "due_at"])
        audit(user, "case.task_update", locked)
        return _("The task is saved.")

    return _change(request, user, case_id, change)


@require_http_methods(["GET", "POST"])
@login_required
def case_family_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if (refused := _post_only(request) or _refuse_if_closed(request, user, case)) is not None:
        return refused
    form = FamilyForm(request.POST, prefix="family")
    if not form.is_valid():
        error = _("Please correct the family contact.")
        return _render_detail(request, user, case, error=error, status=400, bound={"family": form})
    data = form.cleaned_data

    def change(locked: Case) -> str:
        actions.store_family_contact(
            locked,
            name=data["name"],
            relationship=data["relationship"],
            phone=data["phone"],
            email=data["email"],
            language=data["language"],
            reminders=data["reminders"],
            actor=user,
        )
        return _("The family contact is added.")

    return _change(request, user, case_id, change)


@require_http_methods(["GET", "POST"])
@login_required
def case_child_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Adds a child, or with `mark_safe` (a child's id) and `safe` (1/0) records that a
    caregiver has them tonight. When every child is safe, the checklist's item is done."""
    user = _user(request)
    case = access.case_for(user, case_id)
    if "mark_safe" in request.POST:
        safe_form = ChildSafeForm(request.POST)
        if not safe_form.is_valid():
            raise Http404
        child_id = safe_form.cleaned_data["mark_safe"]
        if not case.children.filter(pk=child_id).exists():
            raise Http404
    if (refused := _post_only(request) or _refuse_if_closed(request, user, case)) is not None:
        return refused
    if "mark_safe" in request.POST:
        safe = safe_form.cleaned_data["safe"]

        def mark(locked: Case) -> str:
            now = timezone.now()
            locked.children.filter(pk=child_id).update(safe_at=now if safe else None)
            audit(user, "case.child_safe", locked)
            if safe and not locked.children.filter(safe_at__isnull=True).exists():
                Task.objects.filter(case=locked, kind=TaskKind.CHILDREN_SAFE, done_at__isnull=True).update(done_at=now)
            return _("Saved: the child is safe.") if safe else _("Saved: the child is not confirmed safe.")

        return _change(request, user, case_id, mark)
    form = ChildForm(request.POST, prefix="child")
    if not form.is_valid():
        error = _("Please correct the child's details.")
        return _render_detail(request, user, case, error=error, status=400, bound={"child": form})
    data = form.cleaned_data

    def change(locked: Case) -> str:
        actions.store_child(
            locked, name=data["name"], age=data["age"], school=data["school"], caregiver=data["caregiver"], actor=user
        )
        return _("The child is added.")

    return _change(request, user, case_id, change)


@require_http_methods(["GET", "POST"])
@login_required
def case_note_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    case = access.case_for(user, case_id)
    if (refused := _post_only(request) or _refuse_if_closed(request, user, case)) is not None:
        return refused
    form = NoteForm(request.POST, prefix="note")
    if not form.is_valid():
        error = _("Please correct the note.")
        return _render_detail(request, user, case, error=error, status=400, bound={"note": form})
    body = form.cleaned_data["body"]

    def change(locked: Case) -> str:
        note = CaseNote(case=locked, author=user, at=timezone.now())
        note.body = body
        note.save(force_insert=True)
        audit(user, "case.note_add", locked)
        return _("The note is added.")

    return _change(request, user, case_id, change)
