"""Trainings and meetings: events with RSVP by web or text, reminders, and attendance.

Taking attendance at a training event records the training on the roster
(vigil.responders.Training, source "event"). The place of a meeting is ciphertext: a list of
where undocumented volunteers gather is as sensitive as their names.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import EncryptedTextField
from vigil.core.models import ChapterScoped
from vigil.responders.models import Responder, ResponderRole


class EventKind(models.TextChoices):
    TRAINING = "training", _("Training")
    MEETING = "meeting", _("Meeting")


class Event(ChapterScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A short number people type in a text ("RSVP 12 YES"); unique per network.
    number = models.PositiveIntegerField(unique=True)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    # A training event teaches this role; attending records the training.
    training_role = models.CharField(max_length=16, choices=ResponderRole.choices, blank=True)
    # Months a training recorded by attendance stays current.
    valid_months = models.PositiveSmallIntegerField(default=12)
    title = models.CharField(max_length=120)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    place = EncryptedTextField()
    details = EncryptedTextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When each reminder was written to the delivery ledger (null: not yet).
    reminded_day_at = models.DateTimeField(null=True, blank=True)
    reminded_hour_at = models.DateTimeField(null=True, blank=True)
    attendance_taken_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]


class RsvpAnswer(models.TextChoices):
    YES = "yes", _("Going")
    NO = "no", _("Not going")
    MAYBE = "maybe", _("Maybe")


class Rsvp(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(max_length=6, choices=RsvpAnswer.choices)
    via = models.CharField(max_length=4, default="web")  # "web" or "sms"
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "responder"], name="rsvp_unique_responder")]


class Attendance(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendance")
    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="+")
    attended = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "responder"], name="attendance_unique_responder")]
