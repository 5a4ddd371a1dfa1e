"""The audit log: written in the same transaction as the action it records."""

from __future__ import annotations

from typing import Any

from django.db import connection

from vigil.core.models import AuditEvent, Chapter


def audit(
    actor: Any,
    action: str,
    obj: Any = None,
    *,
    chapter: Chapter | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    if not connection.in_atomic_block:
        raise RuntimeError("audit() must run inside the transaction of the action it records")
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
        chapter = chapter or getattr(obj, "chapter", None)
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor.get_username() if user is not None else (actor if isinstance(actor, str) else "system")
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        chapter=chapter,
    )
