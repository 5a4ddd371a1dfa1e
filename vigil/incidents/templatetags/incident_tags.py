"""Small helpers for the staff pages: status names and encrypted values."""

from __future__ import annotations

from typing import Any

from django import template

from vigil.core.fields import LockedValue
from vigil.incidents import notes
from vigil.incidents.models import Status

register = template.Library()


@register.inclusion_tag("incidents/_secret.html")
def secret(value: Any) -> dict[str, Any]:
    """An encrypted field's value, or a locked marker when it could not be decrypted."""
    locked = isinstance(value, LockedValue)
    return {
        "locked": locked,
        "tampered": locked and value.tampered,
        "value": "" if locked else (value or ""),
    }


@register.filter
def status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.filter
def event_note(note: str) -> str:
    """A system note (vigil.incidents.notes) in the reader's language."""
    return notes.render(note)
