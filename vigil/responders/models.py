"""The roster of trained volunteers, their on-call schedule, pages and what they bring back.

A responder is a volunteer who applied and an organizer approved (vetting: infiltrators are
a threat). Their name and phone are ciphertext; the phone is found by its keyed blind index
(`phone_index`, purpose "phone", the same as intake's, so a text from them is recognised).
Approval gives them a User of role VOLUNTEER (no usable password until an organizer gives
them a login), so field reports and the audit log name an account, never a person.

On call for a zone at a moment: a rotation's member whose slot covers it (unless an override
covers that zone then), anyone with an override or AVAILABLE shift covering it, minus anyone
with an OFF shift covering it. Computed, never materialised: rotations go on forever.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigil.channels.models import Delivery, Endpoint
from vigil.core.fields import EncryptedTextField
from vigil.core.models import ChapterScoped, Zone
from vigil.incidents.models import Incident


class ResponderRole(models.TextChoices):
    VERIFIER = "verifier", _("Verifier")
    LEGAL_OBSERVER = "legal_observer", _("Legal observer")
    ACCOMPANIMENT = "accompaniment", _("Accompaniment")
    INTERPRETER = "interpreter", _("Interpreter")
    DRIVER = "driver", _("Driver")


class ResponderStatus(models.TextChoices):
    APPLIED = "applied", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left")


class Responder(ChapterScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Created on approval (role VOLUNTEER); the login is optional, SMS alone works.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="responder"
    )
    name = EncryptedTextField()
    phone = EncryptedTextField()
    phone_index = models.CharField(max_length=64, db_index=True)
    # Where pages go: the phone by SMS or Signal (an Endpoint of the delivery ledger).
    endpoint = models.ForeignKey(Endpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Language of pages and replies ("en"/"es"); `languages` are all they speak (interpreting).
    language = models.CharField(max_length=8, default="en")
    languages = models.JSONField(default=list)
    home_zones = models.ManyToManyField(Zone, blank=True, related_name="+")
    # The backup list: paged in the third stage, whatever their zone or schedule.
    is_backup = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ResponderStatus.choices, default=ResponderStatus.APPLIED, db_index=True
    )
    applied_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Burnout guardrail: not paged before this moment (set when a long deployment ends).
    rest_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chapter", "phone_index"],
                condition=~Q(status="left"),
                name="responder_unique_phone",
            )
        ]


class Training(models.Model):
    """A completed training for one role; only a current one lets a responder be paged for it."""

    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="trainings")
    role = models.CharField(max_length=16, choices=ResponderRole.choices)
    completed_on = models.DateField()
    expires_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()
    # "manual", or "event" when taking attendance at a training event recorded it.
    source = models.CharField(max_length=10, default="manual")

    class Meta:
        indexes = [models.Index(fields=["role", "expires_on"])]


class Rotation(ChapterScoped):
    """A zone's repeating schedule: members take `shift_hours` slots in turn from `starts_at`."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    starts_at = models.DateTimeField()
    shift_hours = models.PositiveSmallIntegerField(default=12)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["rotation", "position"], name="rotation_unique_position")]


class ShiftKind(models.TextChoices):
    OVERRIDE = "override", _("Override")
    AVAILABLE = "available", _("Available now")
    OFF = "off", _("Off")


class Shift(ChapterScoped):
    """A one-off change to the schedule. An override replaces the rotation in its zone for its
    time; AVAILABLE adds the responder (zone null: their home zones); OFF takes them off."""

    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="shifts")
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ShiftKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["chapter", "ends_at", "starts_at"])]


class PagingStage(models.IntegerChoices):
    ZONE = 0, _("On call in the zone")
    RING = 1, _("On call in nearby zones")
    BACKUP = 2, _("Backup list")
    DISPATCHER = 3, _("Dispatcher alarmed")


class Paging(ChapterScoped):
    """Paging for one incident: the current stage and when it escalates if nobody accepts."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="paging")
    role = models.CharField(max_length=16, choices=ResponderRole.choices, default=ResponderRole.VERIFIER)
    stage = models.PositiveSmallIntegerField(choices=PagingStage.choices, default=PagingStage.ZONE)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the current stage escalates; null once someone accepted or paging ended.
    deadline = models.DateTimeField(null=True, blank=True)
    # Exactly one lead at a time: set by one conditional UPDATE (lead IS NULL).
    lead = models.ForeignKey(Responder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    alarm_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["deadline"], name="paging_due", condition=Q(deadline__isnull=False))]


class PageResponse(models.TextChoices):
    NONE = "", _("No answer yet")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ON_SCENE = "on_scene", _("On scene")


class PageRecipient(models.Model):
    """One responder paged for one incident, and their answer."""

    paging = models.ForeignKey(Paging, on_delete=models.CASCADE, related_name="recipients")
    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="pages")
    stage = models.PositiveSmallIntegerField(choices=PagingStage.choices)
    paged_at = models.DateTimeField()
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    response = models.CharField(max_length=10, choices=PageResponse.choices, blank=True, default="")
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["paging", "responder"], name="page_unique_responder")]


class Assignment(models.Model):
    """A responder working an incident: the lead (one at a time) or someone who joined."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=16, choices=ResponderRole.choices, default=ResponderRole.VERIFIER)
    is_lead = models.BooleanField(default=False)
    accepted_at = models.DateTimeField()
    eta_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "responder"], name="assignment_unique_responder"),
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(is_lead=True, ended_at__isnull=True),
                name="assignment_one_lead",
            ),
        ]


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")


class Evidence(models.Model):
    """A photo or video from the scene. The working copy has no metadata; the original is kept
    (encrypted) only when the network keeps originals for legal defense. Both files are
    encrypted at rest under server-made names; `sha256` is of the bytes as received."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="evidence")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()
    kind = models.CharField(max_length=6, choices=EvidenceKind.choices)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    working_sha256 = models.CharField(max_length=64)
    working_name = models.CharField(max_length=80)
    original_name = models.CharField(max_length=80, blank=True)
    caption = EncryptedTextField()


class CustodyAction(models.TextChoices):
    UPLOAD = "upload", _("Uploaded")
    VIEW = "view", _("Viewed")
    VIEW_ORIGINAL = "view_original", _("Viewed the original")
    EXPORT = "export", _("Exported")
    PURGE = "purge", _("Purged")


class CustodyEntry(models.Model):
    """Chain of custody: who did what with a piece of evidence, when. Never deleted with it."""

    evidence = models.ForeignKey(Evidence, null=True, on_delete=models.SET_NULL, related_name="custody")
    evidence_ref = models.UUIDField(db_index=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=14, choices=CustodyAction.choices)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "id"]
