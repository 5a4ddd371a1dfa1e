"""Helpers for the case-page tests (board, case page, access): open cases the real way."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from vigil.cases import actions
from vigil.cases.actions import PersonInput
from vigil.cases.models import Case, CaseAssignment, Deadline, DeadlineKind, Hearing, HearingKind
from vigil.core.models import Chapter, Zone
from vigil.incidents.models import Incident

XSS = '<script>alert("x")</script>'


def open_case(chapter: Chapter, actor: Any, *, name: str = "Rosa Díaz", **person: Any) -> Case:
    """A hotline case opened by `actor` (a dispatcher opening it is assigned to it)."""
    return actions.open_case(
        chapter_id=chapter.pk,
        opened_from="hotline",
        person=PersonInput(name=name, **person),
        now=timezone.now(),
        actor=actor,
    )


def assign(case: Case, user: Any) -> None:
    CaseAssignment.objects.get_or_create(case=case, user=user, defaults={"added_at": timezone.now()})


def add_hearing(case: Case, at: datetime) -> Hearing:
    hearing = Hearing(case=case, court="Chicago Immigration Court", at=at, kind=HearingKind.MASTER)
    hearing.save(force_insert=True)
    return hearing


def add_deadline(case: Case, due_at: datetime) -> Deadline:
    deadline = Deadline(case=case, kind=DeadlineKind.STAY, due_at=due_at)
    deadline.save(force_insert=True)
    return deadline


def make_incident(chapter: Chapter, zone: Zone | None = None) -> Incident:
    now = timezone.now() - timedelta(hours=2)
    return Incident.objects.create(
        chapter=chapter, zone=zone, zip_code="60608", first_report_at=now, last_report_at=now, report_count=1
    )
