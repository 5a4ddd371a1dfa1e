"""Cases with everything around them, for the export, closing, shredding and campaign tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from vigil.cases import actions
from vigil.cases.models import (
    Case,
    CaseNote,
    Deadline,
    DeadlineKind,
    Detention,
    Facility,
    Hearing,
    HearingKind,
    LocatorCheck,
    LocatorResult,
    LocatorSource,
)
from vigil.core.models import Chapter

CANARY_NAME = "CANARY-Yareli-Tlaloc-5521"
CANARY_CHILD = "CANARY-Itzel-Child-7713"
CANARY_NOTE = "CANARY note about the raid 9902"


def full_case(chapter: Chapter, actor: Any, *, name: str = CANARY_NAME, **person: Any) -> Case:
    """An open case with a child, a family contact, a detention, a locator check, a hearing,
    a deadline and a note."""
    now = timezone.now()
    case = actions.open_case(
        chapter_id=chapter.pk,
        opened_from="hotline",
        person=actions.PersonInput(name=name, a_number=person.pop("a_number", "A-123-456-789"), **person),
        now=now,
        actor=actor,
    )
    with transaction.atomic():
        facility, _ = Facility.objects.get_or_create(chapter=chapter, name="Broadview Processing Center")
        Detention.objects.create(case=case, facility=facility, from_at=now - timedelta(days=2))
        actions.store_child(case, name=CANARY_CHILD, age="7", school="Whittier Elementary", actor=actor)
        actions.store_family_contact(case, name="Rosa", relationship="wife", phone="", actor=actor)
        check = LocatorCheck(
            case=case,
            checked_at=now,
            source=LocatorSource.ICE_LOCATOR,
            result=LocatorResult.FOUND,
            facility=facility,
        )
        check.note = "found in the locator"
        check.save(force_insert=True)
        hearing = Hearing(
            case=case, court="Chicago Immigration Court", at=now + timedelta(days=10), kind=HearingKind.BOND
        )
        hearing.save(force_insert=True)
        deadline = Deadline(case=case, kind=DeadlineKind.STAY, due_at=now + timedelta(days=3))
        deadline.note = "file the stay"
        deadline.save(force_insert=True)
        note = CaseNote(case=case, at=now, author=actor if getattr(actor, "pk", None) else None)
        note.body = CANARY_NOTE
        note.save(force_insert=True)
    return Case.objects.select_related("data_key").get(pk=case.pk)


def reauthenticated(client: Client) -> Client:
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD, "next": "/"})
    assert response.status_code == 302
    return client
