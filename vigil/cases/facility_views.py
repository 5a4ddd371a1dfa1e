"""The facility directory (/staff/facilities/): the list and the CSV import.

For the legal role and organizers, each for their own chapters (a user with several picks
one with ?chapter=). Everyone else gets a 404, as for the case pages (the route does not
exist for them); another chapter's id in ?chapter= is a 404 too (D2). The directory is public
information (names, addresses and visiting rules of detention facilities): not audited on
read, audited on import ("facility.import").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from vigil.accounts.models import Role, User
from vigil.cases import facilities
from vigil.cases.legal_forms import IMPORT_MAX_BYTES, FacilityImportForm
from vigil.cases.models import Facility
from vigil.core.models import Chapter

DIRECTORY_ROLES = (Role.LEGAL, Role.ORGANIZER)

View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def may_use_directory(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "role", None) in DIRECTORY_ROLES
    )


def directory_staff(view: View) -> View:
    """404 for anyone but the legal role and organizers (before the method check)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_use_directory(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _chapters(user: User) -> list[Chapter]:
    chapters = list(Chapter.objects.filter(pk__in=user.chapter_ids()).order_by("name"))
    if not chapters:
        raise Http404
    return chapters


def _chapter(request: HttpRequest, chapters: list[Chapter]) -> Chapter:
    wanted = str(request.GET.get("chapter", "") or request.POST.get("chapter", "")).strip()
    if not wanted:
        return chapters[0]
    for chapter in chapters:
        if str(chapter.pk) == wanted:
            return chapter
    raise Http404


@login_required
@directory_staff
@require_http_methods(["GET"])
def facility_list(request: HttpRequest) -> HttpResponse:
    chapters = _chapters(_user(request))
    chapter = _chapter(request, chapters)
    context = {
        "chapter": chapter,
        "chapters": chapters,
        "facilities": list(Facility.objects.filter(chapter=chapter).order_by("name")),
    }
    return render(request, "cases/facilities/list.html", context)


def _import_page(
    request: HttpRequest,
    form: FacilityImportForm,
    *,
    chapter: Chapter,
    chapters: list[Chapter],
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "chapter": chapter, "chapters": chapters, "problems": problems or []}
    return render(request, "cases/facilities/import.html", context, status=status)


@login_required
@directory_staff
@require_http_methods(["GET", "POST"])
def facility_import(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    chapters = _chapters(user)
    chapter = _chapter(request, chapters)
    if request.method == "GET":
        return _import_page(request, FacilityImportForm(), chapter=chapter, chapters=chapters)
    form = FacilityImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form, chapter=chapter, chapters=chapters, status=400)
    upload = form.cleaned_data["file"]
    if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
        problems = [gettext("The file is larger than 1 MB.")]
        return _import_page(request, form, chapter=chapter, chapters=chapters, problems=problems, status=400)
    try:
        rows = facilities.parse(upload.read(IMPORT_MAX_BYTES + 1))
        with transaction.atomic(durable=True):
            created, updated = facilities.import_rows(chapter, rows, actor=user)
    except facilities.ImportRefused as refused:
        return _import_page(request, form, chapter=chapter, chapters=chapters, problems=refused.problems, status=400)
    messages.success(
        request,
        ngettext("%(count)d facility imported", "%(count)d facilities imported", len(rows)) % {"count": len(rows)}
        + " "
        + gettext("(%(created)d new, %(updated)d updated).") % {"created": created, "updated": updated},
    )
    return redirect(reverse("facility_list") + f"?chapter={chapter.pk}")
