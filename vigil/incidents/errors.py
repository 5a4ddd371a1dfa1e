"""Errors of the incidents stage. Messages are shown to staff, so they are translatable."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _

from vigil.incidents.models import Incident


class IncidentNotFound(Incident.DoesNotExist, Http404):
    """Missing, or another chapter's: the same error either way (no existence leak).

    Being an Http404 too, a view that lets it escape answers 404, never 500.
    """


class IncidentError(ValueError):
    """A request the incident's current state does not allow; `message` says why."""

    default_message: Any = _("This action is not possible.")

    def __init__(self, message: Any = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))


class InvalidTransition(IncidentError):
    default_message = _("This incident cannot move to that status from its current one.")


class ReasonRequired(IncidentError):
    default_message = _("Please give a reason: it goes on the incident's timeline.")


class CorroborationRequired(IncidentError):
    default_message = _(
        "This incident cannot be confirmed yet: it needs a verifier on scene who saw enforcement, "
        "or reports from at least two independent sources."
    )


class InvalidInput(IncidentError):
    default_message = _("Some of the information given is not valid.")
