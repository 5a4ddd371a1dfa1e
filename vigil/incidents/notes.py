"""Timeline notes written by the system (paging, escalation) in no language: a short code such
as "paged:2:5" or "eta:15", rendered in the reader's language when the timeline is shown. Staff
reasons stay free text (IncidentEvent.reason, encrypted); a note is never personal data.

A later stage registers how to read its codes (vigil.responders registers "stage", "paged",
"eta", "handover" and "moved"); incidents never imports it.
"""

from __future__ import annotations

from collections.abc import Callable

Renderer = Callable[[list[str]], str]

_renderers: dict[str, Renderer] = {}


def register(prefix: str, renderer: Renderer) -> None:
    _renderers[prefix] = renderer


def render(note: str) -> str:
    """The note in the active language; an unknown or malformed one as it is stored."""
    prefix, *args = note.split(":")
    renderer = _renderers.get(prefix)
    if renderer is None:
        return note
    try:
        return renderer(args)
    except (IndexError, ValueError):
        return note
