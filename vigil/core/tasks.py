"""Background tasks of the core stage, run by `manage.py worker`."""

from __future__ import annotations

from django_tasks import task

from vigil.core import retention


@task()
def purge_expired() -> dict[str, int]:
    """Delete everything past its retention (see vigil.core.retention)."""
    return dict(retention.purge_expired().counts)
