from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import EncryptedTextField


class Chapter(models.Model):
    """A local chapter of the network. Every record belongs to one."""

    slug = models.SlugField(unique=True, max_length=40)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Zone(models.Model):
    """A named area made of h3 cells (neighbourhood, town, county). Coarse by design."""

    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="zones")
    name = models.CharField(max_length=120)
    # h3 cells at any resolution; lookups compare the parent cell at the cell's resolution.
    cells = models.JSONField(default=list)
    zip_codes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["chapter", "name"], name="zone_unique_name")]

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """Who did what to which record, when. Never the payload."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    chapter = models.ForeignKey(Chapter, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class WorkerHeartbeat(models.Model):
    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()


class RateBucket(models.Model):
    """A fixed-window counter keyed by a keyed hash (never a raw IP or phone number)."""

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratebucket_unique")]


class UsedToken(models.Model):
    """Single-use proof-of-work tokens, kept until they expire (replay protection)."""

    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


class ChapterScoped(models.Model):
    """Abstract base for records that belong to a chapter."""

    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    def audit_ref(self) -> dict[str, Any]:
        return {"object_type": self._meta.label_lower, "object_id": str(self.pk), "chapter": self.chapter}


TRANSLATED_ROLE_NAMES = {
    "admin": _("Admin"),
    "organizer": _("Organizer"),
    "dispatcher": _("Dispatcher"),
    "verifier": _("Verifier"),
    "legal": _("Legal coordinator"),
    "volunteer": _("Volunteer"),
}


class DataKey(models.Model):
    """A row family's own data key (vigil.core.rowkeys): 32 random bytes, stored wrapped under
    the network's key. Deleting this row crypto-shreds everything sealed with it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(max_length=32)
    wrapped = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
