"""The legal section of a case: where they are held and every transfer, the locator log,
attorney and bond, hearings and deadlines. Personas from the suite's conftest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.cases import legal
from vigil.cases.actions import PersonInput, assign, open_case
from vigil.cases.models import (
    BondStatus,
    Case,
    CaseStatus,
    Deadline,
    DeadlineKind,
    Detention,
    Facility,
    Hearing,
    HearingKind,
    LocatorCheck,
    Task,
    TaskKind,
)
from vigil.core.models import AuditEvent, Chapter

XSS = '<script>alert("x")</script>'


def local_input(moment: datetime) -> str:
    """A datetime-local form value in the network's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def new_case(chapter: Chapter, actor: User) -> Case:
    return open_case(
        chapter_id=chapter.pk,
        opened_from="hotline",
        person=PersonInput(name="Rosa Canary-Legal", a_number="A-987-654-321"),
        now=timezone.now(),
        actor=actor,
    )


@pytest.fixture
def case(chapter: Chapter, legal_coordinator: User) -> Case:
    return new_case(chapter, legal_coordinator)


@pytest.fixture
def facilities(chapter: Chapter, other_chapter: Chapter) -> dict[str, Facility]:
    return {
        "broadview": Facility.objects.create(chapter=chapter, name="Broadview Processing Center", phone="708-555-0100"),
        "kenosha": Facility.objects.create(chapter=chapter, name="Kenosha County Jail"),
        "elsewhere": Facility.objects.create(chapter=other_chapter, name="Far Away Center"),
    }


@pytest.fixture
def lucia(client: Client, legal_coordinator: User) -> Client:
    return login(client, legal_coordinator)


def reload(case: Case) -> Case:
    return Case.objects.select_related("data_key", "current_facility").get(pk=case.pk)


def task_done(case: Case, kind: str) -> bool:
    return Task.objects.get(case=case, kind=kind).done_at is not None


def audits(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def legal_html(case: Case) -> str:
    case = reload(case)
    return render_to_string("cases/_legal.html", {"case": case, **legal.detail_context(case)})


# --- detention and transfers ------------------------------------------------------------------


def test_recording_a_transfer_closes_the_last_place_and_keeps_the_history_newest_first(
    lucia: Client, case: Case, facilities: dict[str, Facility]
) -> None:
    first = timezone.now() - timedelta(days=3)
    then = timezone.now() - timedelta(days=1)
    url = reverse("case_detention_add", args=[case.pk])

    response = lucia.post(url, {"facility": facilities["broadview"].pk, "from_at": local_input(first)})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("case_detail", args=[case.pk]))
    assert task_done(case, TaskKind.LOCATED)
    lucia.post(url, {"facility": facilities["kenosha"].pk, "from_at": local_input(then)})

    case = reload(case)
    assert case.current_facility == facilities["kenosha"]
    assert case.located_at is not None
    stays = list(Detention.objects.filter(case=case).order_by("from_at"))
    assert [s.facility for s in stays] == [facilities["broadview"], facilities["kenosha"]]
    assert stays[0].to_at == stays[1].from_at
    assert stays[1].to_at is None
    assert audits("case.detention") == 2
    html = legal_html(case)
    assert html.index("Kenosha County Jail") < html.index("Broadview Processing Center")


def test_a_place_outside_the_directory_can_be_written_in(lucia: Client, case: Case) -> None:
    response = lucia.post(
        reverse("case_detention_add", args=[case.pk]),
        {"facility_other": "Chicago field office, 101 W Congress", "from_at": local_input(timezone.now())},
    )
    assert response.status_code == 302
    stay = Detention.objects.get(case=case)
    assert stay.facility is None
    assert stay.facility_other == "Chicago field office, 101 W Congress"
    assert reload(case).current_facility is None


@pytest.mark.parametrize(
    "data",
    [
        {},  # neither a facility nor another place
        {"facility_other": "x" * 201},
        {"facility_other": "Somewhere", "from_at": "yesterday"},
        {"facility_other": "Bad\x00byte"},
    ],
)
def test_bad_detention_input_is_a_400_and_changes_nothing(
    lucia: Client, case: Case, facilities: dict[str, Facility], data: dict[str, Any]
) -> None:
    posted = {"from_at": local_input(timezone.now()), **data}
    response = lucia.post(reverse("case_detention_add", args=[case.pk]), posted)
    assert response.status_code == 400
    assert not Detention.objects.filter(case=case).exists()
    assert not task_done(case, TaskKind.LOCATED)


def test_another_chapters_facility_is_refused(lucia: Client, case: Case, facilities: dict[str, Facility]) -> None:
    response = lucia.post(
        reverse("case_detention_add", args=[case.pk]),
        {"facility": facilities["elsewhere"].pk, "from_at": local_input(timezone.now())},
    )
    assert response.status_code == 400
    assert not Detention.objects.filter(case=case).exists()


def test_a_transfer_dated_before_the_current_place_is_refused(
    lucia: Client, case: Case, facilities: dict[str, Facility]
) -> None:
    url = reverse("case_detention_add", args=[case.pk])
    lucia.post(url, {"facility": facilities["broadview"].pk, "from_at": local_input(timezone.now())})
    response = lucia.post(
        url, {"facility": facilities["kenosha"].pk, "from_at": local_input(timezone.now() - timedelta(days=2))}
    )
    assert response.status_code == 400
    assert b"after the current" in response.content
    assert Detention.objects.filter(case=case).count() == 1
    assert reload(case).current_facility == facilities["broadview"]


# --- locator log ------------------------------------------------------------------------------


def test_every_locator_check_is_logged_with_who_and_what_and_a_find_records_the_place(
    lucia: Client, case: Case, facilities: dict[str, Facility], legal_coordinator: User
) -> None:
    url = reverse("case_locator_add", args=[case.pk])
    assert lucia.post(url, {"source": "ice_locator", "result": "not_found", "note": "No match yet"}).status_code == 302
    assert not Detention.objects.filter(case=case).exists()

    lucia.post(url, {"source": "court_line", "result": "found", "facility": facilities["broadview"].pk})
    lucia.post(url, {"source": "ice_locator", "result": "found", "facility": facilities["broadview"].pk})
    lucia.post(url, {"source": "facility", "result": "transferred", "facility": facilities["kenosha"].pk})

    checks = list(LocatorCheck.objects.filter(case=case).order_by("checked_at"))
    assert [(c.source, c.result) for c in checks] == [
        ("ice_locator", "not_found"),
        ("court_line", "found"),
        ("ice_locator", "found"),
        ("facility", "transferred"),
    ]
    assert {c.checked_by for c in checks} == {legal_coordinator}
    # Found twice at the same place: one stay; then the transfer.
    assert [d.facility for d in Detention.objects.filter(case=case).order_by("from_at")] == [
        facilities["broadview"],
        facilities["kenosha"],
    ]
    assert reload(case).current_facility == facilities["kenosha"]
    assert task_done(case, TaskKind.LOCATED)
    assert audits("case.locator_check") == 4

    html = legal_html(case)
    assert "No match yet" in html
    assert "lucia.legal" in html


def test_released_ends_the_current_stay(lucia: Client, case: Case, facilities: dict[str, Facility]) -> None:
    url = reverse("case_locator_add", args=[case.pk])
    lucia.post(url, {"source": "ice_locator", "result": "found", "facility": facilities["broadview"].pk})
    lucia.post(url, {"source": "family", "result": "released"})
    assert not Detention.objects.filter(case=case, to_at__isnull=True).exists()
    assert reload(case).current_facility is None


def test_a_note_with_markup_is_shown_as_text(lucia: Client, case: Case) -> None:
    lucia.post(reverse("case_locator_add", args=[case.pk]), {"source": "other", "result": "not_found", "note": XSS})
    html = legal_html(case)
    assert XSS not in html
    assert "&lt;script&gt;" in html


def test_an_unknown_source_is_a_400(lucia: Client, case: Case) -> None:
    response = lucia.post(reverse("case_locator_add", args=[case.pk]), {"source": "psychic", "result": "found"})
    assert response.status_code == 400
    assert not LocatorCheck.objects.filter(case=case).exists()


# --- attorney and bond ------------------------------------------------------------------------


def test_naming_an_attorney_and_deciding_bond_tick_the_checklist(lucia: Client, case: Case) -> None:
    response = lucia.post(
        reverse("case_legal_edit", args=[case.pk]),
        {
            "representation": "legal_aid",
            "attorney": "Legal Aid Chicago, 312-555-0199",
            "bond_status": BondStatus.REQUESTED,
            "bond_amount": "7500.00",
            "bond_paid_by": "",
            "bond_refund": "",
        },
    )
    assert response.status_code == 302
    case = reload(case)
    assert case.attorney == "Legal Aid Chicago, 312-555-0199"
    assert str(case.bond_amount) == "7500.00"
    assert task_done(case, TaskKind.ATTORNEY)
    assert task_done(case, TaskKind.BOND)
    assert audits("case.legal") == 1


def test_no_attorney_and_undecided_bond_leave_the_checklist_open(lucia: Client, case: Case) -> None:
    lucia.post(
        reverse("case_legal_edit", args=[case.pk]),
        {"representation": "seeking", "attorney": "", "bond_status": BondStatus.UNKNOWN},
    )
    assert not task_done(case, TaskKind.ATTORNEY)
    assert not task_done(case, TaskKind.BOND)


@pytest.mark.parametrize("amount", ["-5", "lots", "12345678901"])
def test_a_bad_bond_amount_is_a_400(lucia: Client, case: Case, amount: str) -> None:
    response = lucia.post(
        reverse("case_legal_edit", args=[case.pk]),
        {"representation": "none", "bond_status": "set", "bond_amount": amount},
    )
    assert response.status_code == 400
    assert reload(case).bond_status == BondStatus.UNKNOWN


# --- hearings and deadlines -------------------------------------------------------------------


def test_a_hearing_is_added_then_rescheduled_and_its_reminders_start_over(lucia: Client, case: Case) -> None:
    at = timezone.now() + timedelta(days=10)
    response = lucia.post(
        reverse("case_hearing_add", args=[case.pk]),
        {"kind": HearingKind.MASTER, "court": "Chicago Immigration Court", "at": local_input(at)},
    )
    assert response.status_code == 302
    hearing = Hearing.objects.get(case=case)
    Hearing.objects.filter(pk=hearing.pk).update(reminders_sent=1)

    later = at + timedelta(days=7)
    response = lucia.post(
        reverse("case_hearing_update", args=[case.pk, hearing.pk]),
        {"at": local_input(later), "court": "Chicago Immigration Court", "outcome": "Continued: judge ill"},
    )
    assert response.status_code == 302
    hearing = Hearing.objects.select_related("case__data_key").get(pk=hearing.pk)
    assert hearing.reminders_sent == 0
    assert local_input(hearing.at) == local_input(later)
    assert hearing.outcome == "Continued: judge ill"
    assert audits("case.hearing") == 2


def test_an_outcome_alone_keeps_the_reminders_count(lucia: Client, case: Case) -> None:
    at = (timezone.now() + timedelta(days=3)).replace(second=31)  # the form shows minutes only
    hearing = Hearing.objects.create(case=case, court="Court", at=at, kind=HearingKind.BOND, reminders_sent=1)
    lucia.post(
        reverse("case_hearing_update", args=[case.pk, hearing.pk]),
        {"at": local_input(at), "court": "Court", "outcome": "Bond granted"},
    )
    assert Hearing.objects.get(pk=hearing.pk).reminders_sent == 1


def test_a_hearing_of_another_case_is_a_404(
    lucia: Client, case: Case, chapter: Chapter, legal_coordinator: User
) -> None:
    other = new_case(chapter, legal_coordinator)
    hearing = Hearing.objects.create(case=other, court="Court", at=timezone.now(), kind="other")
    url = reverse("case_hearing_update", args=[case.pk, hearing.pk])
    assert lucia.get(url).status_code == 404
    assert lucia.post(url, {"at": local_input(timezone.now()), "court": "X"}).status_code == 404


def test_deadlines_count_down_and_can_be_met_and_reopened(lucia: Client, case: Case) -> None:
    due = timezone.now() + timedelta(days=3)
    response = lucia.post(
        reverse("case_deadline_add", args=[case.pk]),
        {"kind": DeadlineKind.APPEAL, "due_at": local_input(due), "note": "BIA appeal"},
    )
    assert response.status_code == 302
    deadline = Deadline.objects.get(case=case)
    assert "in 3 days" in legal_html(case)

    url = reverse("case_deadline_done", args=[case.pk, deadline.pk])
    assert lucia.post(url, {"done": "1"}).status_code == 302
    assert Deadline.objects.get(pk=deadline.pk).done_at is not None
    assert "in 3 days" not in legal_html(case)
    lucia.post(url, {"done": "0"})
    assert Deadline.objects.get(pk=deadline.pk).done_at is None
    assert lucia.post(url, {"done": "maybe"}).status_code == 400


def test_an_open_emergency_stay_deadline_is_shown_in_red_at_the_top(lucia: Client, case: Case) -> None:
    lucia.post(
        reverse("case_deadline_add", args=[case.pk]),
        {"kind": DeadlineKind.STAY, "due_at": local_input(timezone.now() + timedelta(days=1)), "note": ""},
    )
    html = legal_html(case)
    assert 'class="notice bad urgent"' in html
    assert html.index("urgent-deadlines") < html.index('id="detention"')
    assert "tomorrow" in html


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (timedelta(days=3), "in 3 days"),
        (timedelta(days=1), "tomorrow"),
        (timedelta(minutes=1), "today"),
        (-timedelta(days=2), "overdue by 2 days"),
        (-timedelta(days=1), "overdue by 1 day"),
    ],
)
def test_countdown_words(offset: timedelta, words: str) -> None:
    now = timezone.make_aware(datetime(2026, 11, 23, 12, 0))
    assert legal.countdown(now + offset, now) == words


def test_countdown_is_translated() -> None:
    from django.utils import translation

    now = timezone.make_aware(datetime(2026, 11, 23, 12, 0))
    with translation.override("es"):
        # Spanish once the translator has the words; never an error meanwhile.
        assert legal.countdown(now + timedelta(days=3), now)


def test_the_legal_section_renders_in_a_constant_number_of_queries(
    case: Case, facilities: dict[str, Facility], legal_coordinator: User, django_assert_num_queries: Any
) -> None:
    def fill(n: int) -> None:
        for i in range(n):
            moment = timezone.now() - timedelta(days=30 - i)
            legal.record_detention(
                reload(case),
                facility=facilities["broadview" if i % 2 else "kenosha"],
                facility_other="",
                from_at=moment,
                actor=legal_coordinator,
                now=timezone.now(),
            )
            legal.record_locator_check(
                reload(case),
                source="ice_locator",
                result="not_found",
                facility=None,
                note=f"check {i}",
                actor=legal_coordinator,
                now=moment,
            )
            Hearing.objects.create(case=case, court="Court", at=timezone.now() + timedelta(days=i + 1), kind="master")
            legal.add_deadline(
                case, kind="filing", due_at=timezone.now() + timedelta(days=i), note="n", actor=legal_coordinator
            )

    from django.db import transaction

    with transaction.atomic():
        fill(1)
    loaded = reload(case)
    with django_assert_num_queries(5):
        render_to_string("cases/_legal.html", {"case": loaded, **legal.detail_context(loaded)})
    with transaction.atomic():
        fill(6)
    loaded = reload(case)
    with django_assert_num_queries(5):
        render_to_string("cases/_legal.html", {"case": loaded, **legal.detail_context(loaded)})


# --- who may ------------------------------------------------------------------------------------


def routes(case: Case) -> list[str]:
    hearing = Hearing.objects.create(case=case, court="Court", at=timezone.now() + timedelta(days=5), kind="master")
    deadline = Deadline.objects.create(case=case, kind="stay", due_at=timezone.now() + timedelta(days=2))
    return [
        reverse("case_detention_add", args=[case.pk]),
        reverse("case_locator_add", args=[case.pk]),
        reverse("case_legal_edit", args=[case.pk]),
        reverse("case_hearing_add", args=[case.pk]),
        reverse("case_hearing_update", args=[case.pk, hearing.pk]),
        reverse("case_deadline_add", args=[case.pk]),
        reverse("case_deadline_done", args=[case.pk, deadline.pk]),
    ]


POSTS: dict[str, dict[str, str]] = {
    "detention": {"facility_other": "X", "from_at": "2026-01-01T10:00"},
    "locator": {"source": "other", "result": "not_found"},
    "legal": {"representation": "none", "bond_status": "set"},
    "hearings": {"kind": "master", "court": "X", "at": "2027-01-01T10:00"},
    "deadlines": {"kind": "stay", "due_at": "2027-01-01T10:00", "done": "1"},
}


def post_for(url: str) -> dict[str, str]:
    for key, data in POSTS.items():
        if f"/{key}/" in url:
            return data
    return POSTS["legal"]


@pytest.mark.parametrize("persona", ["outsider", "volunteer", "dispatcher", "verifier", "organizer", "admin_user"])
def test_anyone_but_legal_and_the_assigned_gets_404_on_every_route_get_and_post(
    client: Client, case: Case, persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    login(client, user)
    before = (
        Detention.objects.count(),
        LocatorCheck.objects.count(),
        Hearing.objects.count(),
        AuditEvent.objects.count(),
    )
    for url in routes(case):
        assert client.get(url).status_code == 404, url
        assert client.post(url, post_for(url)).status_code == 404, url
    assert (Hearing.objects.count(), Deadline.objects.count()) == (1, 1)
    assert before[:2] == (Detention.objects.count(), LocatorCheck.objects.count())
    assert not AuditEvent.objects.filter(actor=user, action__startswith="case.").exists()


def test_a_made_up_case_id_is_a_404(lucia: Client) -> None:
    url = reverse("case_hearing_add", args=["00000000-0000-4000-8000-000000000000"])
    assert lucia.get(url).status_code == 404
    assert lucia.post(url, POSTS["hearings"]).status_code == 404


def test_the_anonymous_are_sent_to_log_in(neighbour: Client, case: Case) -> None:
    for url in routes(case):
        assert neighbour.get(url).status_code == 302
        assert neighbour.post(url, post_for(url)).status_code == 302
    assert not Detention.objects.exists()


def test_an_assigned_dispatcher_works_the_case(client: Client, case: Case, dispatcher: User) -> None:
    from django.db import transaction

    with transaction.atomic():
        assign(case, dispatcher, now=timezone.now(), acting_user=dispatcher)
    login(client, dispatcher)
    url = reverse("case_detention_add", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert AuditEvent.objects.filter(actor=dispatcher, action="case.read").count() == 1
    assert client.post(url, POSTS["detention"]).status_code == 302
    assert Detention.objects.filter(case=case, recorded_by=dispatcher).exists()


def test_every_form_page_answers_the_legal_coordinator_and_is_audited(lucia: Client, case: Case) -> None:
    urls = routes(case)
    for url in urls:
        assert lucia.get(url).status_code == 200, url
    assert AuditEvent.objects.filter(action="case.read", object_id=str(case.pk)).count() == len(urls)


def test_a_closed_case_refuses_changes_with_409(lucia: Client, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=timezone.now())
    for url in routes(case):
        response = lucia.post(url, post_for(url))
        assert response.status_code == 409, url
    assert not Detention.objects.exists()
    assert "<form" not in legal_html(case)
