"""Retention: every record type is deleted on its own schedule (DESIGN invariant 6).

What goes, and when:

| record                         | gone when                                              |
|--------------------------------|--------------------------------------------------------|
| raw report                     | `Report.purge_after` has passed (RETAIN_REPORT_DAYS)   |
| reporter's call-back number    | `contact_expires_at` has passed (RETAIN_CONTACT_DAYS)  |
| uploaded photo                 | RETAIN_UPLOAD_DAYS after the report arrived            |
| guided SMS conversation        | `expires_at` has passed                                |
| processed inbound message id   | 7 days after it arrived                                |
| rate-limit bucket              | 1 day after its window started                         |
| used proof-of-work token       | `expires_at` has passed                                |
| finished background task       | 7 days after it finished                               |
| audit row                      | RETAIN_AUDIT_DAYS after it was written                 |

Each record type is deleted in small batches, each batch its own transaction with its own
`retention.purge` audit row (object_type = what was purged, object_id = how many; never an
id or a value). A purge killed at any point leaves the database as it was after the last
committed batch, so the next run simply carries on: there is no in-between state to repair.
Photos are the one thing outside the database: the file is deleted before its row is
changed, so a crash can leave a row pointing at a missing file (harmless, cleared next run)
but never a file nobody points at. A final sweep removes files left by crashes elsewhere
(an upload whose report was never stored).

Later pipeline stages clean up their side through hooks registered here (see
`on_report_purge`) in a `retention` module of their app, found by autodiscovery: core never
imports a later stage, so intake's models are looked up through the app registry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks_db.models import DBTaskResult

from vigil.core.audit import audit
from vigil.core.media import remove_orphan_files
from vigil.core.models import AuditEvent, RateBucket, UsedToken

log = logging.getLogger("vigil.retention")

ACTOR = "system:retention"
DEFAULT_BATCH_SIZE = 500
INBOUND_MESSAGE_DAYS = 7
RATE_BUCKET_DAYS = 1
TASK_RESULT_DAYS = 7
# A photo is written before its report's transaction commits; a younger file without a row
# may be an upload still in flight, not an orphan.
ORPHAN_GRACE = timedelta(hours=1)
PHOTO_DIR = "reports"

ReportPurgeHook = Callable[[list[Any]], int]
# (label, now -> rows to delete), in the order later stages register them.
PurgeStep = Callable[[datetime], "models.QuerySet[Any]"]
_extra_steps: dict[str, PurgeStep] = {}
_report_hooks: dict[str, ReportPurgeHook] = {}
# (label, now -> how many records it handled): work that is not a plain delete, such as
# crypto-shredding closed cases, run after the steps by every purge.
PurgeJob = Callable[[datetime], int]
_purge_jobs: dict[str, PurgeJob] = {}
_stop = threading.Event()


def on_report_purge(name: str) -> Callable[[ReportPurgeHook], ReportPurgeHook]:
    """Register `hook(report_ids) -> rows removed`, run in each batch's transaction before
    those reports are deleted. `name` labels its count in the audit log."""

    def register(hook: ReportPurgeHook) -> ReportPurgeHook:
        _report_hooks[name] = hook
        return hook

    return register


def purge_step(label: str) -> Callable[[PurgeStep], PurgeStep]:
    """Register `step(now) -> queryset` of rows past their retention, deleted in batches like
    core's own (label is "app.model" for the audit row). Steps run in registration order, so a
    stage registers child rows before their parents."""

    def register(step: PurgeStep) -> PurgeStep:
        _extra_steps[label] = step
        return step

    return register


def on_purge_run(label: str) -> Callable[[PurgeJob], PurgeJob]:
    """Register `job(now) -> count`, run by every purge after the delete steps; for retention
    work that is not a delete (the job writes its own audit rows). Its count is reported
    under `label`."""

    def register(job: PurgeJob) -> PurgeJob:
        _purge_jobs[label] = job
        return job

    return register


def request_stop() -> None:
    """Make purges in this process stop after their current batch (the worker's SIGTERM).
    Not undone: the process is on its way out."""
    _stop.set()


@dataclass
class PurgeResult:
    counts: Counter[str] = field(default_factory=Counter)
    checkpoint: tuple[int, int, int] | None = None
    stopped: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def photo_root() -> Path:
    return Path(settings.MEDIA_ROOT) / PHOTO_DIR


def _photo_path(name: str) -> Path | None:
    """Where a stored photo lives: `photo_name` is relative to MEDIA_ROOT ("reports/<hex>.jpg.enc").
    A name that would lead outside the photo directory is never touched."""
    root = photo_root().resolve()
    path = (Path(settings.MEDIA_ROOT) / name).resolve()
    return path if path.is_relative_to(root) and path != root else None


def _delete_photo(name: str) -> None:
    path = _photo_path(name)
    if path is not None:
        path.unlink(missing_ok=True)


def _report_model() -> type[models.Model]:
    return apps.get_model("intake", "Report")


class _Purge:
    def __init__(self, now: datetime, batch_size: int, result: PurgeResult) -> None:
        self.now = now
        self.batch_size = batch_size
        self.result = result

    def stopping(self) -> bool:
        if _stop.is_set():
            self.result.stopped = True
        return self.result.stopped

    def batches(self, queryset: models.QuerySet[Any], purge: Callable[[list[Any]], Counter[str]]) -> None:
        """Purge `queryset` a batch at a time until nothing matches."""
        while not self.stopping():
            with transaction.atomic():
                ids = list(queryset.order_by().values_list("pk", flat=True)[: self.batch_size])
                if not ids:
                    return
                counts = purge(ids)
                for what, count in sorted(counts.items()):
                    if count:
                        audit(ACTOR, "retention.purge", object_type=what, object_id=str(count))
            self.result.counts.update(counts)

    def delete(self, label: str, queryset: models.QuerySet[Any]) -> None:
        model = queryset.model

        def purge(ids: list[Any]) -> Counter[str]:
            _, per_model = model._base_manager.filter(pk__in=ids).delete()
            return Counter({label: per_model.get(model._meta.label, 0)})

        self.batches(queryset, purge)

    def reports(self) -> None:
        Report = _report_model()

        def purge(ids: list[Any]) -> Counter[str]:
            counts: Counter[str] = Counter()
            for name in (
                Report._base_manager.filter(pk__in=ids).exclude(photo_name="").values_list("photo_name", flat=True)
            ):
                _delete_photo(name)
            for hook_name, hook in sorted(_report_hooks.items()):
                counts[hook_name] += hook(ids)
            _, per_model = Report._base_manager.filter(pk__in=ids).delete()
            counts["intake.report"] = per_model.get(Report._meta.label, 0)
            return counts

        self.batches(Report._base_manager.filter(purge_after__lte=self.now), purge)

    def contacts(self) -> None:
        Report = _report_model()
        expired = Report._base_manager.filter(contact_expires_at__lte=self.now)

        def purge(ids: list[Any]) -> Counter[str]:
            updated = Report._base_manager.filter(pk__in=ids).update(
                contact_phone=None, contact_index="", contact_expires_at=None
            )
            return Counter({"intake.report.contact": updated})

        self.batches(expired, purge)

    def photos(self) -> None:
        Report = _report_model()
        cutoff = self.now - timedelta(days=settings.RETAIN_UPLOAD_DAYS)
        expired = Report._base_manager.filter(received_at__lte=cutoff).exclude(photo_name="")

        def purge(ids: list[Any]) -> Counter[str]:
            for name in Report._base_manager.filter(pk__in=ids).values_list("photo_name", flat=True):
                _delete_photo(name)
            return Counter({"intake.report.photo": Report._base_manager.filter(pk__in=ids).update(photo_name="")})

        self.batches(expired, purge)

    def orphan_photos(self) -> None:
        Report = _report_model()
        known = set(Report._base_manager.exclude(photo_name="").values_list("photo_name", flat=True))
        cutoff = (self.now - ORPHAN_GRACE).timestamp()
        removed = remove_orphan_files(photo_root(), known, older_than=cutoff, stop=self.stopping)
        if removed:
            with transaction.atomic():
                audit(ACTOR, "retention.purge", object_type="media.orphan", object_id=str(removed))
            self.result.counts["media.orphan"] += removed

    def _extra(self, label: str, step: PurgeStep) -> Callable[[], None]:
        return lambda: self.delete(label, step(self.now))

    def run(self) -> None:
        SmsConversation = apps.get_model("intake", "SmsConversation")
        InboundMessage = apps.get_model("intake", "InboundMessage")
        steps: list[Callable[[], None]] = [
            self.contacts,
            self.photos,
            lambda: self.delete(
                "intake.smsconversation", SmsConversation._base_manager.filter(expires_at__lte=self.now)
            ),
            self.reports,
            self.orphan_photos,
            lambda: self.delete(
                "intake.inboundmessage",
                InboundMessage._base_manager.filter(received_at__lte=self.now - timedelta(days=INBOUND_MESSAGE_DAYS)),
            ),
            lambda: self.delete(
                "core.ratebucket",
                RateBucket.objects.filter(window_start__lte=self.now - timedelta(days=RATE_BUCKET_DAYS)),
            ),
            lambda: self.delete("core.usedtoken", UsedToken.objects.filter(expires_at__lte=self.now)),
            *[self._extra(label, step) for label, step in _extra_steps.items()],
            lambda: self.delete("django_tasks_db.dbtaskresult", finished_task_results(self.now)),
            lambda: self.delete(
                "core.auditevent",
                AuditEvent.objects.filter(at__lte=self.now - timedelta(days=settings.RETAIN_AUDIT_DAYS)),
            ),
        ]
        for step in steps:
            if self.stopping():
                return
            step()


def finished_task_results(now: datetime) -> models.QuerySet[Any]:
    cutoff = now - timedelta(days=TASK_RESULT_DAYS)
    # A task still "running" a week after it started belongs to a worker that was killed.
    return DBTaskResult.objects.filter(
        Q(status__in=["SUCCESSFUL", "FAILED"], finished_at__lte=cutoff) | Q(status="RUNNING", started_at__lte=cutoff)
    )


def checkpoint_wal(attempts: int = 5) -> tuple[int, int, int] | None:
    """Copy the WAL into the database file and truncate it, so deleted rows' old page
    images do not linger in `-wal` (secure_delete already zeroes them in the main file)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    row: tuple[int, int, int] = (1, -1, -1)
    for attempt in range(attempts):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, log_frames, checkpointed = cursor.fetchone()
            row = (int(busy), int(log_frames), int(checkpointed))
        if row[0] == 0:
            break
        # Another connection is mid-read; its snapshot ends soon.
        time.sleep(0.2 * (attempt + 1))
    else:
        log.warning("WAL checkpoint stayed busy after %d attempts; the next purge retries", attempts)
    return row


def purge_expired(*, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> PurgeResult:
    """Delete everything past its retention. Safe to run at any time, any number of times."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    autodiscover_modules("retention")
    result = PurgeResult()
    now = now or timezone.now()
    _Purge(now, batch_size, result).run()
    for label, job in _purge_jobs.items():
        if _stop.is_set():
            break
        handled = job(now)
        if handled:
            result.counts[label] += handled
    if result.total == 0 and not result.stopped:
        with transaction.atomic():
            audit(ACTOR, "retention.purge", object_type="retention", object_id="0")
    result.checkpoint = checkpoint_wal()
    log.info("retention purge: %s", ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())) or "nothing due")
    return result
