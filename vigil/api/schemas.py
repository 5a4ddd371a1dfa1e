"""Explicit request and response shapes for the API.

Request schemas list exactly the fields a client may set; anything else posted (role,
is_staff, status, chapter...) is dropped by validation (SECURITY-TESTS D3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from vigil.incidents.models import Outcome, Status
from vigil.intake.models import Agency, Kind

MAX_ID = 2**63 - 1


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "Text must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text_encoding", "Text must be valid Unicode (no lone surrogates).") from None
    return value.strip()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean_text)]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_clean_text)]
Reason = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_clean_text)]
IncidentId = Annotated[int, Field(ge=1, le=MAX_ID)]
AwareDatetime = Annotated[datetime | None, AfterValidator(_aware)]


class ErrorOut(Schema):
    detail: str


class IncidentOut(Schema):
    id: int
    status: str
    status_label: str
    kind: str
    kind_label: str
    report_count: int
    channels: list[str]
    zone: str
    first_report_at: datetime
    last_report_at: datetime
    age_seconds: int
    since_last_action_seconds: int
    waiting_too_long: bool
    claimed_by: str


class ReportOut(Schema):
    """A report without its contact details (those are revealed one at a time, audited)."""

    id: UUID
    received_at: datetime
    channel: str
    kind: str
    observed_at: datetime | None
    language: str
    zip_code: str
    zone: str
    agents_count: int | None
    vehicles_count: int | None
    agency: str
    address: str
    details: str
    anonymous: bool
    entered_by: str
    corroboration: bool
    has_contact: bool


class EventOut(Schema):
    at: datetime
    kind: str
    actor: str
    from_status: str
    to_status: str
    reason: str
    other_incident_id: int | None


class FieldReportOut(Schema):
    id: UUID
    created_at: datetime
    verifier: str
    on_scene: bool
    size: str
    activity: str
    location: str
    unit: str
    observed_time: str
    equipment: str
    outcome: str
    notes: str


class CorroborationOut(Schema):
    on_scene: bool
    independent_sources: int
    satisfied: bool


class IncidentDetailOut(IncidentOut):
    corroboration: CorroborationOut
    reports: list[ReportOut]
    timeline: list[EventOut]
    field_reports: list[FieldReportOut]


class ClaimOut(Schema):
    claimed: bool
    claimed_by: str


class TransitionIn(Schema):
    to_status: Status
    reason: Reason


class MergeIn(Schema):
    source_ids: list[IncidentId] = Field(..., min_length=1, max_length=50)
    reason: Reason


class SplitIn(Schema):
    report_ids: list[UUID] = Field(..., min_length=1, max_length=500)
    reason: Reason


class FieldReportIn(Schema):
    """SALUTE plus outcome. `unit` is the agency and unit type, never a name or a plate."""

    on_scene: bool = True
    size: ShortText = ""
    activity: Annotated[str, StringConstraints(max_length=500), AfterValidator(_clean_text)] = ""
    location: LongText = ""
    unit: ShortText = Field(
        "",
        description="Agency and unit type (ICE, Border Patrol, police). Never an officer's name or a licence plate.",
    )
    observed_time: Annotated[str, StringConstraints(max_length=100), AfterValidator(_clean_text)] = ""
    equipment: Annotated[str, StringConstraints(max_length=500), AfterValidator(_clean_text)] = ""
    outcome: Outcome
    notes: LongText = ""


class HotlineCallIn(Schema):
    kind: Kind = Kind.OTHER
    details: LongText = ""
    address: Annotated[str, StringConstraints(max_length=500), AfterValidator(_clean_text)] = ""
    zip_code: Annotated[str, StringConstraints(pattern=r"^(\d{5})?$")] = ""
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    observed_at: AwareDatetime = None
    agents_count: int | None = Field(None, ge=0, le=10000)
    vehicles_count: int | None = Field(None, ge=0, le=10000)
    agency: Agency = Agency.UNKNOWN
    language: Literal["en", "es"] = "en"
    caller_phone: Annotated[str, StringConstraints(max_length=40), AfterValidator(_clean_text)] = Field(
        "", description="The caller's callback number, if they gave one (encrypted, expires)."
    )

    @model_validator(mode="after")
    def says_something(self) -> HotlineCallIn:
        placed = self.zip_code or (self.latitude is not None and self.longitude is not None)
        if not (placed or self.address or self.details):
            raise PydanticCustomError("empty_call", "Give at least a place (ZIP code or coordinates) or details.")
        return self


class HotlineCallOut(Schema):
    report_id: UUID
    incident_id: int | None
