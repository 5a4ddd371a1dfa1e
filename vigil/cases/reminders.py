"""Hearing and deadline reminders by SMS/email, to the family and the case's assigned staff.

`send_due_reminders(now)` runs every 60 s from the scheduler (registered in CasesConfig).
settings.CASE_REMINDER_DAYS lists the leads, largest first (e.g. [7, 1]: a week before and
the day before). An item's `reminders_sent` counts the leads already handled. When one or
more new leads have passed, ONE reminder goes out (no catch-up spam) and `reminders_sent`
jumps to the number of leads passed. The jump is a conditional UPDATE (… WHERE
reminders_sent = <what we read> AND at = <what we read>) inside the durable transaction that
writes the messages, so two workers, or a tick racing a reschedule, send it once.

Who gets it: each FamilyContact with `reminders` on (their SMS and/or email endpoint, in their
language) and each assigned user (a volunteer on the roster through their Responder's
endpoint; anyone else by email, if they have one). Closed and shredded cases get nothing.

The text carries NO personal data: the case's number (C-0042), what is due and when, in the
network's time zone. Never a name, an A-number, a court address or a note. Plain ASCII so it
stays one GSM-7 segment.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, pgettext

from vigil.cases.models import (
    Case,
    CaseAssignment,
    CaseStatus,
    Deadline,
    DeadlineKind,
    FamilyContact,
    Hearing,
    HearingKind,
)
from vigil.channels import outbox
from vigil.channels.models import Endpoint, Purpose
from vigil.core.audit import audit
from vigil.intake.sms import ascii_only
from vigil.responders.models import Responder, ResponderStatus

log = logging.getLogger("vigil.cases.reminders")

LANGUAGES = ("en", "es")
DAY = timedelta(days=1)

HEARING_TEXT = gettext_noop(
    "{network} reminder: {what} for case {case} on {date} at {time}. Questions? Call your legal team."
)
DEADLINE_TEXT = gettext_noop(
    "{network} reminder: {what} for case {case} is due {date} at {time}. Questions? Call your legal team."
)
SUBJECT = gettext_noop("{network} reminder for case {case}")
HEARING_WHAT: dict[str, str] = {
    HearingKind.MASTER: gettext_noop("court hearing"),
    HearingKind.INDIVIDUAL: gettext_noop("final court hearing"),
    HearingKind.BOND: gettext_noop("bond hearing"),
    HearingKind.CREDIBLE_FEAR: gettext_noop("credible fear review"),
    HearingKind.OTHER: gettext_noop("hearing"),
}
DEADLINE_WHAT: dict[str, str] = {
    DeadlineKind.STAY: gettext_noop("emergency stay deadline"),
    DeadlineKind.APPEAL: gettext_noop("appeal deadline"),
    DeadlineKind.FILING: gettext_noop("filing deadline"),
    DeadlineKind.OTHER: gettext_noop("deadline"),
}


def weekday(number: int) -> str:
    """A short weekday for a text message (0 is Monday), translated without accents."""
    return (
        pgettext("sms weekday", "Mon"),
        pgettext("sms weekday", "Tue"),
        pgettext("sms weekday", "Wed"),
        pgettext("sms weekday", "Thu"),
        pgettext("sms weekday", "Fri"),
        pgettext("sms weekday", "Sat"),
        pgettext("sms weekday", "Sun"),
    )[number]


def leads() -> list[int]:
    return sorted({int(d) for d in settings.CASE_REMINDER_DAYS}, reverse=True)


def leads_passed(at: datetime, now: datetime) -> int:
    """How many leads have passed at `now` for something at `at` (largest leads pass first)."""
    return sum(1 for lead in leads() if now >= at - lead * DAY)


def _when(at: datetime) -> dict[str, str]:
    local = timezone.localtime(at)
    hour12 = local.hour % 12 or 12
    return {
        "date": pgettext("sms date: weekday month/day", "{weekday} {month}/{day}").format(
            weekday=weekday(local.weekday()), month=local.month, day=local.day
        ),
        "time": pgettext("sms time", "{hour12}:{minute} {ampm}").format(
            hour12=hour12,
            hour24=local.hour,
            minute=f"{local.minute:02d}",
            ampm="AM" if local.hour < 12 else "PM",
        ),
    }


def reminder_text(item: Hearing | Deadline, case: Case, language: str) -> str:
    """The reminder in one language: the case number, what and when. Nothing personal."""
    with translation.override(language):
        if isinstance(item, Hearing):
            template, what, at = HEARING_TEXT, HEARING_WHAT.get(item.kind, HEARING_WHAT["other"]), item.at
        else:
            template, what, at = DEADLINE_TEXT, DEADLINE_WHAT.get(item.kind, DEADLINE_WHAT["other"]), item.due_at
        text = gettext(template).format(network=settings.NETWORK_NAME, what=gettext(what), case=case.label, **_when(at))
    return ascii_only(text)


def subject_text(case: Case, language: str) -> str:
    with translation.override(language):
        return ascii_only(gettext(SUBJECT).format(network=settings.NETWORK_NAME, case=case.label))


def _language(code: str, default: str) -> str:
    return code if code in LANGUAGES else default


def recipients(case: Case) -> list[tuple[str, Endpoint]]:
    """(language, endpoint) of everyone to remind, each endpoint once."""
    found: list[tuple[str, Endpoint]] = []
    contacts = FamilyContact.objects.filter(case_id=case.pk, reminders=True).select_related(
        "sms_endpoint", "email_endpoint"
    )
    for contact in contacts:
        language = _language(contact.language, "es")
        for endpoint in (contact.sms_endpoint, contact.email_endpoint):
            if endpoint is not None:
                found.append((language, endpoint))
    assignments = list(
        CaseAssignment.objects.filter(case_id=case.pk, user__is_active=True).select_related("user").order_by("added_at")
    )
    user_ids = [a.user_id for a in assignments]
    on_roster = {
        r.user_id: r
        for r in Responder.objects.filter(
            user_id__in=user_ids,
            chapter_id=case.chapter_id,
            status=ResponderStatus.APPROVED,
            endpoint__isnull=False,
        ).select_related("endpoint")
    }
    for assignment in assignments:
        user = assignment.user
        responder = on_roster.get(user.pk)
        if responder is not None and responder.endpoint is not None:
            found.append((_language(responder.language, "en"), responder.endpoint))
            continue
        if (user.email or "").strip():
            endpoint = outbox.email_endpoint(case.chapter_id, user.email)
            found.append((_language(user.preferred_language, "en"), endpoint))
    unique: dict[Any, tuple[str, Endpoint]] = {}
    for language, endpoint in found:
        if endpoint.disabled_at is None:
            unique.setdefault(endpoint.pk, (language, endpoint))
    return list(unique.values())


def _write(item: Hearing | Deadline, case: Case, now: datetime, valid_until: datetime) -> int:
    """One message per language (its own subject) and one delivery per endpoint."""
    by_language: dict[str, list[tuple[str, Endpoint]]] = defaultdict(list)
    for language, endpoint in recipients(case):
        by_language[language].append((language, endpoint))
    written = 0
    for language, group in sorted(by_language.items()):
        outbox.queue(
            chapter_id=case.chapter_id,
            purpose=Purpose.REMINDER,
            recipients=group,
            text_for=lambda lang: reminder_text(item, case, lang),
            now=now,
            valid_until=valid_until,
            subject=subject_text(case, language),
        )
        written += len(group)
    return written


def _send(model: type[Hearing] | type[Deadline], pk: uuid.UUID, at: datetime, sent: int, now: datetime) -> int | None:
    """Claim and write one reminder; None when another worker (or a reschedule) got there first."""
    passed = leads_passed(at, now)
    with transaction.atomic(durable=True):
        claimed: QuerySet[Any]
        if model is Hearing:
            claimed = Hearing.objects.filter(pk=pk, at=at, at__gt=now)
        else:
            claimed = Deadline.objects.filter(pk=pk, due_at=at, due_at__gt=now, done_at__isnull=True)
        # Only the row's own columns in the claim: PostgreSQL re-checks those against the
        # committed row when a concurrent claim held the lock (a join would be answered from
        # the old snapshot, and both workers would win).
        if not claimed.filter(reminders_sent=sent).update(reminders_sent=passed):
            return None
        item: Hearing | Deadline = model.objects.select_related("case__chapter", "case__data_key").get(pk=pk)
        case = item.case
        if case.status != CaseStatus.OPEN:
            # Closed since we looked: nothing goes out and the count stays as it was.
            transaction.set_rollback(True)
            return None
        written = _write(item, case, now, valid_until=at)
        audit("system", "case.reminder", item, chapter=case.chapter)
    return written


def _due(rows: Iterable[tuple[uuid.UUID, datetime, int]], now: datetime) -> list[tuple[uuid.UUID, datetime, int]]:
    return [(pk, at, sent) for pk, at, sent in rows if leads_passed(at, now) > sent]


def send_due_reminders(now: datetime) -> int:
    """Write every hearing and deadline reminder due at `now`; the number of deliveries."""
    all_leads = leads()
    if not all_leads:
        return 0
    horizon = now + all_leads[0] * DAY
    hearings = Hearing.objects.filter(
        at__gt=now, at__lte=horizon, reminders_sent__lt=len(all_leads), case__status=CaseStatus.OPEN
    ).values_list("pk", "at", "reminders_sent")
    deadlines = Deadline.objects.filter(
        due_at__gt=now,
        due_at__lte=horizon,
        done_at__isnull=True,
        reminders_sent__lt=len(all_leads),
        case__status=CaseStatus.OPEN,
    ).values_list("pk", "due_at", "reminders_sent")
    total = 0
    for pk, at, sent in _due(hearings, now):
        total += _send(Hearing, pk, at, sent, now) or 0
    for pk, at, sent in _due(deadlines, now):
        total += _send(Deadline, pk, at, sent, now) or 0
    if total:
        log.info("case reminders: %d deliveries written", total)
    return total
