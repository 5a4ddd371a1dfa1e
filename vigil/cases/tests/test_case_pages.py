"""Opening a case (hotline call, incident), a case's page, its small writes, and the lookup by
A-number or phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.cases import actions
from vigil.cases.models import (
    Case,
    CaseNote,
    CaseStatus,
    Child,
    FamilyContact,
    OpenedFrom,
    Task,
    TaskKind,
)
from vigil.cases.tests.core_fixtures import XSS, assign, make_incident, open_case
from vigil.core.models import AuditEvent, Chapter, Zone
from vigil.core.phones import phone_index
from vigil.intake.models import Report


def person_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "Rosa Díaz",
        "date_of_birth": "1984-03-12",
        "a_number": "A-123-456-789",
        "country_of_birth": "Mexico",
        "languages": "Spanish",
        "phone": "(312) 555-0100",
        "taken_at": "2026-11-20T07:30",
        "taken_place": "18th St & Blue Island",
        "summary": "Taken outside her home.",
    }
    data.update(changes)
    return data


# --- opening ---------------------------------------------------------------------------------


def test_the_legal_coordinator_opens_a_case_from_a_hotline_call(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    login(client, legal_coordinator)
    assert client.get(reverse("case_new")).status_code == 200

    response = client.post(reverse("case_new"), person_data())

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert case.opened_from == OpenedFrom.HOTLINE and case.chapter == chapter
    assert case.name == "Rosa Díaz"
    assert case.a_number == "123456789"
    assert case.a_number_index == actions.a_number_index("123456789")
    assert case.phone_index == phone_index("+13125550100")
    assert sorted(case.tasks.values_list("kind", flat=True)) == sorted(
        ["located", "family", "attorney", "bond", "children"]
    )
    assert AuditEvent.objects.filter(action="case.open", object_id=str(case.pk)).count() == 1

    page = client.get(response["Location"]).content.decode()
    assert "Rosa Díaz" in page and "C-0001" in page


def test_a_bad_phone_is_refused_with_400_and_nothing_is_saved(client: Client, legal_coordinator: User) -> None:
    login(client, legal_coordinator)
    response = client.post(reverse("case_new"), person_data(phone="not a phone"))
    assert response.status_code == 400
    assert "This is not a phone number we can use." in response.content.decode()
    assert not Case.objects.exists()


def test_a_bad_a_number_is_refused_with_400(client: Client, legal_coordinator: User) -> None:
    login(client, legal_coordinator)
    response = client.post(reverse("case_new"), person_data(a_number="A-12"))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_date_past_the_year_2100_is_a_clear_400_not_a_crash(client: Client, legal_coordinator: User) -> None:
    login(client, legal_coordinator)
    response = client.post(reverse("case_new"), person_data(taken_at="9999-12-31T23:59"))
    assert response.status_code == 400 and "between 2000 and 2100" in response.content.decode()
    assert not Case.objects.exists()


def test_an_overlong_name_is_refused(client: Client, legal_coordinator: User) -> None:
    login(client, legal_coordinator)
    assert client.post(reverse("case_new"), person_data(name="x" * 201)).status_code == 400
    assert not Case.objects.exists()


def test_organizers_and_verifiers_do_not_open_cases(client: Client, organizer: User, verifier: User) -> None:
    for user in (organizer, verifier):
        login(client, user)
        assert client.get(reverse("case_new")).status_code == 404
        assert client.post(reverse("case_new"), person_data()).status_code == 404
    assert not Case.objects.exists()


def test_a_dispatcher_opens_a_case_from_an_incident_and_lands_on_the_edit_page(
    client: Client, dispatcher: User, chapter: Chapter, zone: Zone
) -> None:
    incident = make_incident(chapter, zone)
    login(client, dispatcher)
    assert 'id="open-case"' in client.get(reverse("incident_detail", args=[incident.pk])).content.decode()

    response = client.post(reverse("case_from_incident", args=[incident.pk]))

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case_edit", args=[case.pk])
    assert case.opened_from == OpenedFrom.INCIDENT
    assert case.incident_id == incident.pk
    assert case.taken_at == incident.first_report_at
    assert "Pilsen" in case.taken_place and "60608" in case.taken_place
    assert case.summary == f"Opened from incident #{incident.pk}"
    assert case.assignments.filter(user=dispatcher).exists()

    edit = client.get(response["Location"])
    assert edit.status_code == 200
    client.post(response["Location"], person_data(name="Juan Pérez", a_number="", phone=""))
    case.refresh_from_db()
    assert case.name == "Juan Pérez"

    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("incident_detail", args=[incident.pk]) in page


def test_the_case_from_an_incident_takes_the_reports_address_and_who_reported(
    client: Client, legal_coordinator: User, chapter: Chapter, zone: Zone
) -> None:
    from vigil.incidents.models import IncidentReport

    incident = make_incident(chapter, zone)
    report = Report(
        chapter=chapter,
        received_at=incident.first_report_at,
        channel="web",
        purge_after=timezone.now() + timedelta(days=30),
    )
    report.address = "1831 S Racine Ave"
    report.contact_phone = "+13125550177"
    report.save()
    IncidentReport.objects.create(report=report, incident=incident, linked_at=incident.first_report_at)
    login(client, legal_coordinator)

    client.post(reverse("case_from_incident", args=[incident.pk]))

    case = Case.objects.select_related("data_key").get()
    assert "1831 S Racine Ave" in case.taken_place
    assert "Reported by: Web" in case.summary and "left a call-back number" in case.summary
    # The number stays with intake and its 7-day purge (invariant 6), not in the legal file.
    assert "5550177" not in case.summary


def test_another_chapters_incident_opens_nothing(
    client: Client, dispatcher: User, other_chapter: Chapter, other_zone: Zone
) -> None:
    incident = make_incident(other_chapter, other_zone)
    login(client, dispatcher)
    assert client.post(reverse("case_from_incident", args=[incident.pk])).status_code == 404
    assert not Case.objects.exists()


# --- the case page and its writes --------------------------------------------------------------


def test_the_case_page_shows_everything_about_the_case(
    client: Client, legal_coordinator: User, dispatcher: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator, a_number="A-123-456-789", phone="3125550100")
    assign(case, dispatcher)
    actions_user = legal_coordinator
    from django.db import transaction

    with transaction.atomic():
        actions.store_family_contact(
            case, name="Ana Díaz", relationship="sister", phone="3125550111", actor=actions_user
        )
        actions.store_child(case, name="Leo", age="7", school="Jungman", caregiver="Ana", actor=actions_user)
    login(client, legal_coordinator)

    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()

    for text in ("Rosa Díaz", "123456789", "+13125550100", "Ana Díaz", "sister", "+13125550111", "Leo", "Jungman"):
        assert text in page
    assert "dana.dispatcher" in page
    for label in ("Located", "Family informed", "Attorney assigned", "Bond decided", "Children safe"):
        assert label in page


def test_staff_add_needs_family_children_and_notes(
    client: Client, legal_coordinator: User, dispatcher: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    login(client, legal_coordinator)
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    r1 = client.post(
        reverse("case_task_add", args=[case.pk]),
        {"task-kind": "food", "task-detail": "Groceries for 4", "task-owner": str(dispatcher.pk), "task-due_at": due},
    )
    r2 = client.post(
        reverse("case_family_add", args=[case.pk]),
        {"family-name": "Ana", "family-phone": "312 555 0111", "family-language": "en", "family-reminders": "on"},
    )
    r3 = client.post(reverse("case_child_add", args=[case.pk]), {"child-name": "Leo", "child-age": "7"})
    r4 = client.post(reverse("case_note_add", args=[case.pk]), {"note-body": "Called the facility."})

    assert [r.status_code for r in (r1, r2, r3, r4)] == [302, 302, 302, 302]
    need = Task.objects.get(case=case, kind=TaskKind.FOOD)
    assert need.detail == "Groceries for 4" and need.owner == dispatcher and need.due_at is not None
    contact = FamilyContact.objects.get(case=case)
    assert contact.phone == "+13125550111" and contact.language == "en" and contact.reminders
    assert contact.sms_endpoint is not None
    assert Child.objects.get(case=case).name == "Leo"
    assert CaseNote.objects.get(case=case).body == "Called the facility."
    actions_logged = set(AuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
    assert {"case.task_add", "case.family_add", "case.child_add", "case.note_add"} <= actions_logged


def test_a_bad_family_phone_is_400_and_nothing_is_saved(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    login(client, legal_coordinator)
    response = client.post(
        reverse("case_family_add", args=[case.pk]),
        {"family-name": "Ana", "family-phone": "12", "family-language": "es"},
    )
    assert response.status_code == 400
    assert "This is not a phone number we can use." in response.content.decode()
    assert not FamilyContact.objects.exists()


def test_an_owner_must_be_staff_of_the_cases_chapter(
    client: Client, legal_coordinator: User, outsider: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    task = case.tasks.get(kind=TaskKind.LOCATED)
    login(client, legal_coordinator)

    response = client.post(
        reverse("case_task_update", args=[case.pk, task.pk]), {"action": "save", "owner": str(outsider.pk)}
    )

    assert response.status_code == 400
    task.refresh_from_db()
    assert task.owner is None


def test_a_task_due_in_the_year_9999_is_a_clear_400(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    case = open_case(chapter, legal_coordinator)
    task = case.tasks.get(kind=TaskKind.ATTORNEY)
    login(client, legal_coordinator)
    far = "9999-12-31T23:59"
    added = client.post(reverse("case_task_add", args=[case.pk]), {"task-kind": "food", "task-due_at": far})
    updated = client.post(reverse("case_task_update", args=[case.pk, task.pk]), {"action": "save", "due_at": far})
    assert added.status_code == 400 and updated.status_code == 400
    task.refresh_from_db()
    assert task.due_at is None and not case.tasks.filter(kind=TaskKind.FOOD).exists()


def test_checklist_items_are_done_undone_and_given_an_owner(
    client: Client, legal_coordinator: User, verifier: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    task = case.tasks.get(kind=TaskKind.ATTORNEY)
    login(client, legal_coordinator)
    url = reverse("case_task_update", args=[case.pk, task.pk])

    client.post(url, {"action": "done"})
    task.refresh_from_db()
    assert task.done_at is not None
    client.post(url, {"action": "undo"})
    task.refresh_from_db()
    assert task.done_at is None
    client.post(url, {"action": "save", "owner": str(verifier.pk), "due_at": "2026-12-01T09:00"})
    task.refresh_from_db()
    assert task.owner == verifier and task.due_at is not None


def test_when_every_child_is_safe_the_checklist_item_is_done(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    from django.db import transaction

    with transaction.atomic():
        leo = actions.store_child(case, name="Leo", actor=legal_coordinator)
        mia = actions.store_child(case, name="Mia", actor=legal_coordinator)
    login(client, legal_coordinator)
    url = reverse("case_child_add", args=[case.pk])

    client.post(url, {"mark_safe": str(leo.pk), "safe": "1"})
    assert case.tasks.get(kind=TaskKind.CHILDREN_SAFE).done_at is None
    client.post(url, {"mark_safe": str(mia.pk), "safe": "1"})

    assert case.tasks.get(kind=TaskKind.CHILDREN_SAFE).done_at is not None
    assert Child.objects.filter(case=case, safe_at__isnull=False).count() == 2


def test_the_legal_team_assigns_and_unassigns_staff(
    client: Client, legal_coordinator: User, verifier: User, outsider: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    login(client, legal_coordinator)
    url = reverse("case_assign", args=[case.pk])

    assert client.post(url, {"op": "add", "user": str(verifier.pk)}).status_code == 302
    assert case.assignments.filter(user=verifier).exists()
    assert client.post(url, {"op": "add", "user": str(outsider.pk)}).status_code == 400
    assert not case.assignments.filter(user=outsider).exists()
    assert client.post(url, {"op": "remove", "user": str(verifier.pk)}).status_code == 302
    assert not case.assignments.exists()
    assert AuditEvent.objects.filter(action="case.unassign", object_id=str(case.pk)).count() == 1


def test_a_volunteer_can_be_assigned_for_the_reminders_but_still_sees_no_case(
    client: Client, legal_coordinator: User, volunteer: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator)
    login(client, legal_coordinator)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "vale.volunteer" in page  # offered in the assign list

    assert (
        client.post(reverse("case_assign", args=[case.pk]), {"op": "add", "user": str(volunteer.pk)}).status_code == 302
    )

    assert case.assignments.filter(user=volunteer).exists()
    assert login(Client(), volunteer).get(reverse("case_detail", args=[case.pk])).status_code == 404


def test_xss_in_names_and_notes_is_rendered_escaped(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    case = open_case(chapter, legal_coordinator, name=XSS, summary=XSS)
    login(client, legal_coordinator)
    client.post(reverse("case_note_add", args=[case.pk]), {"note-body": XSS})
    client.post(reverse("case_family_add", args=[case.pk]), {"family-name": XSS, "family-language": "es"})
    client.post(reverse("case_child_add", args=[case.pk]), {"child-name": XSS, "child-school": XSS})
    client.post(reverse("case_task_add", args=[case.pk]), {"task-kind": "other", "task-detail": XSS})

    for url in (reverse("case_detail", args=[case.pk]), reverse("case_edit", args=[case.pk]), reverse("case_board")):
        page = client.get(url).content.decode()
        assert XSS not in page
        assert "&lt;script&gt;" in page


def test_the_edit_page_re_indexes_the_a_number_and_phone(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator, a_number="A-123-456-789")
    login(client, legal_coordinator)

    response = client.post(reverse("case_edit", args=[case.pk]), person_data(a_number="987654321", phone="3125550199"))

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.a_number_index == actions.a_number_index("987654321")
    assert case.phone_index == phone_index("+13125550199")
    assert AuditEvent.objects.filter(action="case.edit", object_id=str(case.pk)).count() == 1
    bad = client.post(reverse("case_edit", args=[case.pk]), person_data(phone="nope"))
    assert bad.status_code == 400
    case.refresh_from_db()
    assert case.phone_index == phone_index("+13125550199")


def test_a_closed_case_refuses_changes(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    case = open_case(chapter, legal_coordinator)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=timezone.now(), outcome="released")
    login(client, legal_coordinator)

    page = client.get(reverse("case_detail", args=[case.pk]))
    note = client.post(reverse("case_note_add", args=[case.pk]), {"note-body": "late"})
    edit = client.post(reverse("case_edit", args=[case.pk]), person_data())

    assert page.status_code == 200 and "read-only" in page.content.decode()
    assert note.status_code == 409 and "This case is closed" in note.content.decode()
    assert edit.status_code == 409
    assert not CaseNote.objects.exists()
    assert Case.objects.get().name == "Rosa Díaz"


def test_a_shredded_case_says_its_data_was_destroyed(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    from vigil.core.rowkeys import shred

    case = open_case(chapter, legal_coordinator)
    shred(case.data_key_id)
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.SHREDDED, closed_at=timezone.now(), shredded_at=timezone.now(), outcome="released"
    )
    login(client, legal_coordinator)

    response = client.get(reverse("case_detail", args=[case.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "personal data of this case was destroyed" in page
    assert "Rosa Díaz" not in page


# --- finding a case ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("A-123-456-789", "123456789"), ("１２３４５６７８９", "123456789"), ("Ａ12345678", "012345678"), ("", "")],
)
def test_an_a_number_typed_any_way_is_the_same_nine_digits(typed: str, stored: str) -> None:
    assert actions.normalize_a_number(typed) == stored


@pytest.mark.parametrize("typed", ["A-12", "١٢٣٤٥٦٧٨٩", "A 123 456 789 0"])
def test_what_is_not_an_a_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        actions.normalize_a_number(typed)


def test_an_a_number_finds_the_case_only_when_it_is_exactly_right(
    client: Client, legal_coordinator: User, chapter: Chapter, other_chapter: Chapter
) -> None:
    case = open_case(chapter, legal_coordinator, a_number="A-123-456-789")
    open_case(other_chapter, legal_coordinator, a_number="A-123-456-789")  # not theirs
    login(client, legal_coordinator)

    right = client.get(reverse("case_find"), {"q": "a123456789"})
    wrong = client.get(reverse("case_find"), {"q": "A-123-456-788"})

    assert right.status_code == 200
    assert reverse("case_detail", args=[case.pk]) in right.content.decode()
    assert wrong.status_code == 200
    assert reverse("case_detail", args=[case.pk]) not in wrong.content.decode()
    assert AuditEvent.objects.filter(action="case.find", actor=legal_coordinator).count() == 2


def test_lookups_are_limited_per_person_per_hour(
    client: Client, legal_coordinator: User, chapter: Chapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.cases import views

    monkeypatch.setattr(views, "FINDS_PER_HOUR", 3)
    login(client, legal_coordinator)
    answers = [client.get(reverse("case_find"), {"q": f"A-123-456-78{n}"}).status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]
    assert AuditEvent.objects.filter(action="case.find").count() == 3


def test_a_family_phone_finds_the_case(client: Client, dispatcher: User, chapter: Chapter) -> None:
    case = open_case(chapter, dispatcher)
    from django.db import transaction

    with transaction.atomic():
        actions.store_family_contact(case, name="Ana", phone="3125550111", actor=dispatcher)
    login(client, dispatcher)

    response = client.get(reverse("case_find"), {"q": "(312) 555-0111"})

    assert reverse("case_detail", args=[case.pk]) in response.content.decode()


def test_a_lookup_that_is_neither_an_a_number_nor_a_phone_is_400(client: Client, legal_coordinator: User) -> None:
    login(client, legal_coordinator)
    response = client.get(reverse("case_find"), {"q": "Rosa"})
    assert response.status_code == 400
    assert "neither an A-number" in response.content.decode()
    assert client.get(reverse("case_find"), {"q": "1" * 500}).status_code == 400
    assert client.get(reverse("case_find")).status_code == 200


def test_the_case_page_takes_the_same_number_of_queries_for_few_or_many_notes_and_tasks(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    case = open_case(chapter, legal_coordinator)

    def add(n: int) -> None:
        with transaction.atomic():
            for i in range(n):
                note = CaseNote(case=case, author=legal_coordinator, at=timezone.now())
                note.body = f"note {i}"
                note.save(force_insert=True)
                task = Task(case=case, kind=TaskKind.FOOD, owner=legal_coordinator, created_at=timezone.now())
                task.detail = f"need {i}"
                task.save(force_insert=True)
                actions.store_child(case, name=f"Child {i}", actor=legal_coordinator)
                actions.store_family_contact(case, name=f"Contact {i}", actor=legal_coordinator)

    add(2)
    login(client, legal_coordinator)
    url = reverse("case_detail", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add(15)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.content.decode().count("Child 1") >= 7  # Child 1, Child 10..14 of the second batch
    assert len(many.captured_queries) == len(few.captured_queries)
