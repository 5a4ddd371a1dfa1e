"""Closing a case (legal only): outcome, retention clock, campaign taken down; reopening."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vigil.accounts.models import User
from vigil.cases import actions
from vigil.cases.models import Campaign, Case, CaseStatus, Outcome
from vigil.cases.tests.closing_helpers import full_case
from vigil.core.models import AuditEvent, Chapter


def close_url(case: Case) -> str:
    return reverse("case_close", args=[case.pk])


def audited(case: Case, action: str) -> int:
    return AuditEvent.objects.filter(object_id=str(case.pk), action=action).count()


def test_legal_closes_a_case_with_an_outcome_and_the_retention_clock_starts(
    client: Client, chapter: Chapter, legal_coordinator: User, settings: Any
) -> None:
    settings.CASE_RETENTION_DAYS = 30
    case = full_case(chapter, legal_coordinator)
    before = timezone.now()
    response = login(client, legal_coordinator).post(close_url(case), {"action": "close", "outcome": "released"})
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk]) + "#closing"
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and not case.is_open
    assert case.outcome == Outcome.RELEASED
    assert case.closed_by == legal_coordinator
    assert case.closed_at is not None and case.closed_at >= before
    assert case.shred_after == case.closed_at + timedelta(days=30)
    assert audited(case, "case.close") == 1


def test_closing_takes_the_public_campaign_down(chapter: Chapter, legal_coordinator: User) -> None:
    case = full_case(chapter, legal_coordinator)
    now = timezone.now()
    Campaign.objects.create(case=case, slug="abcDEF123456", consent_at=now, published_at=now)
    login(Client(), legal_coordinator).post(close_url(case), {"action": "close", "outcome": "won"})
    campaign = Campaign.objects.get()
    assert not campaign.is_public and campaign.unpublished_at is not None


def test_a_bad_outcome_is_a_400_and_changes_nothing(chapter: Chapter, legal_coordinator: User) -> None:
    case = full_case(chapter, legal_coordinator)
    staff = login(Client(), legal_coordinator)
    for data in ({"action": "close", "outcome": "vanished"}, {"action": "close"}, {"action": "explode"}, {}):
        response = staff.post(close_url(case), data)
        assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.closed_at is None
    assert audited(case, "case.close") == 0


def test_closing_twice_is_refused(chapter: Chapter, legal_coordinator: User) -> None:
    case = full_case(chapter, legal_coordinator)
    staff = login(Client(), legal_coordinator)
    staff.post(close_url(case), {"action": "close", "outcome": "deported"})
    again = staff.post(close_url(case), {"action": "close", "outcome": "released"})
    assert again.status_code == 400 and b"already closed" in again.content
    case.refresh_from_db()
    assert case.outcome == Outcome.DEPORTED


def test_legal_reopens_a_closed_case_before_it_is_shredded(chapter: Chapter, legal_coordinator: User) -> None:
    case = full_case(chapter, legal_coordinator)
    staff = login(Client(), legal_coordinator)
    staff.post(close_url(case), {"action": "close", "outcome": "other"})
    assert staff.post(close_url(case), {"action": "reopen"}).status_code == 302
    case.refresh_from_db()
    assert case.is_open and case.shred_after is None and case.closed_at is None and case.outcome == ""
    assert audited(case, "case.reopen") == 1
    assert staff.post(close_url(case), {"action": "reopen"}).status_code == 400


def test_a_shredded_case_cannot_be_reopened(chapter: Chapter, legal_coordinator: User) -> None:
    case = full_case(chapter, legal_coordinator)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.SHREDDED, closed_at=timezone.now())
    response = login(Client(), legal_coordinator).post(close_url(case), {"action": "reopen"})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.SHREDDED


def test_only_legal_closes_everyone_else_gets_404_assigned_or_not(
    chapter: Chapter, legal_coordinator: User, dispatcher: User, verifier: User, outsider: User, admin_user: User
) -> None:
    case = full_case(chapter, legal_coordinator)
    with transaction.atomic():
        actions.assign(case, dispatcher, now=timezone.now(), acting_user=legal_coordinator)
    data = {"action": "close", "outcome": "released"}
    assert login(Client(), dispatcher).post(close_url(case), data).status_code == 404
    for person in (verifier, outsider, admin_user):
        assert login(Client(), person).post(close_url(case), data).status_code == 404
    made_up = reverse("case_close", args=[uuid.uuid4()])
    assert login(Client(), legal_coordinator).post(made_up, data).status_code == 404
    assert login(Client(), legal_coordinator).get(close_url(case)).status_code == 405
    assert Client().post(close_url(case), data).status_code == 302  # to the login page
    case.refresh_from_db()
    assert case.is_open


def test_the_closing_part_of_the_case_page_renders(chapter: Chapter, legal_coordinator: User) -> None:
    from django.template.loader import render_to_string

    from vigil.cases import closing

    case = full_case(chapter, legal_coordinator)
    html = render_to_string(
        "cases/_closing.html",
        {"case": case, "user": legal_coordinator, **closing.detail_context(case, legal_coordinator)},
    )
    assert reverse("case_close", args=[case.pk]) in html
    assert reverse("case_export_request", args=[case.pk]) in html
    assert reverse("case_campaign", args=[case.pk]) in html
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, outcome="won", closed_at=timezone.now())
    case.refresh_from_db()
    html = render_to_string(
        "cases/_closing.html",
        {"case": case, "user": legal_coordinator, **closing.detail_context(case, legal_coordinator)},
    )
    assert "Reopen the case" in html
