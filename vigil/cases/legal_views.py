"""The legal section of a case (/staff/cases/<id>/…): detention, locator checks, attorney and
bond, hearings and deadlines.

Whoever may see the case (the legal role of its chapter, or staff assigned to it) may work
it; for anyone else every route answers 404, GET and POST (access.case_for). GET shows the
form on its own page (a phone screen; it reads case data, so it is audited); POST changes
the case in one durable transaction with its audit row and returns to the case page. Bad
input re-renders the form with status 400 and changes nothing; a closed case refuses with 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from vigil.accounts.models import User
from vigil.cases import access, legal
from vigil.cases.legal_forms import (
    DeadlineDoneForm,
    DeadlineForm,
    DetentionForm,
    HearingForm,
    HearingUpdateForm,
    LegalForm,
    LocatorForm,
)
from vigil.cases.models import Case, Deadline, Hearing

FormMaker = Callable[[Case, Any], forms.Form]
Apply = Callable[[Case, Any, User], None]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _closed_message() -> str:
    return gettext("This case is closed: its legal record can no longer be changed.")


def _page(
    request: HttpRequest,
    case: Case,
    form: forms.Form | None,
    *,
    title: str,
    action: str,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"case": case, "form": form, "title": title, "action": action, "error": error}
    return render(request, "cases/legal_form.html", context, status=status)


def _back(case: Case, anchor: str) -> HttpResponse:
    return redirect(reverse("case_detail", args=[case.pk]) + f"#{anchor}")


def _handle(
    request: HttpRequest,
    case_id: UUID,
    *,
    title: str,
    anchor: str,
    make_form: FormMaker,
    apply: Apply,
    find: Callable[[Case], Any] | None = None,
) -> HttpResponse:
    """The shared flow: 404 unless the case is visible (and `find` finds its row), the form
    page on GET, the change on POST."""
    user = _user(request)
    case = access.case_for(user, case_id)
    row = find(case) if find is not None else None
    action = request.path
    if request.method == "GET":
        with transaction.atomic():
            access.note_read(user, case)
        if not case.is_open:
            return _page(request, case, None, title=title, action=action, error=_closed_message())
        return _page(request, case, make_form(case, row), title=title, action=action)
    if not case.is_open:
        return _page(request, case, None, title=title, action=action, error=_closed_message(), status=409)
    form = make_form(case, row)
    if not form.is_valid():
        return _page(request, case, form, title=title, action=action, status=400)
    try:
        with transaction.atomic(durable=True):
            locked = access.case_for(user, case_id, for_update=True)
            if not locked.is_open:
                raise legal.LegalError(_closed_message())
            apply(locked, form, user)
    except legal.LegalError as problem:
        return _page(request, case, form, title=title, action=action, error=str(problem), status=400)
    return _back(case, anchor)


def _data(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _now_initial() -> dict[str, Any]:
    return {"from_at": timezone.localtime().replace(second=0, microsecond=0)}


@require_http_methods(["GET", "POST"])
@login_required
def case_detention_add(request: HttpRequest, case_id: UUID) -> HttpResponse:
    def make_form(case: Case, _row: Any) -> forms.Form:
        return DetentionForm(_data(request), facilities=legal.chapter_facilities(case), initial=_now_initial())

    def apply(case: Case, form: Any, user: User) -> None:
        data = form.cleaned_data
        legal.record_detention(
            case,
            facility=form.chosen_facility(),
            facility_other=data["facility_other"],
            from_at=data["from_at"],
            actor=user,
            now=timezone.now(),
        )

    return _handle(
        request,
        case_id,
        title=gettext("Record where they are held"),
        anchor="detention",
        make_form=make_form,
        apply=apply,
    )


@require_http_methods(["GET", "POST"])
@login_required
def case_locator_add(request: HttpRequest, case_id: UUID) -> HttpResponse:
    def make_form(case: Case, _row: Any) -> forms.Form:
        return LocatorForm(_data(request), facilities=legal.chapter_facilities(case))

    def apply(case: Case, form: Any, user: User) -> None:
        data = form.cleaned_data
        legal.record_locator_check(
            case,
            source=data["source"],
            result=data["result"],
            facility=form.chosen_facility(),
            note=data["note"],
            actor=user,
            now=timezone.now(),
        )

    return _handle(
        request, case_id, title=gettext("Log a locator check"), anchor="locator", make_form=make_form, apply=apply
    )


@require_http_methods(["GET", "POST"])
@login_required
def case_legal_edit(request: HttpRequest, case_id: UUID) -> HttpResponse:
    def make_form(case: Case, _row: Any) -> forms.Form:
        return LegalForm(_data(request), initial=legal.legal_initial(case))

    def apply(case: Case, form: Any, user: User) -> None:
        data = form.cleaned_data
        legal.save_legal(
            case,
            representation=data["representation"],
            attorney=data["attorney"],
            bond_status=data["bond_status"],
            bond_amount=data["bond_amount"],
            bond_paid_at=data["bond_paid_at"],
            bond_paid_by=data["bond_paid_by"],
            bond_refund=data["bond_refund"],
            actor=user,
            now=timezone.now(),
        )

    return _handle(
        request, case_id, title=gettext("Attorney and bond"), anchor="legal", make_form=make_form, apply=apply
    )


@require_http_methods(["GET", "POST"])
@login_required
def case_hearing_add(request: HttpRequest, case_id: UUID) -> HttpResponse:
    def make_form(case: Case, _row: Any) -> forms.Form:
        return HearingForm(_data(request))

    def apply(case: Case, form: Any, user: User) -> None:
        data = form.cleaned_data
        legal.add_hearing(case, kind=data["kind"], court=data["court"], at=data["at"], actor=user)

    return _handle(
        request, case_id, title=gettext("Add a hearing"), anchor="hearings", make_form=make_form, apply=apply
    )


def _hearing_of(hearing_id: UUID) -> Callable[[Case], Hearing]:
    def find(case: Case) -> Hearing:
        hearing = Hearing.objects.filter(case_id=case.pk, pk=hearing_id).first()
        if hearing is None:
            raise Http404
        hearing.case = case
        return hearing

    return find


@require_http_methods(["GET", "POST"])
@login_required
def case_hearing_update(request: HttpRequest, case_id: UUID, hearing_id: UUID) -> HttpResponse:
    def make_form(case: Case, hearing: Hearing) -> forms.Form:
        initial = {"at": hearing.at, "court": hearing.court, "outcome": hearing.outcome}
        return HearingUpdateForm(_data(request), initial=initial)

    def apply(case: Case, form: Any, user: User) -> None:
        hearing = _hearing_of(hearing_id)(case)
        data = form.cleaned_data
        legal.update_hearing(hearing, at=data["at"], court=data["court"], outcome=data["outcome"], actor=user)

    return _handle(
        request,
        case_id,
        title=gettext("Hearing: outcome or new date"),
        anchor="hearings",
        make_form=make_form,
        apply=apply,
        find=_hearing_of(hearing_id),
    )


@require_http_methods(["GET", "POST"])
@login_required
def case_deadline_add(request: HttpRequest, case_id: UUID) -> HttpResponse:
    def make_form(case: Case, _row: Any) -> forms.Form:
        return DeadlineForm(_data(request))

    def apply(case: Case, form: Any, user: User) -> None:
        data = form.cleaned_data
        legal.add_deadline(case, kind=data["kind"], due_at=data["due_at"], note=data["note"], actor=user)

    return _handle(
        request, case_id, title=gettext("Add a deadline"), anchor="deadlines", make_form=make_form, apply=apply
    )


def _deadline_of(deadline_id: UUID) -> Callable[[Case], Deadline]:
    def find(case: Case) -> Deadline:
        deadline = Deadline.objects.filter(case_id=case.pk, pk=deadline_id).first()
        if deadline is None:
            raise Http404
        deadline.case = case
        return deadline

    return find


@require_http_methods(["GET", "POST"])
@login_required
def case_deadline_done(request: HttpRequest, case_id: UUID, deadline_id: UUID) -> HttpResponse:
    def make_form(case: Case, deadline: Deadline) -> forms.Form:
        return DeadlineDoneForm(_data(request), initial={"done": "0" if deadline.done_at else "1"})

    def apply(case: Case, form: Any, user: User) -> None:
        deadline = _deadline_of(deadline_id)(case)
        legal.set_deadline_done(deadline, done=form.cleaned_data["done"], actor=user, now=timezone.now())

    return _handle(
        request,
        case_id,
        title=gettext("Deadline met?"),
        anchor="deadlines",
        make_form=make_form,
        apply=apply,
        find=_deadline_of(deadline_id),
    )
