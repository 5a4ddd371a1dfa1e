"""The responders stage's side of retention (found by vigil.core.retention's autodiscovery).

Evidence is kept RETAIN_EVIDENCE_DAYS after its incident closed (left the open statuses
for the last time: closed, false alarm or could not verify), then its files and its row go.
The chain of custody stays: the PURGE entry is written in the same transaction as the row's
deletion (the custody rows' link to the evidence becomes null; `evidence_ref` keeps the id).

Like intake's photos, the files are deleted before their row, inside the batch's
transaction: a crash can leave a row pointing at a missing file (deleted on the next run,
with its PURGE entry) but never a file that nobody points at. Files left by a crash during
an upload (written, row never committed) are swept once they are an hour old.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import pre_delete
from django.utils import timezone

from vigil.core.audit import audit
from vigil.core.media import remove_orphan_files
from vigil.core.retention import ACTOR, ORPHAN_GRACE, purge_step
from vigil.incidents.models import OPEN_STATUSES, EventKind, IncidentEvent
from vigil.responders import evidence as ev
from vigil.responders.models import CustodyAction, CustodyEntry, Evidence


def closed_since() -> Subquery:
    """When the evidence's incident last changed status (for a closed incident: when it closed)."""
    return Subquery(
        IncidentEvent.objects.filter(incident=OuterRef("incident"), kind=EventKind.STATUS)
        .order_by("-at")
        .values("at")[:1]
    )


@purge_step("responders.evidence")
def expired_evidence(now: datetime) -> QuerySet[Any]:
    sweep_orphan_files(now)
    cutoff = now - timedelta(days=settings.RETAIN_EVIDENCE_DAYS)
    return (
        Evidence.objects.exclude(incident__status__in=OPEN_STATUSES)
        .annotate(closed_at=Coalesce(closed_since(), F("incident__last_action_at"), F("incident__last_report_at")))
        .filter(closed_at__lte=cutoff)
    )


def purge_files(sender: Any, instance: Evidence, **kwargs: Any) -> None:
    """Whatever deletes a piece of evidence deletes its files and leaves a PURGE entry."""
    ev.delete_file(instance.working_name)
    ev.delete_file(instance.original_name)
    CustodyEntry.objects.create(
        # Not linked: the row is about to go, and the link would be set to null anyway.
        evidence=None,
        evidence_ref=instance.pk,
        at=timezone.now(),
        actor=None,
        actor_label=ACTOR,
        action=CustodyAction.PURGE,
        sha256=instance.sha256,
    )


def sweep_orphan_files(now: datetime) -> int:
    """Delete evidence files no row names, once older than the upload grace period."""
    known = set(Evidence.objects.values_list("working_name", flat=True))
    known.update(Evidence.objects.exclude(original_name="").values_list("original_name", flat=True))
    removed = remove_orphan_files(ev.evidence_root(), known, older_than=(now - ORPHAN_GRACE).timestamp())
    if removed:
        with transaction.atomic():
            audit(ACTOR, "retention.purge", object_type="media.evidence_orphan", object_id=str(removed))
    return removed


def connect() -> None:
    """From RespondersConfig.ready(), so every deletion of evidence (the purge, or an incident's
    cascade) deletes its files and leaves a PURGE entry."""
    pre_delete.connect(purge_files, sender=Evidence, dispatch_uid="responders.evidence.purge")
