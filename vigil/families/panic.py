"""The panic keyword: DETAINED <code> / DETENIDO <code>, or a dispatcher acting on a call.

A panic sends every emergency contact of the plan the message the family wrote for them, in
the contact's language (sealed at rest: `Message.sealed_body`, never `body`), opens a case
for the legal team pre-filled from the plan (person, contacts, children, attorney, documents,
medical needs) and from then on lets the legal team read the plan.

Who may fire it. The code is the secret, not the phone: the sender's phone decides only how
the panic is recorded (`PanicVia`):
- the member's own phone (its blind index equals the plan's) -> MEMBER;
- a trusted contact's phone -> CONTACT;
- any other phone -> OTHER_PHONE, and it still fires. A detained person is often allowed one
  call or text from a borrowed or detention-centre phone; refusing an unknown phone would fail
  exactly the person the plan is for. Guessing is what the code's six digits and the rate
  limit are for.

Guessing. A wrong code gets the SAME reply as a right one ("Received. If the code matches a
plan, the contacts are being told now.") and is counted per sending phone
(`ratelimit`, purpose "plan-code", PLAN_ATTEMPTS_PER_HOUR per hour). The bucket is checked
before the code is looked up: once it is spent, even a right code is refused with the same
reply and nothing is sent. Only wrong codes are counted. The dispatcher page counts per user.

Repeats. A second panic for the same plan within 12 hours neither resends nor opens a second
case: the answer is the same and the first case stands.

Nothing here logs a code, a phone or any plan content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext, gettext_noop, override

from vigil.cases.actions import PersonInput, assign, store_case, store_child, store_family_contact
from vigil.cases.models import Case, OpenedFrom
from vigil.channels import outbox
from vigil.channels.models import ChannelKind, Purpose
from vigil.core.audit import audit
from vigil.core.fields import LockedValue
from vigil.families.models import PanicEvent, PanicVia, Plan, PlanContact
from vigil.families.plans import LANGUAGES

log = logging.getLogger("vigil.families.panic")

REPEAT_WINDOW = timedelta(hours=12)
VALID_FOR = timedelta(hours=24)
SMS_ACTOR = "sms:panic"

RECEIVED = gettext_noop("Received. If the code matches a plan, the contacts are being told now.")
USAGE = gettext_noop("To use your family plan, text DETAINED and the 6-digit plan code, for example: DETAINED 482193")
HEADER = gettext_noop("Emergency message from your family plan:")
REPLIES = (RECEIVED, USAGE, HEADER)


@dataclass(frozen=True)
class PanicResult:
    event: PanicEvent
    # False when a panic for the plan fired within REPEAT_WINDOW (nothing new was done).
    fired: bool
    case: Case | None


def contact_text(contact: PlanContact) -> str:
    """What the contact receives: the network's name, a line in their language, the family's words."""
    language = contact.language if contact.language in LANGUAGES else "es"
    with override(language):
        header = gettext(HEADER)
    return f"{settings.NETWORK_NAME}: {header}\n{_readable(contact.message)}"


def via_for_phone(plan: Plan, index: str) -> str:
    if plan.phone_index and index == plan.phone_index:
        return PanicVia.MEMBER
    if plan.contacts.filter(phone_index=index, trusted=True).exists():
        return PanicVia.CONTACT
    return PanicVia.OTHER_PHONE


def _readable(value: Any) -> str:
    return "" if value is None or isinstance(value, LockedValue) else str(value)


def _summary(plan: Plan, via: str, now: datetime) -> str:
    lines = [
        f"Opened by the family plan's panic ({PanicVia(via).label}) at {now:%Y-%m-%d %H:%M} UTC.",
        f"Family plan made on {plan.created_at:%Y-%m-%d}.",
    ]
    for label, value in (
        ("Children pickup", plan.children_pickup),
        ("School", plan.school),
        ("Documents", plan.documents),
        ("Attorney", plan.attorney),
        ("Medical needs", plan.medical),
        ("Notes", plan.notes),
    ):
        text = _readable(value)
        if text:
            lines.append(f"{label}: {text}")
    return "\n".join(lines)


def _send(plan: Plan, contacts: list[PlanContact], now: datetime) -> int:
    sent = 0
    for contact in contacts:
        phone = _readable(contact.phone)
        if not phone or not contact.phone_index:
            continue
        endpoint = outbox.endpoint_for(plan.chapter_id, ChannelKind.SMS, phone, contact.phone_index)
        text = contact_text(contact)
        # One call per contact: each has their own text (queue makes one Message per language).
        outbox.queue(
            chapter_id=plan.chapter_id,
            purpose=Purpose.PANIC,
            recipients=[(contact.language, endpoint)],
            text_for=lambda _language, text=text: text,  # type: ignore[misc]
            now=now,
            valid_until=now + VALID_FOR,
            urgent=True,
            sealed=True,
        )
        sent += 1
    return sent


def _open_case(plan: Plan, contacts: list[PlanContact], via: str, now: datetime, actor: Any) -> Case:
    case = store_case(
        chapter_id=plan.chapter_id,
        opened_from=OpenedFrom.PANIC,
        person=PersonInput(
            name=_readable(plan.name), phone=_readable(plan.phone), summary=_summary(plan, via, now), taken_at=now
        ),
        now=now,
        actor=actor,
    )
    attorney = _readable(plan.attorney)
    if attorney:
        case.attorney = attorney[:200]
        case.save(update_fields=["attorney"])
    for contact in contacts:
        store_family_contact(
            case,
            name=_readable(contact.name),
            relationship="Emergency contact (family plan)",
            phone=_readable(contact.phone),
            language=contact.language,
            reminders=True,
            actor=actor,
        )
    pickup, school = _readable(plan.children_pickup), _readable(plan.school)
    if pickup or school:
        store_child(case, name="Children (family plan)", school=school, caregiver=pickup, actor=actor)
    return case


def store_panic(plan: Plan, via: str, now: datetime, actor: Any) -> PanicResult:
    """Fire the plan's panic in the caller's transaction (the SMS webhook's, or the durable
    wrapper's). `actor` is the staff user or a label such as "sms:panic"."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_panic runs in the caller's transaction")
    locked = Plan.objects.select_for_update(of=("self",)).select_related("data_key").get(pk=plan.pk)
    recent = PanicEvent.objects.filter(plan=locked, at__gt=now - REPEAT_WINDOW).order_by("-at").first()
    if recent is not None:
        return PanicResult(event=recent, fired=False, case=None)
    contacts = list(locked.contacts.all())
    for contact in contacts:
        contact.plan = locked  # the contacts' fields open with the plan's key
    sent = _send(locked, contacts, now)
    case = _open_case(locked, contacts, via, now, actor)
    user = actor if getattr(actor, "is_authenticated", False) else None
    event = PanicEvent.objects.create(plan=locked, at=now, via=via, actor=user, case=case, messages=sent)
    locked.last_panic_at = now
    locked.save(update_fields=["last_panic_at"])
    audit(actor, "plan.panic", locked)
    log.info("panic fired via %s: %s contact message(s) queued", via, sent)
    return PanicResult(event=event, fired=True, case=case)


@transaction.atomic(durable=True)
def panic_by_dispatcher(plan_id: Any, user: Any, now: datetime) -> PanicResult | None:
    """A dispatcher (or legal) acting on a call. The caller is assigned to the new case when
    they belong to the plan's chapter and are not legal (who see every case of their chapter)."""
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        return None
    result = store_panic(plan, PanicVia.DISPATCHER, now, user)
    if result.case is not None and getattr(user, "role", None) != "legal":
        if plan.chapter_id in set(user.chapter_ids()):
            assign(result.case, user, now=now, acting_user=user)
    return result
