"""Event pages: the staff list, new/edit/cancel, an event's answers and its attendance, and the
volunteer's phone pages (upcoming events of their chapter, answer yes/no/maybe).

Organizers and admins write; dispatchers read; other roles 403; another chapter's event 404.
Volunteers get 403 on the staff pages and see only their own chapter's events on theirs.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigil.accounts.models import User
from vigil.core.fields import LockedValue
from vigil.core.models import Chapter
from vigil.organizing import actions, selectors
from vigil.organizing.actions import EventError
from vigil.organizing.forms import EventForm, RsvpForm
from vigil.organizing.models import Event, RsvpAnswer


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _reader(request: HttpRequest) -> User:
    user = _user(request)
    if user.role not in selectors.EVENT_READER_ROLES:
        raise PermissionDenied
    return user


def _writer(request: HttpRequest) -> User:
    user = _user(request)
    if user.role not in selectors.EVENT_WRITER_ROLES:
        raise PermissionDenied
    return user


def _writable_event(request: HttpRequest, event_id: uuid.UUID) -> tuple[User, Event]:
    """Another chapter's event is 404 before any role check (no existence leak); then only
    organizers and admins may change it (403 for a dispatcher of the chapter)."""
    user = _reader(request)
    event = selectors.access_event_by_id(user, event_id)
    if user.role not in selectors.EVENT_WRITER_ROLES:
        raise PermissionDenied
    return user, event


def _locked(event: Event) -> bool:
    return isinstance(event.place, LockedValue) or isinstance(event.details, LockedValue)


# --- staff ----------------------------------------------------------------------------------


@require_GET
@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    found = selectors.staff_events(user, timezone.now())
    rows = {
        "upcoming": [(e, found.counts[e.pk]) for e in found.upcoming],
        "past": [(e, found.counts[e.pk]) for e in found.past],
    }
    context = {"rows": rows, "can_write": actions.is_writer(user)}
    return render(request, "organizing/list.html", context)


def _chapters(user: User) -> list[Chapter]:
    return list(Chapter.objects.filter(pk__in=selectors.event_chapter_ids(user)))


@require_http_methods(["GET", "POST"])
@login_required
def event_new(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    chapters = _chapters(user)
    if not chapters:
        raise PermissionDenied
    chapter = chapters[0]
    form = EventForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST":
        picked = request.POST.get("chapter", str(chapter.pk))
        chapter = next((c for c in chapters if str(c.pk) == picked), None)  # type: ignore[assignment]
        if chapter is None:
            error, status, chapter = _("Choose one of your chapters."), 400, chapters[0]
        elif form.is_valid():
            try:
                event = actions.create_event(chapter, form.to_input(), acting_user=user)
            except EventError as exc:
                error, status = str(exc.message), 400
            else:
                messages.success(request, _("The event is saved. Volunteers can answer from now on."))
                return redirect("event_detail", event_id=event.pk)
        else:
            error, status = _("Please correct the form."), 400
    context = {"form": form, "error": error, "chapters": chapters, "chapter": chapter, "event": None}
    return render(request, "organizing/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def event_edit(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    user, event = _writable_event(request, event_id)
    if _locked(event):
        error = _("The data key is not loaded, so this event cannot be edited now.")
        return render(request, "organizing/form.html", {"event": event, "error": error, "form": None}, status=409)
    initial = {
        "kind": event.kind,
        "training_role": event.training_role,
        "valid_months": event.valid_months,
        "title": event.title,
        "starts_at": timezone.localtime(event.starts_at),
        "ends_at": timezone.localtime(event.ends_at),
        "place": event.place,
        "details": event.details,
    }
    form = EventForm(request.POST or None, initial=initial)
    error = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.edit_event(event, form.to_input(), acting_user=user)
            except EventError as exc:
                error, status = str(exc.message), 409
            else:
                messages.success(request, _("The event is saved."))
                return redirect("event_detail", event_id=event.pk)
        else:
            error, status = _("Please correct the form."), 400
    context = {"form": form, "error": error, "event": event, "chapter": event.chapter, "chapters": []}
    return render(request, "organizing/form.html", context, status=status)


@require_POST
@login_required
def event_cancel(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    user, event = _writable_event(request, event_id)
    if actions.cancel_event(event, acting_user=user):
        messages.success(request, _("The event is cancelled. No reminders will be sent."))
    return redirect("event_detail", event_id=event.pk)


@require_GET
@login_required
def event_detail(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    user = _reader(request)
    event = selectors.access_event_by_id(user, event_id)
    roster = selectors.event_roster(user, event)
    counts = selectors.rsvp_counts([event.pk])[event.pk]
    now = timezone.now()
    context = {
        "event": event,
        "roster": roster,
        "counts": counts,
        "can_write": actions.is_writer(user),
        "can_take_attendance": actions.is_writer(user) and event.cancelled_at is None and event.starts_at <= now,
        "is_upcoming": event.starts_at > now,
    }
    return render(request, "organizing/detail.html", context)


def _attendance_from_post(request: HttpRequest) -> dict[uuid.UUID, bool]:
    try:
        listed = {uuid.UUID(value) for value in request.POST.getlist("listed")}
        came = {uuid.UUID(value) for value in request.POST.getlist("attended")}
    except ValueError:
        raise EventError(_("The list was damaged; reload the page and try again.")) from None
    if not came <= listed:
        raise EventError(_("The list was damaged; reload the page and try again."))
    return {responder_id: responder_id in came for responder_id in listed}


@require_http_methods(["GET", "POST"])
@login_required
def event_attendance(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    user, event = _writable_event(request, event_id)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            recorded = actions.record_attendance(event, _attendance_from_post(request), user)
        except EventError as exc:
            error, status = str(exc.message), 400
        else:
            if recorded:
                messages.success(request, _("Attendance is saved and %(n)d trainings were recorded.") % {"n": recorded})
            else:
                messages.success(request, _("Attendance is saved."))
            return redirect("event_detail", event_id=event.pk)
    roster = selectors.event_roster(user, event, everyone=True)
    context: dict[str, Any] = {
        "event": event,
        "roster": roster,
        "error": error,
        "open": event.cancelled_at is None and event.starts_at <= timezone.now(),
    }
    return render(request, "organizing/attendance.html", context, status=status)


# --- volunteers -----------------------------------------------------------------------------


@require_GET
@login_required
def responder_events(request: HttpRequest) -> HttpResponse:
    responder = selectors.responder_for_user(request.user)
    now = timezone.now()
    rows = selectors.volunteer_events(responder, now)
    return render(request, "organizing/mobile_list.html", {"rows": rows, "answers": RsvpAnswer.choices, "now": now})


@require_http_methods(["GET", "POST"])
@login_required
def responder_event(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    responder = selectors.responder_for_user(request.user)
    event = selectors.access_volunteer_event(responder, event_id)
    error = ""
    status = 200
    if request.method == "POST":
        form = RsvpForm(request.POST)
        if not form.is_valid():
            error, status = _("Answer yes, no or maybe."), 400
        else:
            try:
                actions.rsvp(responder, event, form.cleaned_data["answer"], "web")
            except EventError as exc:
                error, status = str(exc.message), 409
            else:
                messages.success(request, _("Thank you, your answer is saved."))
                return redirect("responder_event", event_id=event.pk)
    selectors.audit_place_read(request.user, event)
    answer = selectors.volunteer_answer(responder, event)
    context = {
        "event": event,
        "answer": answer,
        "answers": RsvpAnswer.choices,
        "error": error,
        "open": event.cancelled_at is None and event.starts_at > timezone.now(),
    }
    return render(request, "organizing/mobile_detail.html", context, status=status)
