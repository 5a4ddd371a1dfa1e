"""Organizers create trainings and meetings; volunteers answer on the web; attendance records trainings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login, make_staff
from vigil.accounts.models import Role, User
from vigil.core.models import AuditEvent, Chapter
from vigil.organizing import actions
from vigil.organizing.actions import EventInput, add_months
from vigil.organizing.models import Attendance, Event, EventKind, Rsvp, RsvpAnswer
from vigil.organizing.selectors import EventNotFound
from vigil.organizing.tests.conftest import as_user, future, make_event, make_responder
from vigil.responders import oncall
from vigil.responders.models import Responder, ResponderRole, ResponderStatus, Training

XSS = '<script>alert("x")</script>'


def training_input(**changes: object) -> EventInput:
    values: dict[str, object] = {
        "kind": EventKind.TRAINING,
        "title": "Verifier training",
        "starts_at": future(),
        "ends_at": future() + timedelta(hours=2),
        "place": "Casa Aztlan, 1831 S Racine",
        "details": "Bring a charged phone.",
        "training_role": ResponderRole.VERIFIER,
        "valid_months": 12,
    }
    values.update(changes)
    return EventInput(**values)  # type: ignore[arg-type]


def form_data(**changes: str) -> dict[str, str]:
    start = future()
    data = {
        "kind": "training",
        "training_role": "verifier",
        "valid_months": "12",
        "title": "Verifier training",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "place": "Casa Aztlan, 1831 S Racine",
        "details": "Bring a charged phone.",
    }
    data.update(changes)
    return data


# --- creating events ------------------------------------------------------------------------


def test_an_organizer_creates_a_training_with_a_small_number(as_organizer: Client, organizer: User) -> None:
    response = as_organizer.post(reverse("event_new"), form_data())

    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("event_detail", args=[event.pk])
    assert event.number == 1
    assert event.kind == EventKind.TRAINING and event.training_role == ResponderRole.VERIFIER
    assert event.place == "Casa Aztlan, 1831 S Racine"
    assert event.created_by == organizer
    assert AuditEvent.objects.filter(action="event.create", actor=organizer, object_id=str(event.pk)).count() == 1

    as_organizer.post(reverse("event_new"), form_data(kind="meeting", training_role="", title="Monthly meeting"))
    assert sorted(Event.objects.values_list("number", flat=True)) == [1, 2]


def test_the_place_is_ciphertext_in_the_database(organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT place FROM organizing_event WHERE id = %s", [event.pk.hex])
        raw = bytes(cursor.fetchone()[0])
    assert b"Racine" not in raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_at": "2020-01-01T10:00"}, "end after it starts"),
        ({"kind": "meeting"}, "Only a training teaches a role"),
        ({"valid_months": "0"}, ""),
        ({"title": ""}, ""),
        ({"starts_at": "not a date"}, ""),
        ({"starts_at": "9999-12-31T23:59", "ends_at": "9999-12-31T23:59"}, "between 2000 and 2100"),
        ({"kind": "party"}, ""),
    ],
)
def test_bad_event_input_is_a_clear_400(as_organizer: Client, changes: dict[str, str], message: str) -> None:
    response = as_organizer.post(reverse("event_new"), form_data(**changes))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Event.objects.exists()


def test_an_event_in_the_past_cannot_be_created(organizer: User, chapter: Chapter) -> None:
    past = timezone.now() - timedelta(days=1)
    with pytest.raises(actions.EventError):
        actions.create_event(
            chapter, training_input(starts_at=past, ends_at=past + timedelta(hours=1)), acting_user=organizer
        )


def test_extra_fields_posted_change_nothing(as_organizer: Client) -> None:
    as_organizer.post(reverse("event_new"), form_data(number="999", chapter_id="999", created_by="1"))

    event = Event.objects.get()
    assert event.number == 1


@pytest.mark.parametrize("persona", ["dispatcher", "verifier", "legal_coordinator"])
def test_only_organizers_and_admins_create_events(request: pytest.FixtureRequest, persona: str) -> None:
    user = request.getfixturevalue(persona)
    client = login(Client(), user)

    assert client.get(reverse("event_new")).status_code == 403
    assert client.post(reverse("event_new"), form_data()).status_code == 403
    with pytest.raises(PermissionDenied):
        actions.create_event(user.chapters.get(), training_input(), acting_user=user)
    assert not Event.objects.exists()


def test_an_admin_creates_events_too(admin_user: User) -> None:
    assert as_user(admin_user).post(reverse("event_new"), form_data()).status_code == 302


def test_an_organizer_of_another_chapter_cannot_create_in_ours(other_chapter: Chapter, chapter: Chapter) -> None:
    stranger = make_staff("olga.organizer", Role.ORGANIZER, other_chapter)
    with pytest.raises(EventNotFound):
        actions.create_event(chapter, training_input(), acting_user=stranger)


def test_an_organizer_of_two_chapters_picks_one(chapter: Chapter, other_chapter: Chapter) -> None:
    both = make_staff("bea.organizer", Role.ORGANIZER, chapter, other_chapter)
    client = as_user(both)

    assert client.post(reverse("event_new"), form_data(chapter=str(other_chapter.pk))).status_code == 302
    assert Event.objects.get().chapter == other_chapter
    assert client.post(reverse("event_new"), form_data(chapter="98765")).status_code == 400


# --- editing and cancelling -----------------------------------------------------------------


def test_editing_the_time_sends_the_reminders_again(as_organizer: Client, organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)
    Event.objects.filter(pk=event.pk).update(reminded_day_at=timezone.now())
    later = future(days=4)

    response = as_organizer.post(
        reverse("event_edit", args=[event.pk]),
        form_data(
            starts_at=later.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            place="Another hall",
        ),
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.starts_at == later
    assert event.place == "Another hall"
    assert event.reminded_day_at is None
    assert AuditEvent.objects.filter(action="event.edit", actor=organizer).count() == 1


def test_the_edit_form_shows_the_current_values(as_organizer: Client, organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)

    page = as_organizer.get(reverse("event_edit", args=[event.pk])).content.decode()

    assert "Casa Aztlan" in page and "Verifier training" in page


def test_cancelling_an_event(as_organizer: Client, organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)

    assert as_organizer.post(reverse("event_cancel", args=[event.pk])).status_code == 302
    assert as_organizer.post(reverse("event_cancel", args=[event.pk])).status_code == 302

    event.refresh_from_db()
    assert event.cancelled_at is not None
    assert AuditEvent.objects.filter(action="event.cancel").count() == 1
    assert as_organizer.get(reverse("event_cancel", args=[event.pk])).status_code == 405
    assert as_organizer.post(reverse("event_edit", args=[event.pk]), form_data()).status_code == 409


def test_a_dispatcher_reads_but_cannot_write(dispatcher: User, organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)
    client = as_user(dispatcher)

    assert client.get(reverse("event_list")).status_code == 200
    assert client.get(reverse("event_detail", args=[event.pk])).status_code == 200
    assert client.get(reverse("event_edit", args=[event.pk])).status_code == 403
    assert client.post(reverse("event_cancel", args=[event.pk])).status_code == 403
    assert client.get(reverse("event_attendance", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.cancelled_at is None


def test_an_outsider_sees_nothing_of_our_events(outsider: User, organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(title="Pilsen only"), acting_user=organizer)
    client = as_user(outsider)

    assert "Pilsen only" not in client.get(reverse("event_list")).content.decode()
    for name in ("event_detail",):
        assert client.get(reverse(name, args=[event.pk])).status_code == 404
    other_organizer = make_staff("olga.organizer", Role.ORGANIZER, *outsider.chapters.all())
    other = as_user(other_organizer)
    for name in ("event_detail", "event_edit", "event_attendance"):
        assert other.get(reverse(name, args=[event.pk])).status_code == 404
    assert other.post(reverse("event_cancel", args=[event.pk])).status_code == 404
    assert other.post(reverse("event_edit", args=[event.pk]), form_data(title="hijacked")).status_code == 404
    event.refresh_from_db()
    assert event.cancelled_at is None and event.title == "Pilsen only"


@pytest.mark.parametrize("persona", ["verifier", "legal_coordinator", "volunteer_user"])
def test_other_roles_get_403_on_staff_pages(
    request: pytest.FixtureRequest, persona: str, organizer: User, chapter: Chapter
) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)
    client = as_user(request.getfixturevalue(persona))

    assert client.get(reverse("event_list")).status_code == 403
    assert client.get(reverse("event_detail", args=[event.pk])).status_code == 403


def test_anonymous_is_sent_to_login(neighbour: Client, organizer: User, chapter: Chapter) -> None:
    event = actions.create_event(chapter, training_input(), acting_user=organizer)
    for url in (reverse("event_list"), reverse("event_detail", args=[event.pk]), reverse("responder_events")):
        response = neighbour.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_upcoming_and_past_with_counts(
    as_organizer: Client, chapter: Chapter, ana: Responder, beto: Responder, django_assert_max_num_queries: object
) -> None:
    soon = make_event(chapter, future(), title="Next training")
    make_event(chapter, timezone.now() - timedelta(days=10), title="Old meeting", kind=EventKind.MEETING)
    actions.rsvp(ana, soon, RsvpAnswer.YES)
    actions.rsvp(beto, soon, RsvpAnswer.MAYBE)
    for n in range(10):
        make_event(chapter, future(days=5 + n), title=f"Training {n}")

    with django_assert_max_num_queries(10):  # type: ignore[operator]
        page = as_organizer.get(reverse("event_list")).content.decode()

    assert page.index("Next training") < page.index("Old meeting")
    assert "Training 9" in page


def test_the_event_page_names_who_answered_and_audits_it(
    as_organizer: Client, organizer: User, chapter: Chapter, ana: Responder, beto: Responder
) -> None:
    event = make_event(chapter, future())
    actions.rsvp(ana, event, RsvpAnswer.YES)
    actions.rsvp(beto, event, RsvpAnswer.NO)

    page = as_organizer.get(reverse("event_detail", args=[event.pk])).content.decode()

    assert "Ana Alvarez" in page and "Beto Baños" in page
    assert "Going: 1" in page and "Not going: 1" in page
    assert AuditEvent.objects.filter(action="event.roster_viewed", actor=organizer).count() == 1


def test_free_text_is_escaped_on_every_page(
    as_organizer: Client, organizer: User, chapter: Chapter, volunteer_user: User
) -> None:
    make_responder(chapter, XSS, "+13125550199")
    ana = make_responder(chapter, "Ana", "+13125550198", user=volunteer_user)
    event = actions.create_event(
        chapter, training_input(title=XSS[:120], place=XSS, details=XSS), acting_user=organizer
    )
    actions.rsvp(ana, event, RsvpAnswer.YES)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=5))

    pages = [
        as_organizer.get(reverse("event_list")),
        as_organizer.get(reverse("event_detail", args=[event.pk])),
        as_organizer.get(reverse("event_edit", args=[event.pk])),
        as_organizer.get(reverse("event_attendance", args=[event.pk])),
        as_user(volunteer_user).get(reverse("responder_event", args=[event.pk])),
    ]
    Event.objects.filter(pk=event.pk).update(starts_at=future())
    pages.append(as_user(volunteer_user).get(reverse("responder_events")))
    for response in pages:
        assert response.status_code == 200
        assert XSS not in response.content.decode()
        assert "&lt;script&gt;" in response.content.decode()


# --- volunteers on the web ------------------------------------------------------------------


def test_a_volunteer_sees_upcoming_events_with_the_place_and_answers(
    as_volunteer: Client, ana: Responder, volunteer_user: User, chapter: Chapter, other_chapter: Chapter
) -> None:
    event = make_event(chapter, future(), title="Know your rights")
    make_event(other_chapter, future(), title="Cicero only")
    make_event(chapter, timezone.now() - timedelta(days=2), title="Last month")

    page = as_volunteer.get(reverse("responder_events")).content.decode()

    assert "Know your rights" in page and "Casa Aztlan" in page
    assert "Cicero only" not in page and "Last month" not in page
    assert AuditEvent.objects.filter(action="event.places_viewed", actor=volunteer_user).count() == 1

    response = as_volunteer.post(reverse("responder_event", args=[event.pk]), {"answer": "yes"})
    assert response.status_code == 302
    assert Rsvp.objects.get(event=event, responder=ana).answer == RsvpAnswer.YES

    as_volunteer.post(reverse("responder_event", args=[event.pk]), {"answer": "maybe"})
    found = Rsvp.objects.get(event=event, responder=ana)
    assert (found.answer, found.via) == (RsvpAnswer.MAYBE, "web")
    assert AuditEvent.objects.filter(action="event.rsvp", actor=volunteer_user).count() == 2

    detail = as_volunteer.get(reverse("responder_event", args=[event.pk]))
    assert detail.status_code == 200 and "Casa Aztlan" in detail.content.decode()
    assert AuditEvent.objects.filter(action="event.place_viewed", object_id=str(event.pk)).exists()


def test_a_volunteer_cannot_see_or_answer_another_chapters_event(as_volunteer: Client, other_chapter: Chapter) -> None:
    theirs = make_event(other_chapter, future(), title="Cicero only")

    assert as_volunteer.get(reverse("responder_event", args=[theirs.pk])).status_code == 404
    assert as_volunteer.post(reverse("responder_event", args=[theirs.pk]), {"answer": "yes"}).status_code == 404
    assert not Rsvp.objects.exists()


def test_bad_answers_and_closed_events_are_4xx(as_volunteer: Client, chapter: Chapter) -> None:
    event = make_event(chapter, future())
    started = make_event(chapter, timezone.now() - timedelta(minutes=10))

    assert as_volunteer.post(reverse("responder_event", args=[event.pk]), {"answer": "party"}).status_code == 400
    assert as_volunteer.post(reverse("responder_event", args=[started.pk]), {"answer": "yes"}).status_code == 409
    Event.objects.filter(pk=event.pk).update(cancelled_at=timezone.now())
    response = as_volunteer.post(reverse("responder_event", args=[event.pk]), {"answer": "yes"})
    assert response.status_code == 409
    assert "cancelled" in response.content.decode()
    assert not Rsvp.objects.exists()


def test_staff_and_unapproved_volunteers_have_no_volunteer_pages(
    dispatcher: User, chapter: Chapter, organizer: User
) -> None:
    event = make_event(chapter, future())
    pending_user = make_staff("paco.pending", Role.VOLUNTEER, chapter)
    make_responder(chapter, "Paco", "+13125550177", status=ResponderStatus.APPLIED, user=pending_user)
    for user in (dispatcher, organizer, pending_user):
        client = as_user(user)
        assert client.get(reverse("responder_events")).status_code == 404
        assert client.get(reverse("responder_event", args=[event.pk])).status_code == 404


def test_the_volunteer_list_is_a_few_queries(
    as_volunteer: Client, chapter: Chapter, django_assert_max_num_queries: object
) -> None:
    for n in range(15):
        make_event(chapter, future(days=2 + n), title=f"Training {n}")

    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert as_volunteer.get(reverse("responder_events")).status_code == 200


# --- attendance -----------------------------------------------------------------------------


def test_attendance_records_the_training_and_makes_the_volunteer_pageable(
    as_organizer: Client, organizer: User, chapter: Chapter, ana: Responder, beto: Responder
) -> None:
    event = make_event(chapter, timezone.now() - timedelta(hours=3), role=ResponderRole.VERIFIER)
    today = timezone.localdate()
    trained = Responder.objects.filter(oncall.current_training_q(ResponderRole.VERIFIER, today))
    assert not trained.exists()

    page = as_organizer.get(reverse("event_attendance", args=[event.pk])).content.decode()
    assert "Ana Alvarez" in page and "Beto Baños" in page  # every approved volunteer, answered or not

    response = as_organizer.post(
        reverse("event_attendance", args=[event.pk]),
        {"listed": [str(ana.pk), str(beto.pk)], "attended": [str(ana.pk)]},
    )

    assert response.status_code == 302
    training = Training.objects.get()
    completed = timezone.localtime(event.starts_at).date()
    assert (training.responder, training.role, training.source) == (ana, ResponderRole.VERIFIER, "event")
    assert training.completed_on == completed
    assert training.expires_on == add_months(completed, 12)
    assert training.recorded_by == organizer
    assert list(trained) == [ana]
    assert dict(Attendance.objects.values_list("responder_id", "attended")) == {ana.pk: True, beto.pk: False}
    assert AuditEvent.objects.filter(action="event.attendance", actor=organizer).count() == 1
    assert AuditEvent.objects.filter(action="event.training_recorded").count() == 1
    event.refresh_from_db()
    assert event.attendance_taken_at is not None


def test_taking_attendance_twice_records_the_training_once(
    organizer: User, chapter: Chapter, ana: Responder, beto: Responder
) -> None:
    event = make_event(chapter, timezone.now() - timedelta(hours=3))

    assert actions.record_attendance(event, {ana.pk: True, beto.pk: False}, organizer) == 1
    assert actions.record_attendance(event, {ana.pk: True, beto.pk: False}, organizer) == 0
    assert Training.objects.count() == 1

    # A correction: Beto came after all, Ana did not.
    assert actions.record_attendance(event, {ana.pk: False, beto.pk: True}, organizer) == 1
    assert list(Training.objects.values_list("responder_id", flat=True)) == [beto.pk]
    assert Attendance.objects.count() == 2


def test_a_meeting_records_no_training(organizer: User, chapter: Chapter, ana: Responder) -> None:
    event = make_event(chapter, timezone.now() - timedelta(hours=3), kind=EventKind.MEETING)

    assert actions.record_attendance(event, {ana.pk: True}, organizer) == 0
    assert not Training.objects.exists()
    assert Attendance.objects.get().attended is True


def test_attendance_refuses_the_future_strangers_and_tampered_lists(
    as_organizer: Client, organizer: User, chapter: Chapter, other_chapter: Chapter, ana: Responder
) -> None:
    upcoming = make_event(chapter, future())
    stranger = make_responder(other_chapter, "Stranger", "+13125550166")
    past = make_event(chapter, timezone.now() - timedelta(hours=3))

    with pytest.raises(actions.EventError):
        actions.record_attendance(upcoming, {ana.pk: True}, organizer)
    with pytest.raises(actions.EventError):
        actions.record_attendance(past, {stranger.pk: True}, organizer)
    url = reverse("event_attendance", args=[past.pk])
    assert as_organizer.post(url, {"listed": ["not-a-uuid"]}).status_code == 400
    assert as_organizer.post(url, {"listed": [str(ana.pk)], "attended": [str(stranger.pk)]}).status_code == 400
    assert as_organizer.post(url, {"listed": [str(stranger.pk)], "attended": [str(stranger.pk)]}).status_code == 400
    assert not Training.objects.exists() and not Attendance.objects.exists()


def test_months_are_added_to_the_calendar() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 23), 12) == date(2027, 11, 23)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
