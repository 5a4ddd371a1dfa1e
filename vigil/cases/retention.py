"""Crypto-shredding closed cases once their retention has run out (DESIGN invariant 6).

`shred_due_cases(now)` runs every hour from the worker's scheduler ("cases.shred", registered
below when the cases app is ready) and with every retention purge (`manage.py purge_expired`).
For each case with status "closed" and `shred_after <= now` (closed_at +
VIGIL_CASE_RETENTION_DAYS), in its own transaction:

1. delete the rows that hold only personal data: family contacts, children, tasks, notes,
   locator checks, hearings, deadlines, export requests, the campaign and its signatures,
   and the staff assignments to the case;
2. null every RowKeyTextField column of the case row (name, date of birth, A-number, country
   of birth, languages, phone, place taken, summary, attorney, bond paid by, bond refund),
   clear the A-number and phone blind indexes and the times it was taken and located;
3. delete the case's DataKey (vigil.core.rowkeys.shred): every ciphertext sealed with it, in
   the table, the WAL or a backup taken earlier, can no longer be opened with any key the
   network holds;
4. status "shredded", shredded_at = now, and a "case.shred" audit row (no personal data).

What is KEPT (it names nobody): the case number and chapter, when and how it was opened
(opened_at, opened_from, opened_by, incident id), closed_at/closed_by and the outcome, the
detention rows (facility and dates; a place typed in by hand is blanked) with the current
facility, the representation kind, and the bond fund's accounting (bond_status, bond_amount,
bond_paid_at).

A crash leaves each case either untouched or fully shredded (one transaction each), and the
next run carries on: the job is idempotent. After a batch the SQLite WAL is checkpointed
(vigil.core.retention.checkpoint_wal) so the deleted pages do not linger in `-wal`.

The channels endpoints the family contacts' reminders and the supporters' campaign updates
went to (phones and emails) are deleted with them, unless something else still uses them: a
subscriber, a volunteer, another case (vigil.channels.outbox.release_endpoints).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from vigil.cases.models import (
    Campaign,
    CampaignUpdate,
    Case,
    CaseAssignment,
    CaseNote,
    CaseStatus,
    Child,
    Deadline,
    Detention,
    ExportRequest,
    FamilyContact,
    Hearing,
    LocatorCheck,
    Signature,
    Task,
)
from vigil.channels import outbox
from vigil.core import retention, rowkeys, schedule
from vigil.core.audit import audit
from vigil.core.fields import RowKeyTextField

log = logging.getLogger("vigil.retention")

ACTOR = "system:retention"
BATCH = 100
EVERY = 3600

# Child rows holding only personal data, children of children first.
PERSONAL_ROWS: tuple[type[Any], ...] = (
    Signature,
    CampaignUpdate,
    Campaign,
    ExportRequest,
    FamilyContact,
    Child,
    Task,
    CaseNote,
    LocatorCheck,
    Hearing,
    Deadline,
    CaseAssignment,
)


# Rows that reach their case through the campaign.
_CASE_LOOKUP: dict[type[Any], str] = {Signature: "campaign__case_id", CampaignUpdate: "campaign__case_id"}


def _cleared_case_columns() -> dict[str, Any]:
    columns: dict[str, Any] = {f.attname: None for f in Case._meta.concrete_fields if isinstance(f, RowKeyTextField)}
    columns.update(a_number_index="", phone_index="", taken_at=None, located_at=None, data_key=None)
    return columns


def shred_case(case_id: Any, now: datetime) -> bool:
    """Shred one case if it is (still) due; True if it was shredded now."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update()
            .filter(pk=case_id, status=CaseStatus.CLOSED, shred_after__lte=now)
            .only("pk", "chapter_id", "data_key_id")
            .first()
        )
        if case is None:
            return False
        contacts = FamilyContact.objects.filter(case_id=case.pk)
        endpoints = [pk for pair in contacts.values_list("sms_endpoint_id", "email_endpoint_id") for pk in pair if pk]
        supporters = Signature.objects.filter(campaign__case_id=case.pk, email_endpoint__isnull=False)
        endpoints += list(supporters.values_list("email_endpoint_id", flat=True))
        for model in PERSONAL_ROWS:
            model.objects.filter(**{_CASE_LOOKUP.get(model, "case_id"): case.pk}).delete()
        Case.objects.filter(pk=case.pk).update(**_cleared_case_columns(), status=CaseStatus.SHREDDED, shredded_at=now)
        # The history stays by facility and dates; a place staff typed in is free text: it goes.
        Detention.objects.filter(case_id=case.pk).exclude(facility_other="").update(facility_other="")
        if case.data_key_id is not None:
            rowkeys.shred(case.data_key_id)
        outbox.release_endpoints(endpoints)
        audit(ACTOR, "case.shred", object_type="cases.case", object_id=str(case.pk), chapter=case.chapter)
    return True


def shred_due_cases(now: datetime) -> int:
    """Shred every closed case past its retention; how many were shredded."""
    shredded = 0
    while True:
        due = list(
            Case.objects.filter(status=CaseStatus.CLOSED, shred_after__lte=now)
            .order_by("shred_after")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not due:
            break
        shredded += sum(1 for case_id in due if shred_case(case_id, now))
        if len(due) < BATCH:
            break
    if shredded:
        log.info("crypto-shredded %d closed cases", shredded)
        retention.checkpoint_wal()
    return shredded


schedule.register("cases.shred", every=EVERY, job=shred_due_cases)
# `manage.py purge_expired` (and the nightly purge task) shred too, not only the scheduler.
retention.on_purge_run("cases.shred")(shred_due_cases)
