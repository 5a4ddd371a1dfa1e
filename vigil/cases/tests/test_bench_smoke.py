"""The demo's cases and family plan (seed_demo), and the case benchmark's seeding, kept honest:
what `make run` promises works, and `bench.cases` still builds cases the board can show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from tests.twilio import text_via_webhook
from vigil.accounts.models import User
from vigil.cases.models import Case, CaseStatus, OpenedFrom
from vigil.channels.models import Delivery
from vigil.core.management.commands.seed_demo import (
    DEMO_PLAN_CODE,
    DEMO_PLAN_CONTACT_PHONES,
    DEMO_PLAN_PIN,
)
from vigil.core.models import Chapter
from vigil.core.phones import phone_index
from vigil.families import plans


@pytest.fixture
def demo(db, settings) -> None:
    settings.DEMO_MODE = True
    settings.SANDBOX = True
    settings.MFA_DEMO_BYPASS = True  # demo staff skip MFA, as `make run` lets them
    call_command("seed_demo", verbosity=0)


def test_the_demo_board_has_four_open_cases_and_a_closed_one_in_pilsen(demo):
    pilsen = Chapter.objects.get(slug="pilsen")
    cases = Case.objects.filter(chapter=pilsen).select_related("data_key")
    assert cases.filter(status=CaseStatus.OPEN).count() == 4
    closed = cases.get(status=CaseStatus.CLOSED)
    assert closed.shred_after is not None and closed.outcome
    from_incident = cases.get(opened_from=OpenedFrom.INCIDENT)
    assert from_incident.incident_id is not None
    assert cases.filter(opened_from=OpenedFrom.PANIC).count() == 1
    now = timezone.now()
    soon = cases.get(hearings__at__gt=now + timedelta(days=2), hearings__at__lt=now + timedelta(days=4))
    assert soon.deadlines.filter(due_at__gt=now, due_at__lt=now + timedelta(days=2)).exists()
    moved = cases.get(name__isnull=False, detentions__to_at__isnull=True, locator_checks__result="not_found")
    assert moved.detentions.count() == 3
    assert Case.objects.exclude(chapter=pilsen).count() == 0


def test_the_demo_board_renders_for_the_legal_coordinator(demo):
    legal = login(Client(), User.objects.get(username="legal"))
    response = legal.get(reverse("case_board"))
    assert response.status_code == 200
    assert b"C-0003" in response.content


def test_the_demo_plan_code_and_pin_open_the_plan(demo):
    plan = plans.open_plan(DEMO_PLAN_CODE, DEMO_PLAN_PIN)
    assert plan is not None
    assert plan.chapter.slug == "pilsen"
    assert plan.contacts.count() == 2


def test_texting_detained_with_the_demo_code_messages_both_contacts_and_opens_a_case(demo):
    before = Case.objects.filter(opened_from=OpenedFrom.PANIC).count()

    assert text_via_webhook("+13125550999", f"DETAINED {DEMO_PLAN_CODE}")

    assert Case.objects.filter(opened_from=OpenedFrom.PANIC).count() == before + 1
    told = Delivery.objects.filter(
        message__purpose="panic", endpoint__address_index__in=[phone_index(phone) for phone in DEMO_PLAN_CONTACT_PHONES]
    )
    assert told.count() == 2


def test_the_benchmark_builds_cases_the_board_shows_in_the_same_number_of_queries(
    db, legal_coordinator, django_assert_max_num_queries
):
    from bench import cases as bench_cases
    from vigil.cases.models import Facility

    chapter = legal_coordinator.chapters.get()
    for n in range(3):
        Facility.objects.create(chapter=chapter, name=f"Facility {n}")
    client = login(Client(), legal_coordinator)
    bench_cases.seed_cases(chapter, legal_coordinator, 3, start=1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("case_board")).status_code == 200
    bench_cases.seed_cases(chapter, legal_coordinator, 30, start=4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("case_board"))
    assert response.status_code == 200
    assert str(Case.objects.get(number=7).name).startswith("Miguel")
