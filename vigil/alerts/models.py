"""Subscribers, their zones, alert templates and alerts.

A subscriber is anonymous: a language, some zones, and endpoints in the channels ledger (a
primary and optionally a fallback). Staff see counts, never addresses. An alert is a named
staff member's decision about a confirmed incident; sending it writes one channels.Message per
language (sharing `batch`) and one channels.Delivery per recipient, in one transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.channels.models import Endpoint
from vigil.core.models import Chapter, Zone


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    ACTIVE = "active", _("Subscribed")
    STOPPED = "stopped", _("Unsubscribed")


class Subscriber(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(max_length=8, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING)
    # The first channel tried; its `fallback` endpoint (if any) is the second. A subscriber
    # is nothing without a way to reach them: deleting the endpoint deletes the subscriber.
    endpoint = models.OneToOneField(Endpoint, on_delete=models.CASCADE, related_name="subscriber")
    zones = models.ManyToManyField(Zone, through="SubscriberZone", related_name="+")
    # Volunteers who agreed to receive drill alerts (labelled as drills).
    drill_participant = models.BooleanField(default=False)
    # Hash of the double opt-in code or link token (never the code itself).
    confirm_hash = models.CharField(max_length=64, blank=True)
    confirm_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["chapter", "status"])]


class SubscriberZone(models.Model):
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE)
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "zone"], name="subscriberzone_unique")]
        indexes = [models.Index(fields=["zone", "subscriber"])]


class Suppression(models.Model):
    """Contacts that said STOP: only a keyed hash, so we never write to them again."""

    address_index = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class AlertKind(models.TextChoices):
    ACTIVITY = "activity", _("Enforcement activity confirmed")
    CHECKPOINT = "checkpoint", _("Checkpoint confirmed")
    FALSE_ALARM = "false_alarm", _("False alarm")
    ALL_CLEAR = "all_clear", _("All clear")


# Follow-ups go to exactly the recipients of the alert they follow.
FOLLOW_UP_KINDS = (AlertKind.FALSE_ALARM, AlertKind.ALL_CLEAR)


class AlertTemplate(models.Model):
    """The approved text per alert kind and language. Placeholders: {zone} {time} {network}."""

    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    language = models.CharField(max_length=8)
    body = models.TextField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # Cleared by every edit; only an approved template can be sent.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "language"], name="alerttemplate_unique")]


class AlertStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting", _("Waiting for a second approval")
    SENDING = "sending", _("Sending")
    CANCELLED = "cancelled", _("Cancelled")


class Alert(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    is_drill = models.BooleanField(default=False)
    # For a false alarm or all-clear: the alert whose recipients it goes to.
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups")
    ring = models.PositiveSmallIntegerField(default=0)
    zones = models.ManyToManyField(Zone, related_name="+")
    # channels.Message.batch of this alert's messages.
    batch = models.UUIDField(default=uuid.uuid4, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
