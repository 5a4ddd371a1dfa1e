"""Incidents: reports clustered by place and time, and their verification."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import EncryptedTextField
from vigil.core.models import ChapterScoped, Zone
from vigil.intake.models import Kind, Report


class Status(models.TextChoices):
    NEW = "new", _("New")
    VERIFYING = "verifying", _("Verifying")
    CONFIRMED = "confirmed", _("Confirmed")
    FALSE_ALARM = "false_alarm", _("False alarm")
    UNVERIFIED = "unverified", _("Could not verify")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.VERIFYING, Status.CONFIRMED)


class Incident(ChapterScoped):
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    cell = models.CharField(max_length=16, blank=True, db_index=True)
    zip_code = models.CharField(max_length=5, blank=True)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents")
    first_report_at = models.DateTimeField()
    last_report_at = models.DateTimeField(db_index=True)
    last_action_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report_count = models.PositiveIntegerField(default=0)
    channels = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-last_report_at"]
        indexes = [models.Index(fields=["chapter", "status", "last_report_at"])]

    def __str__(self) -> str:
        return f"#{self.pk}"


class IncidentReport(models.Model):
    """Which incident a report belongs to (the dispatcher can merge and split)."""

    report = models.OneToOneField(Report, primary_key=True, on_delete=models.CASCADE, related_name="link")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    linked_at = models.DateTimeField()
    # Arrived after the incident was confirmed: shown as corroboration, not a new ticket.
    corroboration = models.BooleanField(default=False)


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    REPORT = "report", _("New report")
    CLAIM = "claim", _("Claimed")
    RELEASE = "release", _("Released")
    STATUS = "status", _("Status changed")
    MERGE = "merge", _("Merged")
    SPLIT = "split", _("Split")
    FIELD_REPORT = "field_report", _("Field report")
    ALERT = "alert", _("Alert sent")
    # Paging volunteers (vigil.responders).
    PAGED = "paged", _("Volunteers paged")
    ESCALATED = "escalated", _("Page escalated")
    ACCEPTED = "accepted", _("Page accepted")
    DECLINED = "declined", _("Page declined")
    JOINED = "joined", _("Volunteer joined")
    ON_SCENE = "on_scene", _("Volunteer on scene")
    ALARM = "alarm", _("Nobody accepted: dispatcher alarmed")
    ENDED = "ended", _("Volunteer done")


class IncidentEvent(models.Model):
    """The incident timeline. The reason text is encrypted (it may name people or places)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    reason = EncryptedTextField()
    # What the system did, as a code rendered in the reader's language (vigil.incidents.notes).
    note = models.CharField(max_length=40, blank=True)
    # Merge and split: the incident on the other side of the move.
    other_incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at"]


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed: enforcement seen")
    FALSE_ALARM = "false_alarm", _("False alarm")
    UNVERIFIED = "unverified", _("Could not verify")
    OTHER_AGENCY = "other_agency", _("Other agency, not immigration")


class FieldReport(models.Model):
    """A verifier's structured return from the scene (SALUTE plus outcome)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="field_reports")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    on_scene = models.BooleanField(default=True)
    size = models.CharField(max_length=200, blank=True)
    activity = models.CharField(max_length=500, blank=True)
    location = EncryptedTextField()
    unit = models.CharField(
        max_length=200,
        blank=True,
        help_text=_(
            "The agency and type of unit (for example: ICE, Border Patrol, local police). Never an officer's "
            "name or badge number and never a licence plate: Vigil records incidents, not individuals."
        ),
    )
    observed_time = models.CharField(max_length=100, blank=True)
    equipment = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    notes = EncryptedTextField()
