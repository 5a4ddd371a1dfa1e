"""Making, finding, changing and deleting family preparedness plans.

`store_*` functions run in the caller's transaction (the guided SMS plan runs inside the SMS
webhook's); the others are durable wrappers for the web pages. Every write is audited in the
same transaction with actor "public:plan" (or the staff user) and no personal data.

The plan code is six digits, unique across the network (one SMS number serves every chapter),
and stored only as a keyed blind index; the PIN only as a Django password hash. Neither is
ever logged.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, override

from vigil.channels import outbox
from vigil.channels.models import ChannelKind, Endpoint
from vigil.core import geo, ratelimit
from vigil.core.audit import audit
from vigil.core.crypto import blind_index, rate_key
from vigil.core.models import AuditEvent, Chapter, RateBucket, Zone
from vigil.core.phones import InvalidPhone, normalize_phone, phone_index
from vigil.core.rowkeys import new_data_key, shred
from vigil.families.models import Plan, PlanContact, RetiredPlanCode

ACTOR = "public:plan"
GUESSING = "plan.guessing"
security_log = logging.getLogger("vigil.security")
LANGUAGES = ("en", "es")
CODE_DIGITS = 6
MAX_CONTACTS = 5
# Free-text limits (characters).
SHORT = 200
MESSAGE = 300
LONG = 1000
HOUR = timedelta(hours=1)

DEFAULT_MESSAGE = gettext_noop(
    "I have been detained by immigration. Please follow our family plan: pick up the children "
    "and call the rapid response hotline."
)

_PIN = re.compile(r"\d{4,8}")
_CODE = re.compile(r"\d{6}")


class PlanError(ValueError):
    """Input we refuse; the text is safe to show (it never quotes the input)."""


@dataclass
class ContactInput:
    name: str
    phone: str
    language: str = "es"
    message: str = ""
    trusted: bool = True


@dataclass
class PlanInput:
    contacts: list[ContactInput]
    name: str = ""
    phone: str = ""
    zip_code: str = ""
    children_pickup: str = ""
    school: str = ""
    documents: str = ""
    attorney: str = ""
    medical: str = ""
    notes: str = ""
    language: str = "es"
    consent: bool = False


def default_message(language: str) -> str:
    with override(language if language in LANGUAGES else "es"):
        return gettext(DEFAULT_MESSAGE)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def code_index(code: str) -> str:
    return blind_index(digits(code), purpose="plan-code")


def valid_pin(pin: str) -> bool:
    return bool(_PIN.fullmatch(pin or ""))


def new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def attempts_spent(value: str, *, purpose: str, limit: int, window: timedelta = HOUR) -> bool:
    """Whether `value` already used its `limit` counted attempts in the current window of
    core.ratelimit.hit (same key and window): checked BEFORE looking anything up, so that once
    over the limit even a right code or PIN is refused without being checked."""
    key = rate_key(value, purpose=purpose)
    seconds = int(window.total_seconds())
    start = datetime.fromtimestamp(int(timezone.now().timestamp()) // seconds * seconds, tz=UTC)
    return RateBucket.objects.filter(key=key, window_start=start, count__gte=limit).exists()


def count_failure(value: str, *, purpose: str) -> None:
    """Count one wrong code or PIN against `value` (an IP, a phone, a user id), and against the
    whole network: someone with many phones gets PLAN_ATTEMPTS_PER_HOUR tries on each, so more
    than PLAN_GUESS_ALERT wrong tries in an hour across the network is flagged (security log
    and a `plan.guessing` audit row, once an hour) for the admins. Panics are never blocked:
    a family's real one must get through during an attack."""
    ratelimit.hit(value, purpose=purpose, limit=settings.PLAN_ATTEMPTS_PER_HOUR, window=HOUR)
    if ratelimit.hit("network", purpose="plan-guess", limit=settings.PLAN_GUESS_ALERT, window=HOUR):
        return
    with transaction.atomic():
        if AuditEvent.objects.filter(action=GUESSING, at__gte=timezone.now() - HOUR).exists():
            return
        security_log.warning(
            "plan codes or PINs are being guessed: over %s wrong tries in an hour", settings.PLAN_GUESS_ALERT
        )
        audit(ACTOR, GUESSING, object_type="families.plan", object_id="network")


def chapter_for_zip(zip_code: str) -> Chapter:
    """The chapter whose zone covers the ZIP code; else the first chapter of the network."""
    code = (zip_code or "").strip()[:5]
    if code.isdigit() and len(code) == 5:
        zones = list(Zone.objects.select_related("chapter").order_by("chapter__name", "name"))
        zone = geo.zone_for_zip(code, zones)
        if zone is not None:
            return zone.chapter
    chapter = Chapter.objects.order_by("pk").first()
    if chapter is None:
        raise PlanError(gettext("Plans cannot be made yet: the network has no chapter."))
    return chapter


def _clip(value: str, limit: int = SHORT) -> str:
    return (value or "").strip()[:limit]


def _language(value: str) -> str:
    return value if value in LANGUAGES else "es"


def _member_phone(text: str) -> tuple[str, str]:
    if not (text or "").strip():
        return "", ""
    try:
        e164 = normalize_phone(text)
    except InvalidPhone:
        raise PlanError(gettext("Your phone number does not look right.")) from None
    return e164, phone_index(e164)


def _clean_contacts(contacts: list[ContactInput]) -> list[tuple[ContactInput, str, str]]:
    if not contacts:
        raise PlanError(gettext("Add at least one emergency contact."))
    if len(contacts) > MAX_CONTACTS:
        raise PlanError(gettext("A plan has at most 5 emergency contacts."))
    cleaned = []
    for contact in contacts:
        if not contact.name.strip():
            raise PlanError(gettext("Each emergency contact needs a name."))
        try:
            e164 = normalize_phone(contact.phone)
        except InvalidPhone:
            raise PlanError(gettext("An emergency contact's phone number does not look right.")) from None
        if len(contact.message.strip()) > MESSAGE:
            raise PlanError(gettext("A message for a contact can be at most 300 characters."))
        cleaned.append((contact, e164, phone_index(e164)))
    return cleaned


def _apply(plan: Plan, data: PlanInput) -> None:
    plan.name = _clip(data.name)
    plan.children_pickup = _clip(data.children_pickup, LONG)
    plan.school = _clip(data.school)
    plan.documents = _clip(data.documents, LONG)
    plan.attorney = _clip(data.attorney)
    plan.medical = _clip(data.medical, LONG)
    plan.notes = _clip(data.notes, LONG)
    plan.language = _language(data.language)


def _store_contacts(plan: Plan, contacts: list[tuple[ContactInput, str, str]]) -> None:
    for position, (contact, e164, index) in enumerate(contacts):
        row = PlanContact(plan=plan, position=position, phone_index=index, language=_language(contact.language))
        row.name = _clip(contact.name)
        row.phone = e164
        message = _clip(contact.message, MESSAGE)
        if not message or message in {default_message(language) for language in LANGUAGES}:
            # Left as offered: the standard text in the contact's own language.
            message = default_message(row.language)
        row.message = message
        row.trusted = contact.trusted
        row.save(force_insert=True)


def store_plan(data: PlanInput, *, now: datetime, pin: str = "", actor: Any = ACTOR) -> tuple[Plan, str, str]:
    """A new plan in the caller's transaction: (plan, code, pin). A blank PIN is chosen for
    the member. PlanError for bad input (nothing is stored)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_plan writes in the caller's transaction")
    pin = pin.strip()
    if pin and not valid_pin(pin):
        raise PlanError(gettext("The PIN must be 4 to 8 digits."))
    contacts = _clean_contacts(data.contacts)
    phone, index = _member_phone(data.phone)
    chapter = chapter_for_zip(data.zip_code)
    pin = pin or new_pin()
    plan = Plan(
        chapter=chapter,
        data_key=new_data_key("plan"),
        pin_hash=make_password(pin),
        phone_index=index,
        created_at=now,
        updated_at=now,
        consent_at=now if data.consent else None,
    )
    _apply(plan, data)
    plan.phone = phone
    for _attempt in range(20):
        code = _new_code()
        plan.code_index = code_index(code)
        taken = Plan.objects.filter(code_index=plan.code_index).exists()
        if taken or RetiredPlanCode.objects.filter(code_index=plan.code_index).exists():
            continue
        try:
            with transaction.atomic():
                plan.save(force_insert=True)
            break
        except IntegrityError:
            continue  # another plan took the code first
    else:
        raise IntegrityError("could not find a free plan code")
    _store_contacts(plan, contacts)
    audit(actor, "plan.create", plan)
    if data.consent:
        audit(actor, "plan.consent", plan)
    return plan, code, pin


@transaction.atomic(durable=True)
def create_plan(data: PlanInput, *, now: datetime, pin: str = "") -> tuple[Plan, str, str]:
    return store_plan(data, now=now, pin=pin)


def plan_for_code(code: str, *, for_update: bool = False) -> Plan | None:
    found = digits(code)
    if not _CODE.fullmatch(found):
        return None
    plans = Plan.objects.select_related("data_key", "chapter").filter(code_index=code_index(found))
    if for_update:
        plans = plans.select_for_update(of=("self",))
    return plans.first()


def open_plan(code: str, pin: str) -> Plan | None:
    """The plan if both the code and the PIN are right, else None (whichever was wrong). The
    password hasher runs either way, so timing does not tell a right code from a wrong one."""
    plan = plan_for_code(code)
    if plan is None:
        make_password(pin or "0000")
        return None
    return plan if check_password(pin or "", plan.pin_hash) else None


def locked_plan(plan_id: Any) -> Plan | None:
    return Plan.objects.select_for_update(of=("self",)).select_related("data_key").filter(pk=plan_id).first()


@transaction.atomic(durable=True)
def update_plan(plan_id: Any, data: PlanInput, *, now: datetime) -> Plan | None:
    """Replace the plan's answers and contacts. None if the plan is gone."""
    plan = locked_plan(plan_id)
    if plan is None:
        return None
    contacts = _clean_contacts(data.contacts)
    phone, index = _member_phone(data.phone)
    _apply(plan, data)
    plan.phone = phone
    plan.phone_index = index
    plan.updated_at = now
    plan.save()
    plan.contacts.all().delete()
    _store_contacts(plan, contacts)
    audit(ACTOR, "plan.update", plan)
    return plan


@transaction.atomic(durable=True)
def change_pin(plan_id: Any, pin: str, *, now: datetime) -> bool:
    if not valid_pin(pin):
        raise PlanError(gettext("The PIN must be 4 to 8 digits."))
    plan = locked_plan(plan_id)
    if plan is None:
        return False
    plan.pin_hash = make_password(pin)
    plan.updated_at = now
    plan.save(update_fields=["pin_hash", "updated_at"])
    audit(ACTOR, "plan.pin_change", plan)
    return True


@transaction.atomic(durable=True)
def set_consent(plan_id: Any, consent: bool, *, now: datetime) -> bool:
    plan = locked_plan(plan_id)
    if plan is None:
        return False
    plan.consent_at = now if consent else None
    plan.updated_at = now
    plan.save(update_fields=["consent_at", "updated_at"])
    audit(ACTOR, "plan.consent" if consent else "plan.consent_withdrawn", plan)
    return True


@transaction.atomic(durable=True)
def delete_plan(plan_id: Any, *, now: datetime) -> bool:
    """Crypto-shred the plan (destroy its data key), then delete its rows, and the endpoints a
    panic made for its contacts unless something else uses them. A case already opened by a
    panic is the legal team's and stays (its family contacts keep their endpoints)."""
    plan = locked_plan(plan_id)
    if plan is None:
        return False
    audit(ACTOR, "plan.delete", plan)
    data_key_id = plan.data_key_id
    indexes = [index for index in plan.contacts.values_list("phone_index", flat=True) if index]
    endpoints = Endpoint.objects.filter(chapter_id=plan.chapter_id, channel=ChannelKind.SMS, address_index__in=indexes)
    endpoint_ids = list(endpoints.values_list("pk", flat=True))
    RetiredPlanCode.objects.get_or_create(code_index=plan.code_index, defaults={"retired_at": now})
    plan.delete()
    if data_key_id is not None:
        shred(data_key_id)
    outbox.release_endpoints(endpoint_ids)
    return True
