"""What a volunteer may see of an incident (SECURITY-TESTS.md D4).

A volunteer sees an incident only while (or after) they are assigned to it, and only the
facts their role needs: verifiers and legal observers read what the reports say and where;
accompaniment, interpreters and drivers get the place and little else. Never the reporter's
contact, a report's id or source hash, other volunteers' names, or anything of an incident
they are not assigned to. Every read of an incident is audited ("responder.incident_read").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vigil.accounts.models import Role
from vigil.core.audit import audit
from vigil.incidents.models import FieldReport, Outcome
from vigil.intake.models import Report
from vigil.responders.models import Assignment, PageRecipient, Responder, ResponderRole, ResponderStatus

# How long after an assignment ends (the volunteer is done, or the incident closed) they may
# still open the incident and upload evidence for it.
AFTER_DONE = timedelta(hours=24)

_MAX_BIGINT = 2**63 - 1

# The incident facts a role may see. "details" and "address" are decrypted from the reports.
_BASIC = frozenset({"kind", "zone", "time"})
_OBSERVERS = frozenset({"kind", "zone", "status", "time", "details", "address"})
_HELPERS = frozenset({"kind", "zone", "time", "address"})
VISIBLE_FIELDS: dict[str, frozenset[str]] = {
    ResponderRole.VERIFIER: _OBSERVERS,
    ResponderRole.LEGAL_OBSERVER: _OBSERVERS,
    ResponderRole.ACCOMPANIMENT: _HELPERS,
    ResponderRole.INTERPRETER: _HELPERS,
    ResponderRole.DRIVER: _HELPERS,
}


def visible_fields(role: str) -> frozenset[str]:
    """The incident facts a responder of `role` sees; an unknown role sees the least."""
    return VISIBLE_FIELDS.get(role, _BASIC)


def responder_of(user: Any) -> Responder | None:
    """The approved roster entry linked to this login, or None."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    if hasattr(user, "_vigil_responder"):
        cached: Responder | None = user._vigil_responder
        return cached
    responder = (
        Responder.objects.filter(user_id=user.pk, status=ResponderStatus.APPROVED).select_related("chapter").first()
    )
    user._vigil_responder = responder
    return responder


def is_volunteer(user: Any) -> bool:
    """Who may use the volunteer pages (/r/): the VOLUNTEER role, or anyone on the roster."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return getattr(user, "role", None) == Role.VOLUNTEER or responder_of(user) is not None


def assignment_for(user: Any, incident_id: int, *, active: bool = False) -> Assignment:
    """The user's assignment on the incident, else Http404: an active one, or (unless `active`)
    one that ended less than AFTER_DONE ago, so a volunteer home from the scene can still read
    what they were sent for and add photos, but not for ever (D4).

    Missing, another chapter's, or not assigned to them all answer the same 404.
    """
    if not isinstance(incident_id, int) or not 0 < incident_id <= _MAX_BIGINT:
        raise Http404
    responder = responder_of(user)
    if responder is None:
        raise Http404
    found = Assignment.objects.select_related("incident", "incident__zone", "responder").filter(
        incident_id=incident_id, responder=responder, incident__chapter_id=responder.chapter_id
    )
    if active:
        found = found.filter(ended_at__isnull=True)
    else:
        found = found.exclude(ended_at__lt=timezone.now() - AFTER_DONE)
    assignment = found.first()
    if assignment is None:
        raise Http404
    return assignment


def paged_for(user: Any, incident_id: int) -> PageRecipient:
    """The page this user's responder received for the incident, else Http404."""
    if not isinstance(incident_id, int) or not 0 < incident_id <= _MAX_BIGINT:
        raise Http404
    responder = responder_of(user)
    if responder is None:
        raise Http404
    recipient = (
        PageRecipient.objects.select_related("paging", "paging__incident", "paging__incident__zone")
        .filter(
            responder=responder,
            paging__incident_id=incident_id,
            paging__incident__chapter_id=responder.chapter_id,
        )
        .first()
    )
    if recipient is None:
        raise Http404
    return recipient


@dataclass(frozen=True)
class ReportFacts:
    """What one report says, as far as the role may know. No id, no contact, no source."""

    received_at: datetime
    address: str = ""
    details: str = ""


@dataclass(frozen=True)
class IncidentView:
    incident_id: int
    role: str
    fields: frozenset[str]
    kind_label: str = ""
    zone_name: str = ""
    status: str = ""
    status_label: str = ""
    first_report_at: datetime | None = None
    last_report_at: datetime | None = None
    reports: list[ReportFacts] = field(default_factory=list)

    def shows(self, name: str) -> bool:
        return name in self.fields

    @property
    def shows_details(self) -> bool:
        return "details" in self.fields


def _text(value: Any) -> str:
    # Kept as is when a str: a LockedValue (no key, tampered) must reach the template as one.
    return value if isinstance(value, str) else ""


@transaction.atomic(durable=True)
def read_incident(user: Any, assignment: Assignment) -> IncidentView:
    """The incident as `assignment`'s role sees it; the read is audited in the same transaction."""
    incident = assignment.incident
    fields = visible_fields(assignment.role)
    reports: list[ReportFacts] = []
    if "details" in fields or "address" in fields:
        # Only the columns the role may read are loaded: never the contact or the source hash.
        wanted = ["id", "received_at"]
        if "address" in fields:
            wanted.append("address")
        if "details" in fields:
            wanted.append("details")
        for report in Report.objects.filter(link__incident=incident).only(*wanted).order_by("received_at"):
            reports.append(
                ReportFacts(
                    received_at=report.received_at,
                    address=_text(report.address) if "address" in fields else "",
                    details=_text(report.details) if "details" in fields else "",
                )
            )
    audit(user, "responder.incident_read", incident)
    return IncidentView(
        incident_id=incident.pk,
        role=assignment.role,
        fields=fields,
        kind_label=str(incident.get_kind_display()) if "kind" in fields else "",
        zone_name=(incident.zone.name if incident.zone else "") if "zone" in fields else "",
        status=incident.status if "status" in fields else "",
        status_label=str(incident.get_status_display()) if "status" in fields else "",
        first_report_at=incident.first_report_at if "time" in fields else None,
        last_report_at=incident.last_report_at if "time" in fields else None,
        reports=reports,
    )


@dataclass(frozen=True)
class MyStep:
    at: datetime
    label: str


def my_steps(assignment: Assignment) -> list[MyStep]:
    """The volunteer's own actions on the incident, oldest first (never anyone else's)."""
    steps: list[MyStep] = []
    recipient = (
        PageRecipient.objects.filter(paging__incident_id=assignment.incident_id, responder_id=assignment.responder_id)
        .only("paged_at", "responded_at", "response", "eta_minutes")
        .first()
    )
    if recipient is not None:
        steps.append(MyStep(recipient.paged_at, _("You were paged")))
    if assignment.is_lead:
        steps.append(MyStep(assignment.accepted_at, _("You accepted and lead this incident")))
    else:
        steps.append(MyStep(assignment.accepted_at, _("You accepted and joined")))
    if assignment.eta_at:
        steps.append(MyStep(assignment.accepted_at, _("You expected to arrive by %(time)s") % _time(assignment.eta_at)))
    if assignment.on_scene_at:
        steps.append(MyStep(assignment.on_scene_at, _("You arrived on scene")))
    user_id = assignment.responder.user_id
    if user_id is not None:
        for created_at, outcome in (
            FieldReport.objects.filter(incident_id=assignment.incident_id, verifier_id=user_id)
            .order_by("created_at")
            .values_list("created_at", "outcome")
        ):
            steps.append(
                MyStep(created_at, _("You filed a field report: %(outcome)s") % {"outcome": Outcome(outcome).label})
            )
    if assignment.ended_at:
        steps.append(MyStep(assignment.ended_at, _("You were done")))
    steps.sort(key=lambda step: step.at)
    return steps


def _time(at: datetime) -> dict[str, str]:
    return {"time": timezone.localtime(at).strftime("%H:%M")}
