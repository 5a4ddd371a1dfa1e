"""Raw reports: anonymous, short-lived, sensitive parts encrypted."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import EncryptedTextField
from vigil.core.models import ChapterScoped, Zone


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    SMS = "sms", _("Text message")
    HOTLINE = "hotline", _("Hotline call")


class Kind(models.TextChoices):
    HOME = "home", _("Raid at a home")
    WORKPLACE = "workplace", _("Raid at a workplace")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    ARREST = "arrest", _("Arrest")
    VEHICLES = "vehicles", _("Vehicles seen")
    OTHER = "other", _("Something else")


class Agency(models.TextChoices):
    UNKNOWN = "unknown", _("Don't know")
    ICE = "ice", _("ICE")
    CBP = "cbp", _("Border Patrol / CBP")
    POLICE = "police", _("Local police")
    OTHER = "other", _("Other")


class Report(ChapterScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    received_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    observed_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, default="en")
    # Coarse place, in the clear: a ZIP code and an h3 cell (about 0.7 km² at resolution 8).
    zip_code = models.CharField(max_length=5, blank=True)
    cell = models.CharField(max_length=16, blank=True, db_index=True)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agents_count = models.PositiveSmallIntegerField(null=True, blank=True)
    vehicles_count = models.PositiveSmallIntegerField(null=True, blank=True)
    agency = models.CharField(max_length=10, choices=Agency.choices, default=Agency.UNKNOWN)
    # Sensitive: the exact place, what was seen, and how to call the reporter back.
    address = EncryptedTextField()
    details = EncryptedTextField()
    contact_phone = EncryptedTextField()
    contact_index = models.CharField(max_length=64, blank=True, db_index=True)
    contact_expires_at = models.DateTimeField(null=True, blank=True)
    # Server-made name of the encrypted, metadata-free photo under MEDIA_ROOT.
    photo_name = models.CharField(max_length=80, blank=True)
    # Keyed hash of where the report came from (client address or phone), so corroboration
    # can tell one source repeating itself from independent sources. Purged with the report.
    source_hash = models.CharField(max_length=40, blank=True, db_index=True)
    entered_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    purge_after = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at"]

    @property
    def anonymous(self) -> bool:
        return self.entered_by_id is None


class InboundMessage(models.Model):
    """Provider message ids already processed (exactly-once for redelivered webhooks)."""

    provider_id = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(db_index=True)


class ConversationState(models.TextChoices):
    ASK_PLACE = "ask_place", "ask place"
    ASK_WHAT = "ask_what", "ask what"
    DONE = "done", "done"


class SmsConversation(models.Model):
    """A guided SMS report in progress, keyed by the sender's blind index."""

    phone_index = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=12, choices=ConversationState.choices)
    language = models.CharField(max_length=8, default="en")
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)
