"""Staff roster pages (/staff/responders/): list, detail, add, edit, vetting, trainings, logins.

Organizers and admins of a chapter see and change its roster. Dispatchers read the approved
responders (to call them during a raid): names on the list, the phone only on the detail page.
Every page that decrypts names writes one audit row; another chapter's responder is a 404.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from allauth.account.decorators import reauthentication_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigil.accounts.models import User
from vigil.core.audit import audit
from vigil.core.fields import LockedValue
from vigil.core.models import Chapter, Zone
from vigil.responders import roster, selectors
from vigil.responders.forms import SPOKEN_LANGUAGE_CHOICES, ResponderForm, TrainingForm
from vigil.responders.models import Responder, ResponderRole, ResponderStatus


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _zones(chapter_id: int) -> list[Zone]:
    return list(Zone.objects.filter(chapter_id=chapter_id).order_by("name"))


def _audit_read(user: User, action: str, *, responder: Responder | None = None, chapter: Chapter | None = None) -> None:
    with transaction.atomic():
        if responder is not None:
            audit(user, action, responder)
        else:
            audit(user, action, chapter=chapter, object_type="responders.responder")


def _chapter_from(request: HttpRequest, chapters: list[Chapter]) -> Chapter:
    wanted = str(request.GET.get("chapter", "") or request.POST.get("chapter", ""))
    return next((c for c in chapters if str(c.pk) == wanted), chapters[0])


LANGUAGE_LABELS = dict(SPOKEN_LANGUAGE_CHOICES)


@require_GET
@login_required
def responder_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    chapters = selectors.readable_chapters(user)
    if not chapters:
        raise PermissionDenied
    chapter_ids = [c.pk for c in chapters]
    filters = selectors.RosterFilter.from_query(request.GET)
    rows = selectors.roster_rows(user, chapter_ids, filters, timezone.localdate())
    _audit_read(user, "responder.list", chapter=chapters[0] if len(chapters) == 1 else None)
    context: dict[str, Any] = {
        "rows": rows,
        "filters": filters,
        "can_edit": selectors.edits_roster(user),
        "statuses": ResponderStatus.choices,
        "roles": ResponderRole.choices,
        "zones": Zone.objects.filter(chapter_id__in=chapter_ids).order_by("name"),
        "many_chapters": len(chapters) > 1,
        "role_labels": dict(ResponderRole.choices),
    }
    return render(request, "responders/roster/list.html", context)


@require_GET
@login_required
def responder_applications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not selectors.edits_roster(user):
        raise PermissionDenied
    chapters = selectors.editable_chapters(user)
    rows = selectors.roster_rows(
        user, [c.pk for c in chapters], selectors.RosterFilter(status=ResponderStatus.APPLIED), timezone.localdate()
    )
    _audit_read(user, "responder.list", chapter=chapters[0] if len(chapters) == 1 else None)
    return render(request, "responders/roster/applications.html", {"rows": rows, "many_chapters": len(chapters) > 1})


def _detail_context(user: User, responder: Responder) -> dict[str, Any]:
    today = timezone.localdate()
    trainings = list(responder.trainings.all())
    return {
        "responder": responder,
        "trainings": trainings,
        "today": today,
        "now": timezone.now(),
        "zones": list(responder.home_zones.all()),
        "languages": [str(LANGUAGE_LABELS.get(code, code)) for code in responder.languages or []],
        "can_edit": roster.can_edit(user, responder.chapter_id),
        "training_form": TrainingForm(initial={"completed_on": today}),
        "number": selectors.roster_numbers(responder.chapter_id).get(responder.pk, 0),
        "channel": responder.endpoint.channel if responder.endpoint else "",
        "locked": isinstance(responder.name, LockedValue),
    }


@require_GET
@login_required
def responder_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    user = _user(request)
    responder = selectors.access_responder_by_id(user, pk)
    _audit_read(user, "responder.read", responder=responder)
    return render(request, "responders/roster/detail.html", _detail_context(user, responder))


def _form_page(
    request: HttpRequest,
    form: ResponderForm,
    *,
    chapter: Chapter,
    chapters: list[Chapter],
    responder: Responder | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "chapter": chapter, "chapters": chapters, "responder": responder, "error": error}
    return render(request, "responders/roster/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def responder_add(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    chapters = selectors.editable_chapters(user)
    if not chapters:
        raise PermissionDenied
    chapter = _chapter_from(request, chapters)
    zones = _zones(chapter.pk)
    if request.method == "GET":
        form = ResponderForm(zones=zones, initial={"language": "es", "channel": "sms"})
        return _form_page(request, form, chapter=chapter, chapters=chapters)
    form = ResponderForm(request.POST, zones=zones)
    if not form.is_valid():
        return _form_page(request, form, chapter=chapter, chapters=chapters, status=400)
    data = form.cleaned_data
    try:
        responder = roster.add_responder(
            chapter,
            name=data["name"],
            phone=data["phone"],
            language=data["language"],
            languages=data["languages"],
            zone_ids=[int(z) for z in data["zones"]],
            is_backup=data["is_backup"],
            acting_user=user,
        )
    except roster.RosterError as problem:
        return _form_page(request, form, chapter=chapter, chapters=chapters, error=str(problem), status=400)
    return redirect("responder_detail", pk=responder.pk)


@require_http_methods(["GET", "POST"])
@login_required
def responder_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    user = _user(request)
    responder = selectors.access_responder_by_id(user, pk, edit=True)
    chapter = responder.chapter
    zones = _zones(chapter.pk)
    if request.method == "GET":
        with transaction.atomic():
            audit(user, "responder.read", responder)
        if isinstance(responder.name, LockedValue) or isinstance(responder.phone, LockedValue):
            form = ResponderForm(zones=zones)
            return _form_page(
                request,
                form,
                chapter=chapter,
                chapters=[chapter],
                responder=responder,
                error=_locked_message(),
                status=409,
            )
        form = ResponderForm(
            zones=zones,
            initial={
                "name": responder.name,
                "phone": responder.phone,
                "language": responder.language,
                "languages": responder.languages,
                "zones": [str(z.pk) for z in responder.home_zones.all()],
                "is_backup": responder.is_backup,
                "channel": responder.endpoint.channel if responder.endpoint else "sms",
            },
        )
        return _form_page(request, form, chapter=chapter, chapters=[chapter], responder=responder)
    form = ResponderForm(request.POST, zones=zones)
    if not form.is_valid():
        return _form_page(request, form, chapter=chapter, chapters=[chapter], responder=responder, status=400)
    data = form.cleaned_data
    try:
        roster.update(
            responder,
            acting_user=user,
            name=data["name"],
            phone=data["phone"],
            language=data["language"],
            languages=data["languages"],
            zone_ids=[int(z) for z in data["zones"]],
            is_backup=data["is_backup"],
            channel=data["channel"],
        )
    except roster.RosterError as problem:
        return _form_page(
            request, form, chapter=chapter, chapters=[chapter], responder=responder, error=str(problem), status=400
        )
    return redirect("responder_detail", pk=responder.pk)


def _locked_message() -> str:
    return gettext("The data key is not loaded, so this responder cannot be changed now.")


def _problem(request: HttpRequest, user: User, responder: Responder, message: str, status: int = 400) -> HttpResponse:
    context = _detail_context(user, responder)
    context["error"] = message
    return render(request, "responders/roster/detail.html", context, status=status)


def _state_change(request: HttpRequest, pk: UUID, action: Any) -> HttpResponse:
    user = _user(request)
    responder = selectors.access_responder_by_id(user, pk, edit=True)
    if isinstance(responder.phone, LockedValue):
        return _problem(request, user, responder, _locked_message(), status=409)
    try:
        action(responder, acting_user=user)
    except roster.RosterError as problem:
        return _problem(request, user, responder, str(problem))
    return redirect("responder_detail", pk=responder.pk)


@require_POST
@login_required
def responder_approve(request: HttpRequest, pk: UUID) -> HttpResponse:
    response = _state_change(request, pk, roster.approve)
    if response.status_code == 302 and request.POST.get("next") == "applications":
        return redirect("responder_applications")
    return response


@require_POST
@login_required
def responder_suspend(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _state_change(request, pk, roster.suspend)


@require_POST
@login_required
def responder_reinstate(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _state_change(request, pk, roster.reinstate)


@require_POST
@login_required
def responder_left(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _state_change(request, pk, roster.mark_left)


@require_POST
@login_required
def training_add(request: HttpRequest, pk: UUID) -> HttpResponse:
    user = _user(request)
    responder = selectors.access_responder_by_id(user, pk, edit=True)
    form = TrainingForm(request.POST)
    if not form.is_valid():
        context = _detail_context(user, responder)
        context["training_form"] = form
        return render(request, "responders/roster/detail.html", context, status=400)
    data = form.cleaned_data
    try:
        roster.add_training(
            responder,
            role=data["role"],
            completed_on=data["completed_on"],
            expires_on=data["expires_on"],
            acting_user=user,
        )
    except roster.RosterError as problem:
        return _problem(request, user, responder, str(problem))
    return redirect(reverse("responder_detail", args=[responder.pk]) + "#trainings")


@require_POST
@login_required
def training_remove(request: HttpRequest, pk: UUID, training_id: int) -> HttpResponse:
    user = _user(request)
    responder = selectors.access_responder_by_id(user, pk, edit=True)
    training = selectors.access_training_by_id(user, responder, training_id)
    roster.remove_training(training, acting_user=user)
    return redirect(reverse("responder_detail", args=[responder.pk]) + "#trainings")


@require_http_methods(["GET", "POST"])
@login_required
@reauthentication_required(allow_get=True)
def responder_give_login(request: HttpRequest, pk: UUID) -> HttpResponse:
    """GET: what this does, and a button. POST (after a recent re-authentication, C14): a
    one-time password shown on this page only."""
    user = _user(request)
    responder = selectors.access_responder_by_id(user, pk, edit=True)
    if responder.status != ResponderStatus.APPROVED or responder.user is None:
        raise Http404
    context: dict[str, Any] = {"responder": responder, "password": ""}
    if request.method == "POST":
        context["password"] = roster.give_login(responder, acting_user=user)
    return render(request, "responders/roster/login.html", context)
