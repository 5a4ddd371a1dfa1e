"""The case board: the legal team sees every open case of its chapters, other staff only the
cases assigned to them; overdue cases first; the same number of queries for 3 or 30 cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.cases.board import countdown, initials
from vigil.cases.models import CaseStatus, Task, TaskKind
from vigil.cases.tests.core_fixtures import XSS, add_deadline, add_hearing, assign, open_case
from vigil.core.models import AuditEvent, Chapter


def test_the_legal_coordinator_sees_every_open_case_of_the_chapter_with_names(
    client: Client, legal_coordinator: User, dispatcher: User, chapter: Chapter, other_chapter: Chapter
) -> None:
    open_case(chapter, legal_coordinator, name="Rosa Díaz")
    open_case(chapter, dispatcher, name="Juan Pérez")
    open_case(other_chapter, legal_coordinator, name="Somebody Else")
    login(client, legal_coordinator)

    response = client.get(reverse("case_board"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Rosa Díaz" in page and "Juan Pérez" in page
    assert "Somebody Else" not in page
    assert "C-0001" in page and "C-0002" in page


def test_a_dispatcher_sees_only_the_cases_assigned_to_them(
    client: Client, legal_coordinator: User, dispatcher: User, chapter: Chapter
) -> None:
    open_case(chapter, legal_coordinator, name="Rosa Díaz")
    open_case(chapter, dispatcher, name="Juan Pérez")  # the dispatcher who opens it is assigned
    login(client, dispatcher)

    page = client.get(reverse("case_board")).content.decode()

    assert "Juan Pérez" in page
    assert "Rosa Díaz" not in page


def test_every_board_view_writes_one_audit_row(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    open_case(chapter, legal_coordinator)
    login(client, legal_coordinator)
    client.get(reverse("case_board"))
    rows = AuditEvent.objects.filter(action="case.board", actor=legal_coordinator)
    assert rows.count() == 1
    assert rows.get().chapter == chapter


def test_overdue_cases_come_first_and_show_their_count(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    calm = open_case(chapter, legal_coordinator, name="Calm Case")
    late = open_case(chapter, legal_coordinator, name="Late Case")
    Task.objects.filter(case=late, kind=TaskKind.LOCATED).update(due_at=timezone.now() - timedelta(hours=3))
    add_deadline(late, timezone.now() - timedelta(hours=1))
    login(client, legal_coordinator)

    page = client.get(reverse("case_board")).content.decode()
    assert page.index("Late Case") < page.index("Calm Case")
    assert '<tr class="late">' in page
    assert "<strong>2</strong>" in page

    overdue_only = client.get(reverse("case_board") + "?filter=overdue").content.decode()
    assert "Late Case" in overdue_only and "Calm Case" not in overdue_only
    assert calm.label not in overdue_only


def test_the_next_hearing_shows_a_countdown(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    case = open_case(chapter, legal_coordinator)
    add_hearing(case, timezone.now() + timedelta(days=2, hours=1))
    login(client, legal_coordinator)

    page = client.get(reverse("case_board")).content.decode()

    assert "Hearing" in page
    assert "in 2 days" in page


def test_mine_shows_cases_assigned_to_me_or_with_my_tasks(
    client: Client, legal_coordinator: User, chapter: Chapter
) -> None:
    open_case(chapter, legal_coordinator, name="Not Mine")
    assigned = open_case(chapter, legal_coordinator, name="Assigned Case")
    owned = open_case(chapter, legal_coordinator, name="Owned Task Case")
    assign(assigned, legal_coordinator)
    Task.objects.filter(case=owned, kind=TaskKind.ATTORNEY).update(owner=legal_coordinator)
    login(client, legal_coordinator)

    page = client.get(reverse("case_board") + "?filter=mine").content.decode()

    assert "Assigned Case" in page and "Owned Task Case" in page
    assert "Not Mine" not in page
    assert "LL" in page  # lucia.legal owns a checklist item


def test_closed_cases_have_their_own_tab(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    open_case(chapter, legal_coordinator, name="Still Open")
    closed = open_case(chapter, legal_coordinator, name="Now Closed")
    closed.status = CaseStatus.CLOSED
    closed.closed_at = timezone.now()
    closed.save(update_fields=["status", "closed_at"])
    login(client, legal_coordinator)

    open_tab = client.get(reverse("case_board")).content.decode()
    closed_tab = client.get(reverse("case_board") + "?tab=closed").content.decode()

    assert "Still Open" in open_tab and "Now Closed" not in open_tab
    assert "Now Closed" in closed_tab and "Still Open" not in closed_tab


def test_names_on_the_board_are_escaped(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    open_case(chapter, legal_coordinator, name=XSS)
    login(client, legal_coordinator)
    page = client.get(reverse("case_board")).content.decode()
    assert XSS not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("filter", ["all", "mine", "overdue"])
def test_the_board_takes_the_same_number_of_queries_for_3_or_30_cases(
    client: Client,
    legal_coordinator: User,
    dispatcher: User,
    chapter: Chapter,
    django_assert_num_queries: Any,
    filter: str,
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            case = open_case(chapter, legal_coordinator, name=f"Person {Task.objects.count()}-{i}")
            assign(case, legal_coordinator)
            assign(case, dispatcher)
            Task.objects.filter(case=case).update(owner=dispatcher, due_at=timezone.now() - timedelta(hours=1))
            add_hearing(case, timezone.now() + timedelta(days=3))
            add_deadline(case, timezone.now() + timedelta(days=1))

    add(3)
    login(client, legal_coordinator)
    url = reverse("case_board") + f"?filter={filter}"
    client.get(url)  # the session's first request checks MFA once; measure the ones after
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(27)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('href="/staff/cases/') >= 30
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_board_pages_by_100(client: Client, legal_coordinator: User, chapter: Chapter) -> None:
    for i in range(101):
        open_case(chapter, legal_coordinator, name=f"P{i}")
    login(client, legal_coordinator)
    first = client.get(reverse("case_board")).content.decode()
    second = client.get(reverse("case_board") + "?page=2").content.decode()
    assert "Page 1 of 2" in first
    assert "C-0101" in second and "C-0101" not in first


def test_countdowns_and_initials() -> None:
    now = timezone.now()
    assert countdown(now - timedelta(minutes=1), now) == "overdue"
    assert countdown(now + timedelta(days=5, hours=1), now) == "in 5 days"
    assert countdown(now + timedelta(days=1, hours=1), now) == "tomorrow"
    assert countdown(None, now) == ""
    # At 5 p.m. in Chicago, 8 p.m. is "today" though it is tomorrow in UTC.
    evening = datetime(2026, 12, 4, 17, 0, tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)
    assert countdown(evening + timedelta(hours=3), evening) == "today"
    assert countdown(evening + timedelta(hours=8), evening) == "tomorrow"
    assert initials(User(username="lucia.legal")) == "LL"
    assert initials(User(username="x", first_name="Ana", last_name="Ruiz")) == "AR"
