"""Hearing and deadline reminders on a controlled clock: each lead once, to the family and the
assigned, in their language, with no personal data in the text."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from vigil.accounts.models import User
from vigil.cases import reminders
from vigil.cases.actions import PersonInput, assign, open_case, store_family_contact
from vigil.cases.models import Case, CaseStatus, Deadline, DeadlineKind, FamilyContact, Hearing, HearingKind
from vigil.channels.models import Delivery, Endpoint, Message, Purpose
from vigil.core import schedule
from vigil.core.models import AuditEvent, Chapter
from vigil.intake import sms

CHICAGO = ZoneInfo("America/Chicago")
# Thursday 5 December 2030, 9:00 AM in Chicago.
AT = datetime(2030, 12, 5, 9, 0, tzinfo=CHICAGO)

CANARIES = (
    "Rosa Canary-Reminder",
    "111222333",
    "111-222-333",
    "Tia Canary",
    "Tio Canary",
    "5550177",
    "3125550177",
    "tia.canary@example.org",
    "dana.canary@example.org",
    "Canary Court",
    "55 W Secret",
    "Secret filing note",
)


@pytest.fixture(autouse=True)
def two_leads(settings: object) -> None:
    settings.CASE_REMINDER_DAYS = [7, 1]  # type: ignore[attr-defined]
    settings.TIME_ZONE = "America/Chicago"  # type: ignore[attr-defined]


@pytest.fixture
def case(chapter: Chapter, legal_coordinator: User, dispatcher: User, volunteer: User) -> Case:
    case = open_case(
        chapter_id=chapter.pk,
        opened_from="hotline",
        person=PersonInput(name="Rosa Canary-Reminder", a_number="A-111-222-333", phone="+1 312 555 0188"),
        now=timezone.now(),
        actor=legal_coordinator,
    )
    store_family_contact(
        case, name="Tia Canary", phone="(312) 555-0177", language="es", reminders=True, actor=legal_coordinator
    )
    store_family_contact(
        case, name="Tio Canary", email="Tia.Canary@example.org", language="en", reminders=True, actor=legal_coordinator
    )
    store_family_contact(
        case, name="Primo Canary", phone="(312) 555-0166", language="es", reminders=False, actor=legal_coordinator
    )
    dispatcher.email = "dana.canary@example.org"
    dispatcher.save()
    assign(case, dispatcher, now=timezone.now(), acting_user=legal_coordinator)
    assign(case, volunteer, now=timezone.now(), acting_user=legal_coordinator)
    return case


@pytest.fixture
def hearing(case: Case) -> Hearing:
    hearing = Hearing(case=case, court="Canary Court, 55 W Secret St", at=AT, kind=HearingKind.MASTER)
    hearing.outcome = ""
    hearing.save()
    return hearing


def bodies() -> list[str]:
    return [f"{m.subject}\n{m.body}" for m in Message.objects.all()]


def language_of(endpoint: Endpoint | None) -> str:
    assert endpoint is not None
    return Delivery.objects.select_related("message").get(endpoint=endpoint).message.language


def test_a_hearing_is_reminded_a_week_before_and_the_day_before_once_each(
    hearing: Hearing, case: Case, volunteer: User
) -> None:
    assert reminders.send_due_reminders(AT - timedelta(days=8)) == 0
    assert not Message.objects.exists()

    written = reminders.send_due_reminders(AT - timedelta(days=6))

    # The Spanish aunt by SMS, the English uncle by email, the volunteer on the roster by
    # their SMS endpoint, the dispatcher by email. Not the cousin who said no.
    assert written == 4
    spanish, english = (
        FamilyContact.objects.get(language="es", reminders=True),
        FamilyContact.objects.get(language="en"),
    )
    assert language_of(spanish.sms_endpoint) == "es"
    assert language_of(english.email_endpoint) == "en"
    assert language_of(volunteer.responder.endpoint) == "en"
    assert Delivery.objects.filter(endpoint__channel="email").count() == 2
    assert not Delivery.objects.filter(endpoint=FamilyContact.objects.get(reminders=False).sms_endpoint).exists()
    assert {m.purpose for m in Message.objects.all()} == {Purpose.REMINDER}
    assert {m.valid_until for m in Message.objects.all()} == {AT}
    english_text = Message.objects.get(language="en").body
    assert english_text == (
        "Vigil reminder: court hearing for case C-0001 on Thu 12/5 at 9:00 AM. Questions? Call your legal team."
    )
    assert Hearing.objects.get(pk=hearing.pk).reminders_sent == 1
    assert AuditEvent.objects.filter(action="case.reminder").count() == 1

    assert reminders.send_due_reminders(AT - timedelta(days=6)) == 0
    assert reminders.send_due_reminders(AT - timedelta(days=5)) == 0
    assert Delivery.objects.count() == 4

    assert reminders.send_due_reminders(AT - timedelta(hours=12)) == 4
    assert Hearing.objects.get(pk=hearing.pk).reminders_sent == 2
    assert reminders.send_due_reminders(AT - timedelta(hours=1)) == 0
    assert reminders.send_due_reminders(AT + timedelta(hours=1)) == 0
    assert Delivery.objects.count() == 8
    assert AuditEvent.objects.filter(action="case.reminder").count() == 2


def test_the_text_carries_no_personal_data_and_fits_one_ascii_segment(hearing: Hearing, case: Case) -> None:
    Deadline.objects.create(case=case, kind=DeadlineKind.STAY, due_at=AT + timedelta(hours=3))
    deadline = Deadline.objects.get(case=case)
    deadline.note = "Secret filing note"
    deadline.save()
    reminders.send_due_reminders(AT - timedelta(days=6))
    texts = bodies()
    assert len(texts) == 4  # en + es, for the hearing and for the deadline
    for text in texts:
        for canary in CANARIES:
            assert canary.lower() not in text.lower(), canary
    for message in Message.objects.all():
        assert message.body.isascii()
        assert len(message.body) <= 160
        assert "C-0001" in message.body


def test_the_spanish_text_is_the_spanish_catalogs(hearing: Hearing, case: Case) -> None:
    from django.utils import translation

    reminders.send_due_reminders(AT - timedelta(days=6))
    with translation.override("es"):
        expected = sms.ascii_only(
            translation.gettext(reminders.HEARING_TEXT).format(
                network=settings.NETWORK_NAME,
                what=translation.gettext("court hearing"),
                case="C-0001",
                **reminders._when(AT),
            )
        )
    assert Message.objects.get(language="es").body == expected


def test_when_both_leads_passed_it_sends_once_not_twice(case: Case) -> None:
    Hearing.objects.create(case=case, court="Court", at=AT, kind=HearingKind.BOND)
    assert reminders.send_due_reminders(AT - timedelta(hours=12)) == 4
    assert Hearing.objects.get(case=case).reminders_sent == 2
    assert reminders.send_due_reminders(AT - timedelta(hours=6)) == 0
    assert Message.objects.count() == 2  # one per language, once


def test_a_rescheduled_hearing_is_reminded_again(hearing: Hearing) -> None:
    reminders.send_due_reminders(AT - timedelta(hours=12))
    Hearing.objects.filter(pk=hearing.pk).update(at=AT + timedelta(days=14), reminders_sent=0)
    assert reminders.send_due_reminders(AT) == 0
    assert reminders.send_due_reminders(AT + timedelta(days=8)) == 4


def test_a_worker_that_read_the_old_count_sends_nothing(hearing: Hearing) -> None:
    now = AT - timedelta(days=6)
    assert reminders._send(Hearing, hearing.pk, AT, 0, now) == 4
    assert reminders._send(Hearing, hearing.pk, AT, 0, now) is None
    # A reschedule between the read and the claim: the old date claims nothing.
    assert reminders._send(Hearing, hearing.pk, AT - timedelta(days=1), 1, AT - timedelta(hours=30)) is None
    assert Delivery.objects.count() == 4


def test_open_deadlines_are_reminded_and_met_ones_are_not(case: Case) -> None:
    open_one = Deadline.objects.create(case=case, kind=DeadlineKind.APPEAL, due_at=AT)
    Deadline.objects.create(case=case, kind=DeadlineKind.FILING, due_at=AT, done_at=AT - timedelta(days=9))
    assert reminders.send_due_reminders(AT - timedelta(days=6)) == 4
    assert Deadline.objects.get(pk=open_one.pk).reminders_sent == 1
    assert Message.objects.get(language="en").body == (
        "Vigil reminder: appeal deadline for case C-0001 is due Thu 12/5 at 9:00 AM. Questions? Call your legal team."
    )


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.SHREDDED])
def test_closed_and_shredded_cases_get_no_reminders(hearing: Hearing, case: Case, status: str) -> None:
    Case.objects.filter(pk=case.pk).update(status=status)
    assert reminders.send_due_reminders(AT - timedelta(days=6)) == 0
    assert not Message.objects.exists()


def test_an_opted_out_endpoint_and_an_assignee_without_email_get_nothing(
    hearing: Hearing, case: Case, dispatcher: User
) -> None:
    contact = FamilyContact.objects.get(language="es", reminders=True)
    assert contact.sms_endpoint is not None
    Endpoint.objects.filter(pk=contact.sms_endpoint.pk).update(disabled_at=timezone.now())
    dispatcher.email = ""
    dispatcher.save()
    assert reminders.send_due_reminders(AT - timedelta(days=6)) == 2
    assert not Message.objects.filter(language="es").exists()


def test_staff_who_share_an_address_with_the_family_get_it_once(hearing: Hearing, case: Case, dispatcher: User) -> None:
    dispatcher.email = "TIA.canary@example.org"
    dispatcher.save()
    assert reminders.send_due_reminders(AT - timedelta(days=6)) == 3
    assert Delivery.objects.values("endpoint").distinct().count() == 3


def test_spanish_dates_and_times_follow_the_catalog() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert reminders._when(AT) == {"date": "Thu 12/5", "time": "9:00 AM"}
    afternoon = AT.replace(hour=15, minute=30)
    with translation.override("en"):
        assert reminders._when(afternoon)["time"] == "3:30 PM"
    assert sms.ascii_only("miércoles ¿sí?") == "miercoles si?"


def test_the_worker_runs_reminders_every_minute(db: object) -> None:
    assert "cases.reminders" in schedule.registered()
    assert reminders.send_due_reminders(timezone.now()) == 0


def _bare_case(chapter: Chapter, actor: User, contacts: int) -> Case:
    from django.db import transaction

    case = open_case(
        chapter_id=chapter.pk,
        opened_from="hotline",
        person=PersonInput(name="Rosa Canary-Reminder", a_number="A-111-222-333"),
        now=timezone.now(),
        actor=actor,
    )
    with transaction.atomic():
        for n in range(contacts):
            store_family_contact(
                case, name=f"Tia Canary {n}", phone=f"(312) 555-{177 + n:04d}", language="es", actor=actor
            )
    return case


def test_two_workers_at_the_same_moment_send_each_reminder_once(
    transactional_db: object, chapter: Chapter, legal_coordinator: User
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    case = _bare_case(chapter, legal_coordinator, contacts=5)
    for n in range(3):
        Hearing.objects.create(case=case, court="Court", at=AT + timedelta(hours=n), kind=HearingKind.MASTER)
    Deadline.objects.create(case=case, kind=DeadlineKind.STAY, due_at=AT)
    barrier = threading.Barrier(2)

    def worker() -> int:
        try:
            barrier.wait(timeout=30)
            return reminders.send_due_reminders(AT - timedelta(days=6))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: worker(), range(2)))

    assert sum(results) == 5 * 4
    assert Delivery.objects.count() == 5 * 4
    assert Message.objects.count() == 4
    assert AuditEvent.objects.filter(action="case.reminder").count() == 4


def test_the_reminder_reaches_the_familys_phone_in_spanish_words_only_about_the_case(
    transactional_db: object, chapter: Chapter, legal_coordinator: User, fake_twilio: object
) -> None:
    """Through the real sender and SMS transport to the fake provider."""
    import asyncio

    from django.db import connection

    from vigil.channels.sender import Sender
    from vigil.channels.tests.test_ledger_support import real_transports

    case = _bare_case(chapter, legal_coordinator, contacts=1)
    at = timezone.now() + timedelta(days=6)
    Hearing.objects.create(case=case, court="Canary Court, 55 W Secret St", at=at, kind=HearingKind.BOND)
    assert reminders.send_due_reminders(timezone.now()) == 1
    try:
        asyncio.run(Sender(transports=real_transports).run(idle_wait=0.1, until_idle=True))
    finally:
        connection.close()

    sent = fake_twilio.requests()  # type: ignore[attr-defined]
    assert [r["to"] for r in sent] == ["+13125550177"]
    body = sent[0]["body"]
    assert "C-0001" in body
    for canary in CANARIES:
        assert canary.lower() not in body.lower(), canary
