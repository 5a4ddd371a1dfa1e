"""Who may reach the case pages (SECURITY-TESTS.md D2, D4, D5): the legal team of the
chapter, and staff assigned to the case. Everyone else gets 404, whatever the route or method."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import login
from vigil.accounts.models import User
from vigil.cases import board
from vigil.cases.models import Case, CaseNote, Task
from vigil.cases.tests.core_fixtures import assign, make_incident, open_case
from vigil.core.models import AuditEvent, Chapter, Zone

CASE_ROUTES = [
    "case_detail",
    "case_edit",
    "case_assign",
    "case_task_add",
    "case_task_update",
    "case_family_add",
    "case_child_add",
    "case_note_add",
]
ALL_ROUTES = ["case_board", "case_new", "case_find", "case_from_incident", *CASE_ROUTES]


@pytest.fixture
def case(chapter: Chapter, legal_coordinator: User) -> Case:
    return open_case(chapter, legal_coordinator, a_number="A-123-456-789")


def url_for(name: str, case: Case, incident_id: int) -> str:
    if name in ("case_board", "case_new", "case_find"):
        return reverse(name)
    if name == "case_from_incident":
        return reverse(name, args=[incident_id])
    if name == "case_task_update":
        return reverse(name, args=[case.pk, case.tasks.first().pk])  # type: ignore[union-attr]
    return reverse(name, args=[case.pk])


POSTS: dict[str, dict[str, str]] = {
    "case_edit": {"name": "Changed"},
    "case_assign": {"op": "add", "user": "1"},
    "case_task_add": {"task-kind": "food", "task-detail": "groceries"},
    "case_task_update": {"action": "done"},
    "case_family_add": {"family-name": "Ana", "family-language": "es"},
    "case_child_add": {"child-name": "Leo"},
    "case_note_add": {"note-body": "hello"},
}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", CASE_ROUTES + ["case_from_incident"])
def test_the_outsider_gets_404_on_every_case_route_whatever_the_method(
    client: Client, outsider: User, case: Case, zone: Zone, name: str, method: str
) -> None:
    incident = make_incident(case.chapter, zone)
    login(client, outsider)
    before = (Task.objects.count(), CaseNote.objects.count(), AuditEvent.objects.filter(action="case.read").count())

    response = getattr(client, method)(url_for(name, case, incident.pk), POSTS.get(name, {}))

    assert response.status_code == 404
    assert (
        Task.objects.count(),
        CaseNote.objects.count(),
        AuditEvent.objects.filter(action="case.read").count(),
    ) == before
    assert Case.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", CASE_ROUTES)
def test_a_dispatcher_not_assigned_to_the_case_gets_404(
    client: Client, dispatcher: User, case: Case, name: str, method: str
) -> None:
    login(client, dispatcher)
    response = getattr(client, method)(url_for(name, case, 1), POSTS.get(name, {}))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, "get") for name in ALL_ROUTES]
    + [(name, "post") for name in ALL_ROUTES if name not in ("case_board", "case_find")],
)
def test_a_volunteer_gets_404_everywhere(client: Client, volunteer: User, case: Case, name: str, method: str) -> None:
    login(client, volunteer)
    response = getattr(client, method)(url_for(name, case, 1), POSTS.get(name, {}))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ALL_ROUTES)
def test_the_anonymous_are_sent_to_log_in(neighbour: Client, case: Case, name: str) -> None:
    response = neighbour.get(url_for(name, case, 1))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("name", CASE_ROUTES)
def test_a_made_up_case_id_is_404(client: Client, legal_coordinator: User, case: Case, name: str) -> None:
    login(client, legal_coordinator)
    made_up = uuid.uuid4()
    args: list[Any] = [made_up, uuid.uuid4()] if name == "case_task_update" else [made_up]
    assert client.get(reverse(name, args=args)).status_code == 404
    assert client.post(reverse(name, args=args), POSTS.get(name, {})).status_code == 404


def test_a_task_of_another_case_is_404(client: Client, legal_coordinator: User, case: Case, chapter: Chapter) -> None:
    other = open_case(chapter, legal_coordinator, name="Other")
    login(client, legal_coordinator)
    task = other.tasks.first()
    assert task is not None
    response = client.post(reverse("case_task_update", args=[case.pk, task.pk]), {"action": "done"})
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.done_at is None


def test_once_assigned_the_dispatcher_reads_the_case(client: Client, dispatcher: User, case: Case) -> None:
    assign(case, dispatcher)
    login(client, dispatcher)
    response = client.get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    assert "Rosa Díaz" in response.content.decode()


def test_a_post_only_route_answers_405_to_someone_who_may_see_the_case(
    client: Client, legal_coordinator: User, case: Case
) -> None:
    login(client, legal_coordinator)
    assert client.get(reverse("case_note_add", args=[case.pk])).status_code == 405


def test_only_the_legal_team_assigns(client: Client, dispatcher: User, verifier: User, case: Case) -> None:
    assign(case, dispatcher)
    login(client, dispatcher)
    response = client.post(reverse("case_assign", args=[case.pk]), {"op": "add", "user": str(verifier.pk)})
    assert response.status_code == 404
    assert not case.assignments.filter(user=verifier).exists()


def test_every_read_of_a_case_writes_one_audit_row(client: Client, legal_coordinator: User, case: Case) -> None:
    login(client, legal_coordinator)
    client.get(reverse("case_detail", args=[case.pk]))
    client.get(reverse("case_detail", args=[case.pk]))

    reads = AuditEvent.objects.filter(action="case.read", object_id=str(case.pk), actor=legal_coordinator)
    assert reads.count() == 2


def test_reading_many_cases_in_an_hour_writes_one_bulk_read_row(
    client: Client, legal_coordinator: User, chapter: Chapter, settings: Any
) -> None:
    settings.CASE_READ_ALERT = 3
    cases = [open_case(chapter, legal_coordinator, name=f"Person {n}") for n in range(6)]
    login(client, legal_coordinator)
    for case in cases[:3]:
        client.get(reverse("case_detail", args=[case.pk]))
    assert not AuditEvent.objects.filter(action="case.bulk_read").exists()

    for case in cases[3:]:
        client.get(reverse("case_detail", args=[case.pk]))

    assert AuditEvent.objects.filter(action="case.bulk_read", actor=legal_coordinator).count() == 1


def test_walking_the_board_page_after_page_is_bulk_reading_too(
    client: Client, legal_coordinator: User, chapter: Chapter, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board lists names without opening cases: an insider paging through all of it must
    trip the same alert (D5). Refreshing the page she works from does not."""
    monkeypatch.setattr(board, "PAGE_SIZE", 1)
    settings.CASE_BOARD_PAGE_ALERT = 2
    for n in range(4):
        open_case(chapter, legal_coordinator, name=f"Person {n}")
    login(client, legal_coordinator)
    for _refresh in range(5):
        assert client.get(reverse("case_board")).status_code == 200
    client.get(reverse("case_board"), {"page": 2})
    assert not AuditEvent.objects.filter(action="case.bulk_read").exists()

    client.get(reverse("case_board"), {"page": 3})
    client.get(reverse("case_board"), {"page": 4})

    assert AuditEvent.objects.filter(action="case.bulk_read", actor=legal_coordinator).count() == 1
    pages = AuditEvent.objects.filter(action="case.board", actor=legal_coordinator)
    assert set(pages.values_list("object_id", flat=True)) == {"open/all/1", "open/all/2", "open/all/3", "open/all/4"}
