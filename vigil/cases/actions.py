"""Opening a case and adding the people around it. Shared by the case pages, the incident
page ("Open a case"), the hotline form and the panic keyword (vigil.families).

`store_*` functions run in the caller's transaction (the panic keyword runs inside the SMS
webhook's); `open_case` is the durable wrapper for a view. Every write is audited in the
same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from vigil.cases.models import CHECKLIST, Case, Child, FamilyContact, OpenedFrom, Task
from vigil.channels import outbox
from vigil.channels.models import ChannelKind
from vigil.core.audit import audit
from vigil.core.crypto import blind_index
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index
from vigil.core.rowkeys import new_data_key

# Free-text limits (characters) for what a case stores.
SHORT = 200
LONG = 4000

_A_NUMBER = re.compile(r"^[Aa]?[\s-]*((?:\d[\s-]*){8,9})$", re.ASCII)


def normalize_a_number(text: str) -> str:
    """An alien registration number as 9 digits ("A-123-456-789", "12345678" -> "012345678"),
    or "" when it does not look like one. Raises ValueError for something that is clearly
    not an A-number. Full-width digits (typed on a CJK keyboard) count as the digits they look
    like, so one number always has one blind index; other scripts' digits are refused."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return ""
    found = _A_NUMBER.match(text)
    if found is None:
        raise ValueError("an A-number has 8 or 9 digits, for example A-123-456-789")
    digits = re.sub(r"\D", "", found.group(1))
    return digits.zfill(9)


def a_number_index(normalized: str) -> str:
    return blind_index(normalized, purpose="a-number") if normalized else ""


def optional_phone_index(text: str) -> tuple[str, str]:
    """(E.164, blind index) of a phone, or ("", "") for none. InvalidPhone for a bad one."""
    if not text.strip():
        return "", ""
    e164 = normalize_phone(text)
    return e164, phone_index(e164)


@dataclass
class PersonInput:
    name: str = ""
    date_of_birth: str = ""
    a_number: str = ""
    country_of_birth: str = ""
    languages: str = ""
    phone: str = ""
    taken_place: str = ""
    summary: str = ""
    taken_at: datetime | None = None


def _clip(value: str, limit: int = SHORT) -> str:
    return value.strip()[:limit]


def store_case(
    *,
    chapter_id: int,
    opened_from: str,
    person: PersonInput,
    now: datetime,
    actor: Any,
    incident_id: int | None = None,
) -> Case:
    """A new open case with its checklist, in the caller's transaction. `actor` is a user or a
    label ("sms:panic"). Raises ValueError (A-number) or InvalidPhone for bad input."""
    if opened_from not in OpenedFrom.values:
        raise ValueError(f"unknown origin {opened_from!r}")
    a_number = normalize_a_number(person.a_number)
    phone, phone_idx = optional_phone_index(person.phone)
    user = actor if getattr(actor, "is_authenticated", False) else None
    case = Case(
        chapter_id=chapter_id,
        opened_from=opened_from,
        incident_id=incident_id,
        data_key=new_data_key("case"),
        a_number_index=a_number_index(a_number),
        phone_index=phone_idx,
        taken_at=person.taken_at,
        opened_at=now,
        opened_by=user,
    )
    for field in fields(PersonInput):
        if field.name in ("taken_at", "a_number", "phone"):
            continue
        limit = LONG if field.name == "summary" else SHORT
        setattr(case, field.name, _clip(getattr(person, field.name), limit))
    case.a_number = a_number
    case.phone = phone
    for _attempt in range(5):
        case.number = (Case.objects.filter(chapter_id=chapter_id).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                case.save(force_insert=True)
            break
        except IntegrityError:
            continue  # another case took the number first
    else:
        raise IntegrityError("could not number the case")
    Task.objects.bulk_create([Task(case=case, kind=kind, created_at=now) for kind in CHECKLIST])
    audit(actor, "case.open", case)
    return case


@transaction.atomic(durable=True)
def open_case(
    *,
    chapter_id: int,
    opened_from: str,
    person: PersonInput,
    now: datetime,
    actor: Any,
    incident_id: int | None = None,
) -> Case:
    case = store_case(
        chapter_id=chapter_id, opened_from=opened_from, person=person, now=now, actor=actor, incident_id=incident_id
    )
    if getattr(actor, "is_authenticated", False) and getattr(actor, "role", None) != "legal":
        # Whoever opens a case (a dispatcher on a call) can keep working it.
        assign(case, actor, now=now, acting_user=actor)
    return case


def assign(case: Case, user: Any, *, now: datetime, acting_user: Any) -> None:
    from vigil.cases.models import CaseAssignment

    CaseAssignment.objects.get_or_create(case=case, user=user, defaults={"added_at": now, "added_by": acting_user})
    audit(acting_user, "case.assign", case)


def store_family_contact(
    case: Case,
    *,
    name: str,
    relationship: str = "",
    phone: str = "",
    email: str = "",
    language: str = "es",
    reminders: bool = True,
    actor: Any,
) -> FamilyContact:
    """A person to keep informed. Their SMS/email endpoints (for reminders) are made now, in
    the case's chapter. InvalidPhone for a bad phone."""
    e164, index = optional_phone_index(phone)
    contact = FamilyContact(case=case, phone_index=index, language=language if language in ("en", "es") else "es")
    contact.name = _clip(name)
    contact.relationship = _clip(relationship)
    contact.phone = e164
    contact.email = _clip(email)
    contact.reminders = reminders
    if e164:
        contact.sms_endpoint = outbox.endpoint_for(case.chapter_id, ChannelKind.SMS, e164, index)
    if contact.email:
        contact.email_endpoint = outbox.email_endpoint(case.chapter_id, str(contact.email))
    contact.save(force_insert=True)
    audit(actor, "case.family_add", case)
    return contact


def store_child(case: Case, *, name: str, age: str = "", school: str = "", caregiver: str = "", actor: Any) -> Child:
    child = Child(case=case)
    child.name = _clip(name)
    child.age = _clip(age, 20)
    child.school = _clip(school)
    child.caregiver = _clip(caregiver)
    child.save(force_insert=True)
    audit(actor, "case.child_add", case)
    return child


__all__ = [
    "InvalidPhone",
    "PersonInput",
    "a_number_index",
    "assign",
    "normalize_a_number",
    "open_case",
    "store_case",
    "store_child",
    "store_family_contact",
]
