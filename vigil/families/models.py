"""Family preparedness plans and the panic keyword.

A community member makes a plan without an account (web or guided SMS): emergency contacts
with a message for each, who picks up the children, where documents are, an attorney,
medical needs. They get a plan code (what DETAINED/DETENIDO takes) and a PIN (to change the
plan). Both are stored only as keyed hashes: the code as a blind index (purpose "plan-code"),
the PIN with Django's password hasher.

Every personal value is sealed with the plan's own data key (vigil.core.rowkeys), so deleting
a plan crypto-shreds it. The legal team may read a plan only after a panic or with the
member's recorded consent (`consent_at`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import EncryptedTextField, RowKeyTextField
from vigil.core.models import Chapter, DataKey

PLAN_KEY = "plan.data_key"


class Plan(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="plans")
    data_key = models.ForeignKey(DataKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Keyed blind index of the plan code (digits only), unique across the network: one SMS
    # number serves every chapter.
    code_index = models.CharField(max_length=64, unique=True)
    pin_hash = models.CharField(max_length=200)
    language = models.CharField(max_length=8, default="es")

    name = RowKeyTextField()
    phone = RowKeyTextField()
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    children_pickup = RowKeyTextField()
    school = RowKeyTextField()
    documents = RowKeyTextField()
    attorney = RowKeyTextField()
    medical = RowKeyTextField()
    # Anything else the family wants the legal team to know.
    notes = RowKeyTextField()

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # The member agreed that the legal team may read the plan before any panic.
    consent_at = models.DateTimeField(null=True, blank=True)
    last_panic_at = models.DateTimeField(null=True, blank=True)

    @property
    def legal_may_read(self) -> bool:
        return self.consent_at is not None or self.last_panic_at is not None


class PlanContact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="contacts")
    position = models.PositiveSmallIntegerField(default=0)
    name = RowKeyTextField(key_path=PLAN_KEY)
    phone = RowKeyTextField(key_path=PLAN_KEY)
    phone_index = models.CharField(max_length=64, db_index=True)
    language = models.CharField(max_length=8, default="es")
    # What this contact receives when the plan's panic keyword is sent.
    message = RowKeyTextField(key_path=PLAN_KEY)
    # May send DETAINED <code> for the member (their phone is checked by its blind index).
    trusted = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]


class PanicVia(models.TextChoices):
    MEMBER = "member", _("Text from the member's phone")
    CONTACT = "contact", _("Text from a trusted contact")
    OTHER_PHONE = "other", _("Text from another phone")
    DISPATCHER = "dispatcher", _("Dispatcher, on a call")


class PanicEvent(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="panics")
    at = models.DateTimeField()
    via = models.CharField(max_length=10, choices=PanicVia.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The case it opened for the legal team.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    messages = models.PositiveSmallIntegerField(default=0)


class PlanConversation(models.Model):
    """A guided SMS plan in progress, keyed by the sender's blind index. The answers so far
    are sealed with the network key (there is no plan, and no plan key, until the end)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone_index = models.CharField(max_length=64, unique=True)
    step = models.CharField(max_length=20)
    language = models.CharField(max_length=8, default="es")
    # JSON of the answers so far.
    answers = EncryptedTextField()
    expires_at = models.DateTimeField(db_index=True)


class RetiredPlanCode(models.Model):
    """The keyed index of a deleted plan's code: never given to another family, so an old
    contact texting DETAINED with it fires nobody's plan."""

    code_index = models.CharField(max_length=64, unique=True)
    retired_at = models.DateTimeField()
