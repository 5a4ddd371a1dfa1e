from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from vigil.core import crypto
from vigil.core.models import Chapter
from vigil.intake.models import Report


@contextmanager
def data_keys(spec: str, blind: str | None = None) -> Iterator[None]:
    """Run with another VIGIL_DATA_KEYS (and blind index key), as if the server restarted."""
    changes: dict[str, str] = {"DATA_KEYS": spec}
    if blind is not None:
        changes["BLIND_INDEX_KEY"] = blind
    crypto.reset_keyring()
    try:
        with override_settings(**changes):
            crypto.reset_keyring()
            yield
    finally:
        crypto.reset_keyring()


def new_report(chapter: Chapter, **sensitive: str) -> Report:
    now = timezone.now()
    report = Report(
        id=uuid.uuid4(), chapter=chapter, received_at=now, channel="web", purge_after=now + timedelta(days=1)
    )
    for name, value in sensitive.items():
        setattr(report, name, value)
    report.save(force_insert=True)
    return report


def raw(report: Report, column: str) -> bytes:
    return bytes(Report.objects.filter(pk=report.pk).values_list(column, flat=True).get())
