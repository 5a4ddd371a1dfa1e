"""Crypto-shredding: after a closed case's retention runs out, its data key is destroyed, its
personal rows are gone, and what was copied of its ciphertext opens with no key we hold."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from tests.rawscan import hits
from vigil.accounts.models import User
from vigil.cases import actions, closing, retention
from vigil.cases.models import (
    Campaign,
    Case,
    CaseNote,
    CaseStatus,
    Child,
    Detention,
    ExportRequest,
    FamilyContact,
    Hearing,
    LocatorCheck,
    Signature,
    Task,
)
from vigil.cases.tests.closing_helpers import CANARY_CHILD, CANARY_NAME, CANARY_NOTE, full_case
from vigil.channels.models import Endpoint
from vigil.core import crypto, schedule
from vigil.core.crypto import blind_index
from vigil.core.fields import LockedValue, row_key_bytes
from vigil.core.models import AuditEvent, Chapter, DataKey
from vigil.core.phones import phone_index
from vigil.core.tests.test_retention import byte_forms


def close(client: Client, case: Case, outcome: str = "deported") -> Case:
    response = client.post(reverse("case_close", args=[case.pk]), {"action": "close", "outcome": outcome})
    assert response.status_code == 302
    case.refresh_from_db()
    return case


def raw_column(model: Any, pk: Any, column: str) -> bytes | None:
    """The stored bytes of one sealed column (what a seizure or a backup would hold)."""
    value = model.objects.filter(pk=pk).values_list(column, flat=True).get()
    return None if value is None else bytes(value)


@pytest.fixture
def closed_case(chapter: Chapter, legal_coordinator: User) -> Case:
    case = full_case(chapter, legal_coordinator)
    now = timezone.now()
    campaign = Campaign.objects.create(case=case, slug="shredMe12345", consent_at=now)
    signature = Signature(campaign=campaign, signed_at=now)
    signature.display_name = "A supporter"
    signature.save(force_insert=True)
    ExportRequest.objects.create(case=case, format="csv", requested_by=legal_coordinator, requested_at=now)
    return close(login(Client(), legal_coordinator), case)


def test_a_case_past_its_retention_is_crypto_shredded(closed_case: Case, settings: Any) -> None:
    case = closed_case
    key_id = case.data_key_id
    assert key_id is not None
    sealed_name = raw_column(Case, case.pk, "name")
    assert sealed_name is not None and CANARY_NAME.encode() not in sealed_name
    child = Child.objects.get(case=case)
    sealed_child = raw_column(Child, child.pk, "name")
    assert sealed_child is not None
    row_key = row_key_bytes(case.data_key)
    assert row_key is not None
    context = {"table": Case._meta.db_table, "column": "name", "row": str(case.pk)}
    assert crypto.decrypt_with_key(row_key, sealed_name, **context).decode() == CANARY_NAME
    detentions = list(Detention.objects.filter(case=case).values("facility_id", "from_at", "to_at"))
    assert detentions

    later = timezone.now() + timedelta(days=settings.CASE_RETENTION_DAYS + 1)
    assert retention.shred_due_cases(later) == 1

    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.SHREDDED and case.shredded_at == later
    assert not DataKey.objects.filter(pk=key_id).exists() and case.data_key_id is None
    for column in ("name", "date_of_birth", "a_number", "phone", "summary", "attorney", "taken_place"):
        assert raw_column(Case, case.pk, column) is None
    assert case.a_number_index == "" and case.phone_index == ""
    for model in (Child, FamilyContact, Task, CaseNote, LocatorCheck, Hearing, ExportRequest, Campaign):
        assert not model.objects.filter(case=case).exists(), model
    assert not Signature.objects.exists()
    # Kept: the number, outcome, dates and the detention history.
    assert case.number == closed_case.number and case.outcome == "deported" and case.closed_at is not None
    assert list(Detention.objects.filter(case=case).values("facility_id", "from_at", "to_at")) == detentions
    assert AuditEvent.objects.filter(action="case.shred", object_id=str(case.pk)).count() == 1

    # The ciphertext copied before the shredding opens with no key the network holds...
    for key in crypto.keyring().keys.values():
        with pytest.raises(crypto.TamperedCiphertext):
            crypto.decrypt_with_key(key, sealed_name, **context)
    with pytest.raises(crypto.DataLocked):
        crypto.decrypt(sealed_name, **context)
    # ...and the row key it needs is derivable from nothing left: every DataKey that remains
    # is another row's key, and none of them opens it either.
    for other in DataKey.objects.all():
        other_key = row_key_bytes(other)
        assert other_key is not None and other_key != row_key
        with pytest.raises(crypto.TamperedCiphertext):
            crypto.decrypt_with_key(other_key, sealed_name, **context)
    # Reading the case now shows locks, never the name.
    case.name = sealed_name  # as if restored from a backup taken before the shredding
    assert isinstance(case.name, LockedValue)


def test_shredding_deletes_the_family_contacts_phone_and_email_unless_another_case_uses_them(
    chapter: Chapter, legal_coordinator: User, settings: Any
) -> None:
    case = full_case(chapter, legal_coordinator)
    other = full_case(chapter, legal_coordinator, name="Someone else", a_number="A-987-654-321")
    with transaction.atomic():
        Detention.objects.create(case=case, facility_other="Ana's cousin's house", from_at=timezone.now())
        actions.store_family_contact(
            case, name="Ana", phone="+13125550177", email="ana@example.org", actor=legal_coordinator
        )
        actions.store_family_contact(case, name="Leo", phone="+13125550178", actor=legal_coordinator)
        actions.store_family_contact(other, name="Leo", phone="+13125550178", actor=legal_coordinator)
    now = timezone.now()
    closing.close_case(case.pk, outcome="released", acting_user=legal_coordinator, now=now)

    assert retention.shred_due_cases(now + timedelta(days=settings.CASE_RETENTION_DAYS + 1)) == 1

    def endpoint(index: str) -> bool:
        return Endpoint.objects.filter(address_index=index).exists()

    assert not endpoint(phone_index("+13125550177"))
    assert not endpoint(blind_index("ana@example.org", purpose="email"))
    assert endpoint(phone_index("+13125550178"))  # the open case still keeps Leo informed
    # A place typed in by hand is free text: it does not outlive the case either.
    assert not Detention.objects.filter(case=case).exclude(facility_other="").exists()


def test_shredding_is_idempotent_and_leaves_open_and_not_yet_due_cases_alone(
    closed_case: Case, chapter: Chapter, legal_coordinator: User, settings: Any
) -> None:
    open_case = full_case(chapter, legal_coordinator, name="Still open", a_number="A-987-654-321")
    not_due = close(login(Client(), legal_coordinator), full_case(chapter, legal_coordinator, a_number=""))
    Case.objects.filter(pk=not_due.pk).update(shred_after=timezone.now() + timedelta(days=400))
    later = timezone.now() + timedelta(days=settings.CASE_RETENTION_DAYS + 1)
    assert retention.shred_due_cases(later) == 1
    assert retention.shred_due_cases(later) == 0
    assert retention.shred_case(closed_case.pk, later) is False
    for kept in (open_case, not_due):
        kept = Case.objects.select_related("data_key").get(pk=kept.pk)
        assert kept.status != CaseStatus.SHREDDED and kept.data_key_id is not None
        assert not isinstance(kept.name, LockedValue)
        assert Child.objects.filter(case=kept).exists()
    assert AuditEvent.objects.filter(action="case.shred").count() == 1


def test_a_case_reopened_in_time_is_not_shredded(client: Client, chapter: Chapter, legal_coordinator: User) -> None:
    case = close(login(client, legal_coordinator), full_case(chapter, legal_coordinator))
    client.post(reverse("case_close", args=[case.pk]), {"action": "reopen"})
    assert retention.shred_due_cases(timezone.now() + timedelta(days=3650)) == 0
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


def test_the_worker_runs_the_shredding_every_hour() -> None:
    assert "cases.shred" in schedule.registered()
    assert schedule._entries["cases.shred"].every == 3600
    assert schedule._entries["cases.shred"].job is retention.shred_due_cases


@pytest.mark.django_db(transaction=True)
def test_after_shredding_and_a_checkpoint_the_canaries_are_nowhere_in_the_files(
    chapter: Chapter, legal_coordinator: User, settings: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("a byte scan reads the SQLite files; PostgreSQL stores the same ciphertext")
    case = close(login(Client(), legal_coordinator), full_case(chapter, legal_coordinator))
    key_id = case.data_key_id
    assert key_id is not None
    wrapped = bytes(DataKey.objects.filter(pk=key_id).values_list("wrapped", flat=True).get())
    database = Path(connection.settings_dict["NAME"])
    files = [f for f in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if f.exists()]
    needles = [form for text in (CANARY_NAME, CANARY_CHILD, CANARY_NOTE) for form in byte_forms(text)]
    assert hits(needles, files) == []
    # The wrapped row key is in the files before the shredding (so a miss after means something).
    assert hits([wrapped], files) != []

    assert retention.shred_due_cases(timezone.now() + timedelta(days=settings.CASE_RETENTION_DAYS + 1)) == 1
    files = [f for f in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if f.exists()]
    assert hits([wrapped, *needles], files) == []


def test_the_retention_purge_shreds_due_cases_too(closed_case: Case, settings: Any) -> None:
    from datetime import timedelta

    from vigil.core.retention import purge_expired

    assert closed_case.shred_after is not None
    due = closed_case.shred_after + timedelta(minutes=1)
    result = purge_expired(now=due)
    assert result.counts["cases.shred"] == 1
    assert Case.objects.get(pk=closed_case.pk).status == "shredded"
    assert not DataKey.objects.filter(pk=str(closed_case.data_key_id)).exists()
