"""The delivery ledger: where each outbound message goes, and every attempt to send it.

Channels know nothing of alerts or subscribers: an alert (or a page, or a confirmation code)
writes one `Message` per language and one `Delivery` per endpoint; the sender worker claims
deliveries with a lease, sends them through the endpoint's transport and records an `Attempt`.
Message bodies never carry personal data (SMS is not secret); endpoint addresses are encrypted.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import EncryptedTextField
from vigil.core.models import Chapter


class ChannelKind(models.TextChoices):
    SMS = "sms", _("Text message")
    SIGNAL = "signal", _("Signal")
    EMAIL = "email", _("Email")
    WEBPUSH = "webpush", _("Browser notification")


class Endpoint(models.Model):
    """One address on one channel: a phone for SMS or Signal, an email, a push subscription.

    `address` is ciphertext; `address_index` is its keyed blind index (phones share the
    "phone" purpose with intake so STOP from a number finds it). When someone opts out the
    address and index are blanked and the endpoint disabled: only the suppression list
    remembers the keyed hash.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=ChannelKind.choices)
    address = EncryptedTextField()
    address_index = models.CharField(max_length=64, blank=True, db_index=True)
    # Where to go after repeated failures on this endpoint (a subscriber's second channel).
    fallback = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # A provider's error code or "opted out": never the address or message text.
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chapter", "channel", "address_index"],
                condition=~Q(address_index=""),
                name="endpoint_unique_address",
            )
        ]

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class Purpose(models.TextChoices):
    ALERT = "alert", _("Alert")
    CONFIRMATION = "confirmation", _("Confirmation code")
    PAGE = "page", _("Page")
    REMINDER = "reminder", _("Reminder")
    # A family's own words to their emergency contacts (vigil.families): the one purpose whose
    # text is personal, so it is kept in `sealed_body`, never in `body`.
    PANIC = "panic", _("Emergency message")
    # A pressure campaign's update to the supporters who asked for it (vigil.cases.campaigns).
    CAMPAIGN = "campaign", _("Campaign update")


class Message(models.Model):
    """The text sent to everyone in one language for one send. `body` is never personal data;
    the rare personal text (a family's panic message) goes in `sealed_body`."""

    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="+")
    # Groups the languages of one send (an alert's batch, a page's batch).
    batch = models.UUIDField(default=uuid.uuid4, db_index=True)
    purpose = models.CharField(max_length=14, choices=Purpose.choices, default=Purpose.ALERT)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=160, blank=True)
    body = models.TextField()
    # Personal text (a panic message written by a family for one contact): ciphertext, and
    # `body` stays empty. The sender prefers it when set.
    sealed_body = EncryptedTextField()
    # A public page about this message (for email and Web Push); empty for none.
    url = models.CharField(max_length=300, blank=True)
    is_drill = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    # Nothing is delivered after this moment.
    valid_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "language"], name="message_unique_language")]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    FELL_BACK = "fell_back", _("Moved to fallback channel")


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Delivery(models.Model):
    """One message to one endpoint. At-least-once, never after the message's validity window.

    The worker claims rows (status pending, or sending with an expired lease) by a conditional
    UPDATE that sets `lease_token`/`lease_until`; every later write is conditional on the same
    token, so a worker that froze past its lease cannot overwrite the one that took over.
    """

    # No index of its own: delivery_unique_endpoint (message, endpoint) serves lookups by
    # message, and every index is paid for on each of an alert's 100,000 inserted rows.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=ChannelKind.choices)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    # The delivery on the primary channel that this one replaces (fallback chain).
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "endpoint"], name="delivery_unique_endpoint")]
        indexes = [
            # The claim query's index: only open rows, so it stays small however long the ledger.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_open",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["provider_id"],
                name="delivery_provider_id",
                condition=~Q(provider_id=""),
            ),
            models.Index(fields=["fallback_of"], name="delivery_fallback_of", condition=Q(fallback_of__isnull=False)),
        ]

    @property
    def idempotency_key(self) -> str:
        return f"vigil-{self.message_id}-{self.pk}"


class Outcome(models.TextChoices):
    SENT = "sent", _("Accepted by provider")
    TRANSIENT = "transient", _("Temporary failure")
    PERMANENT = "permanent", _("Permanent failure")
    EXPIRED = "expired", _("Expired")


class Attempt(models.Model):
    """Every try, written after the provider answers; status callbacks update it later."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    provider_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=200, blank=True)
    callback_status = models.CharField(max_length=20, blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)


class ChannelHealth(models.Model):
    """Last success and last error per channel, for the channels settings page."""

    channel = models.CharField(max_length=10, choices=ChannelKind.choices, unique=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)


class SandboxMessage(models.Model):
    """The in-app phone inbox of demo and drill mode: what a phone sent or received."""

    class Direction(models.TextChoices):
        IN = "in", _("Sent by the phone")
        OUT = "out", _("Received by the phone")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=10, choices=ChannelKind.choices, default=ChannelKind.SMS)
    address = EncryptedTextField()
    address_index = models.CharField(max_length=64, db_index=True)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # What a drill participant typed may be as sensitive as a real report.
    body = EncryptedTextField()
    at = models.DateTimeField(db_index=True)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class EarlyCallback(models.Model):
    """A provider's final verdict (delivered, failed) that arrived before the sender recorded
    which delivery the provider id belongs to: Twilio can call back within a second of
    accepting a message, before our batch is written. Kept until the delivery appears (a
    sweep applies it) or for a day. A provider id, a status and an error code: nothing else."""

    provider_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=10, blank=True)
    received_at = models.DateTimeField()
