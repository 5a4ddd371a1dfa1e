"""Field reports from the scene, by the volunteer's web form or by text ("INFORME 1 <text>").

Both end in vigil.incidents.actions.record_field_report with the volunteer's own account as
the actor and `assigned=True`: this stage has checked that they are assigned to the incident
(an active Assignment). The assignment stays open until the dispatcher closes the incident or
the volunteer says they are done (vigil.responders.paging.end_assignment).

By text, the words after the outcome digit are split into segments at ";" or line breaks; a
segment starting with one of the SALUTE letters followed by ":" or a space fills that part
(S size, A activity, L location, U unit, T time, E equipment), the rest goes to the notes:

    INFORME 1 S: 10 agents, 4 vans; A: knocking on doors; E vests, rifles; kids outside
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_noop

from vigil.accounts.models import User
from vigil.incidents import actions
from vigil.incidents.errors import IncidentError
from vigil.incidents.models import FieldReport, Incident, Outcome
from vigil.responders import texts
from vigil.responders.access import assignment_for
from vigil.responders.models import Assignment, Responder, ResponderStatus

# The three replies to a texted field report (one GSM-7 segment each; {number}: the incident).
# Two are shared with the other volunteer texts in vigil.responders.texts.
SMS_REPORT_SAVED = texts.FIELD_REPORT
SMS_REPORT_USAGE = texts.FIELD_USAGE
SMS_REPORT_NOT_SAVED = gettext_noop("Report for #{number} not saved: keep it shorter, or call the dispatcher.")

OUTCOME_DIGITS: dict[str, str] = {
    "1": Outcome.CONFIRMED,
    "2": Outcome.FALSE_ALARM,
    "3": Outcome.UNVERIFIED,
    "4": Outcome.OTHER_AGENCY,
}
SALUTE_LETTERS: dict[str, str] = {
    "s": "size",
    "a": "activity",
    "l": "location",
    "u": "unit",
    "t": "observed_time",
    "e": "equipment",
}
REPORT_FIELDS = ("on_scene", "size", "activity", "location", "unit", "observed_time", "equipment", "outcome", "notes")
_SEGMENT = re.compile(r"^([salute])(?::\s*|\s+)(.*)$", re.IGNORECASE | re.DOTALL)
_SPLIT = re.compile(r"[;\n\r]+")


def parse_salute(text: str) -> dict[str, str]:
    """The SALUTE parts and notes of a texted report. Unlabelled segments become notes."""
    parts: dict[str, list[str]] = {}
    for raw in _SPLIT.split(text or ""):
        segment = raw.strip()
        if not segment:
            continue
        match = _SEGMENT.match(segment)
        if match and match.group(2).strip():
            name = SALUTE_LETTERS[match.group(1).lower()]
            parts.setdefault(name, []).append(match.group(2).strip())
        else:
            parts.setdefault("notes", []).append(segment)
    return {name: "; ".join(values) for name, values in parts.items()}


def record_from_web(user: User, incident: Incident, data: Mapping[str, Any]) -> FieldReport:
    """A field report from the volunteer's form (cleaned data of incidents.forms.FieldReportForm).

    Only a volunteer with an active assignment on the incident may file one (else Http404).
    Refusals of the action (too long, bad outcome) raise IncidentError, shown as a 4xx.
    """
    assignment = assignment_for(user, incident.pk, active=True)
    values = {name: data[name] for name in REPORT_FIELDS if name in data}
    values["on_scene"] = bool(values.get("on_scene"))
    return actions.record_field_report(assignment.incident, acting_user=user, assigned=True, **values)


def _field_report_action() -> Any:
    """record_field_report, or its body without the durable transaction when called inside one.

    A texted report runs inside the SMS webhook's transaction (the one that records the
    provider's message id, for exactly-once), where a durable block may not nest. The body
    writes its audit row and timeline event in that same transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        return actions.record_field_report
    return actions.store_field_report


def _reply(responder: Responder, text: str, **values: Any) -> str:
    with translation.override(responder.language or "en"):
        return texts.render(text, **values)


def record_from_sms(responder: Responder, assignment: Assignment, outcome_digit: str, text: str) -> str:
    """A texted field report ("INFORME 1 <text>"): records it and answers with the reply to send,
    already in the responder's language. On scene if they said so before (reply 3)."""
    outcome = OUTCOME_DIGITS.get((outcome_digit or "").strip())
    if outcome is None:
        return _reply(responder, SMS_REPORT_USAGE)
    user = responder.user
    if (
        user is None
        or responder.status != ResponderStatus.APPROVED
        or assignment.responder_id != responder.pk
        or assignment.ended_at is not None
    ):
        return _reply(responder, SMS_REPORT_NOT_SAVED, number=assignment.incident_id)
    parts = parse_salute(text)
    try:
        _field_report_action()(
            assignment.incident,
            acting_user=user,
            assigned=True,
            on_scene=assignment.on_scene_at is not None,
            outcome=outcome,
            **parts,
        )
    except (IncidentError, PermissionDenied):
        return _reply(responder, SMS_REPORT_NOT_SAVED, number=assignment.incident_id)
    return _reply(responder, SMS_REPORT_SAVED, number=assignment.incident_id)
