"""Cases for detained people: the defense stage of the pipeline.

Every personal value of a case lives in a `RowKeyTextField` sealed with the case's own data
key (`Case.data_key`, vigil.core.rowkeys): closing a case and letting its retention run out
deletes that key, and what remains in the rows, the WAL or a later backup cannot be opened
with any key the network holds (crypto-shredding). Child rows reach the key through their
case ("case.data_key"): list them through `case.<related>.all()` or with
select_related("case__data_key").

The A-number and phones are findable only through keyed blind indexes (purposes "a-number"
and "phone"); shredding clears those too.

What a case keeps after shredding (docs/cases.md, "retention"): its number, chapter, when it
was opened and closed, how it was opened, the outcome, and the detention history by facility
and dates. Nothing in those names a person.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigil.core.fields import RowKeyTextField
from vigil.core.models import Chapter, DataKey

CASE_KEY = "case.data_key"


class Facility(models.Model):
    """A detention facility or field office, from the directory organizers import (CSV).
    Public information: plaintext."""

    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="facilities")
    name = models.CharField(max_length=200)
    operator = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    visiting_rules = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chapter", "name"], name="facility_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpenedFrom(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    HOTLINE = "hotline", _("Hotline call")
    PANIC = "panic", _("Family emergency plan")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    SHREDDED = "shredded", _("Closed and shredded")


class Outcome(models.TextChoices):
    RELEASED = "released", _("Released")
    BOND = "bond", _("Released on bond")
    WON = "won", _("Case won")
    DEPORTED = "deported", _("Deported")
    OTHER = "other", _("Other")


class Representation(models.TextChoices):
    NONE = "none", _("No attorney yet")
    SEEKING = "seeking", _("Looking for an attorney")
    LEGAL_AID = "legal_aid", _("Legal-aid organization")
    PRIVATE = "private", _("Private attorney")


class BondStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Not decided")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    SET = "set", _("Bond set")
    REQUESTED = "requested", _("Requested from bond fund")
    PAID = "paid", _("Paid")
    DENIED = "denied", _("Denied")
    REFUNDED = "refunded", _("Refunded")


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="cases")
    # Per chapter, shown as C-0042: what staff say on the phone instead of a name.
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_from = models.CharField(max_length=10, choices=OpenedFrom.choices)
    # Plain integer, not a foreign key: cases come after incidents in the pipeline and an
    # incident's retention must not be held up by a case (or delete it).
    incident_id = models.BigIntegerField(null=True, blank=True)
    data_key = models.ForeignKey(DataKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # The person (sealed with the case key).
    name = RowKeyTextField()
    date_of_birth = RowKeyTextField()
    a_number = RowKeyTextField()
    country_of_birth = RowKeyTextField()
    languages = RowKeyTextField()
    phone = RowKeyTextField()
    # Where and when they were taken, as the report or the caller told it.
    taken_place = RowKeyTextField()
    summary = RowKeyTextField()
    a_number_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    taken_at = models.DateTimeField(null=True, blank=True)

    # Detention: the current place (denormalised from the last Detention row for the board).
    current_facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="current_cases"
    )
    located_at = models.DateTimeField(null=True, blank=True)

    # Legal.
    representation = models.CharField(max_length=10, choices=Representation.choices, default=Representation.NONE)
    attorney = RowKeyTextField()
    bond_status = models.CharField(max_length=12, choices=BondStatus.choices, default=BondStatus.UNKNOWN)
    bond_amount = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    bond_paid_at = models.DateTimeField(null=True, blank=True)
    bond_paid_by = RowKeyTextField()
    bond_refund = RowKeyTextField()

    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    # When the retention job destroys the case key (closed_at + VIGIL_CASE_RETENTION_DAYS).
    shred_after = models.DateTimeField(null=True, blank=True)
    shredded_at = models.DateTimeField(null=True, blank=True)

    # Staff (any role) assigned to work this case; the legal role sees every case of its
    # chapters without being assigned.
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CaseAssignment", through_fields=("case", "user"), related_name="cases"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chapter", "number"], name="case_unique_number")]
        indexes = [
            models.Index(fields=["chapter", "status", "opened_at"], name="case_board"),
            models.Index(fields=["shred_after"], name="case_shred_due", condition=Q(status="closed")),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"C-{self.number:04d}"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class CaseAssignment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_assignments")
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_assignment_unique")]


class Detention(models.Model):
    """Where the person was held, from when to when: the transfer history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="detentions")
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A place not in the directory (a field office, a county jail), as staff wrote it.
    facility_other = models.CharField(max_length=200, blank=True)
    from_at = models.DateTimeField()
    to_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-from_at"]


class LocatorSource(models.TextChoices):
    ICE_LOCATOR = "ice_locator", _("ICE online detainee locator")
    COURT_LINE = "court_line", _("Immigration court information line")
    FACILITY = "facility", _("Called the facility")
    FAMILY = "family", _("Family or attorney")
    OTHER = "other", _("Other")


class LocatorResult(models.TextChoices):
    FOUND = "found", _("Found")
    NOT_FOUND = "not_found", _("Not found")
    TRANSFERRED = "transferred", _("Transferred")
    RELEASED = "released", _("Released")


class LocatorCheck(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="locator_checks")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()
    source = models.CharField(max_length=12, choices=LocatorSource.choices)
    result = models.CharField(max_length=12, choices=LocatorResult.choices)
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = RowKeyTextField(key_path=CASE_KEY)

    class Meta:
        ordering = ["-checked_at"]


class HearingKind(models.TextChoices):
    MASTER = "master", _("Master calendar hearing")
    INDIVIDUAL = "individual", _("Individual (merits) hearing")
    BOND = "bond", _("Bond hearing")
    CREDIBLE_FEAR = "credible_fear", _("Credible fear review")
    OTHER = "other", _("Other")


class Hearing(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hearings")
    court = models.CharField(max_length=200)
    at = models.DateTimeField()
    kind = models.CharField(max_length=14, choices=HearingKind.choices)
    outcome = RowKeyTextField(key_path=CASE_KEY)
    # How many of VIGIL_CASE_REMINDER_DAYS' reminders have gone out (largest lead first).
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["at"], name="hearing_at")]


class DeadlineKind(models.TextChoices):
    STAY = "stay", _("Emergency stay of removal")
    APPEAL = "appeal", _("Appeal window (BIA)")
    FILING = "filing", _("Filing deadline")
    OTHER = "other", _("Other")


class Deadline(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=8, choices=DeadlineKind.choices)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    note = RowKeyTextField(key_path=CASE_KEY)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["due_at"], name="deadline_due", condition=Q(done_at__isnull=True))]


class FamilyContact(models.Model):
    """Someone to keep informed, in their language. Hearing and deadline reminders go to the
    contacts with `reminders` on (no personal data in the text)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="family")
    name = RowKeyTextField(key_path=CASE_KEY)
    relationship = RowKeyTextField(key_path=CASE_KEY)
    phone = RowKeyTextField(key_path=CASE_KEY)
    email = RowKeyTextField(key_path=CASE_KEY)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(max_length=8, default="es")
    reminders = models.BooleanField(default=True)
    # The ledger endpoints reminders use (channels), made when the contact is saved.
    sms_endpoint = models.ForeignKey(
        "channels.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email_endpoint = models.ForeignKey(
        "channels.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class Child(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="children")
    name = RowKeyTextField(key_path=CASE_KEY)
    age = RowKeyTextField(key_path=CASE_KEY)
    school = RowKeyTextField(key_path=CASE_KEY)
    caregiver = RowKeyTextField(key_path=CASE_KEY)
    # Confirmed with a caregiver who has them tonight.
    safe_at = models.DateTimeField(null=True, blank=True)


class TaskKind(models.TextChoices):
    # The checklist every case starts with, in this order.
    LOCATED = "located", _("Located")
    FAMILY_INFORMED = "family", _("Family informed")
    ATTORNEY = "attorney", _("Attorney assigned")
    BOND = "bond", _("Bond decided")
    CHILDREN_SAFE = "children", _("Children safe")
    # What the family needs.
    HOUSING = "housing", _("Housing")
    FOOD = "food", _("Food")
    SCHOOL = "school", _("School")
    MEDICAL = "medical", _("Medical")
    OTHER = "other", _("Other")


CHECKLIST = (
    TaskKind.LOCATED,
    TaskKind.FAMILY_INFORMED,
    TaskKind.ATTORNEY,
    TaskKind.BOND,
    TaskKind.CHILDREN_SAFE,
)


class Task(models.Model):
    """A checklist item or a family need, with an owner and a due time (overdue on the board)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=10, choices=TaskKind.choices)
    detail = RowKeyTextField(key_path=CASE_KEY)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="case_tasks"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["case", "done_at"], name="task_case_open")]


class CaseNote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    body = RowKeyTextField(key_path=CASE_KEY)

    class Meta:
        ordering = ["-at"]


class ExportFormat(models.TextChoices):
    PDF = "pdf", _("PDF")
    CSV = "csv", _("CSV")


class ExportRequest(models.Model):
    """An export of one case for its attorney. Needs recent re-authentication, and where
    VIGIL_CASE_EXPORT_APPROVAL is on, a second admin's approval before the download works.
    Downloadable once, within VIGIL_CASE_EXPORT_HOURS of approval."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=4, choices=ExportFormat.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)


class Campaign(models.Model):
    """A public pressure campaign for a case, published only with the family's recorded
    consent for what may be public. Its texts are sealed with the case key like the rest of
    the case: shredding the case takes the campaign down for good."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="campaign")
    # The public address: random, never the case number.
    slug = models.SlugField(max_length=24, unique=True)
    consent_by = RowKeyTextField(key_path=CASE_KEY)
    consent_scope = RowKeyTextField(key_path=CASE_KEY)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = RowKeyTextField(key_path=CASE_KEY)
    story = RowKeyTextField(key_path=CASE_KEY)
    call_script = RowKeyTextField(key_path=CASE_KEY)
    # Officials to call: one "Name | phone" per line (public offices, not people we protect).
    officials = RowKeyTextField(key_path=CASE_KEY)
    petition = RowKeyTextField(key_path=CASE_KEY)
    published_at = models.DateTimeField(null=True, blank=True)
    unpublished_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_public(self) -> bool:
        return self.published_at is not None and self.unpublished_at is None


class Signature(models.Model):
    """One supporter's signature. Counted; a name is kept only if they asked to be listed,
    an email only if they asked for updates. No IP address, no phone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="signatures")
    signed_at = models.DateTimeField()
    display_name = RowKeyTextField(key_path="campaign.case.data_key")
    email = RowKeyTextField(key_path="campaign.case.data_key")
    # The language of the page they signed on: their updates come in it.
    language = models.CharField(max_length=8, default="en")
    # Where their updates go (vigil.channels); released when they stop or the case is shredded.
    email_endpoint = models.ForeignKey(
        "channels.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class CampaignUpdate(models.Model):
    """News the legal team posts on the campaign page and emails to the supporters who asked
    for updates. Public text, sealed with the case key like the rest of the campaign."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="updates")
    posted_at = models.DateTimeField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = RowKeyTextField(key_path="campaign.case.data_key")
    # How many supporters it was emailed to.
    emailed = models.PositiveIntegerField(default=0)
