"""The fictional network of `make run`: two Chicago chapters, their zones, staff of every role
and a few reports that cluster into incidents on the board.

Idempotent: a second run finds everything in place and changes nothing (passwords are set
only when an account is created; reports are seeded only into an empty network). Later
seeds (volunteers, subscribers, the sandbox phone) extend this command. Every place is a
real neighbourhood so the map and ZIP lookups work; every word of every report is invented.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import h3
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from vigil.accounts.models import Role, User
from vigil.alerts.actions import approve_all_templates
from vigil.alerts.bulk import add_subscribers, fake_phone
from vigil.alerts.models import Subscriber
from vigil.cases import legal as legal_actions
from vigil.cases.actions import PersonInput, assign, store_case, store_family_contact
from vigil.cases.closing import close_case
from vigil.cases.models import (
    BondStatus,
    Case,
    CaseNote,
    DeadlineKind,
    Facility,
    HearingKind,
    LocatorResult,
    LocatorSource,
    OpenedFrom,
    Outcome,
    Representation,
    Task,
    TaskKind,
)
from vigil.core.audit import audit
from vigil.core.models import Chapter, Zone
from vigil.families import plans
from vigil.families.models import PanicVia, Plan
from vigil.families.panic import store_panic
from vigil.families.plans import ContactInput, PlanInput
from vigil.incidents.models import Incident
from vigil.intake.actions import ReportInput, receive_report
from vigil.intake.models import Agency, Channel, Kind, Report
from vigil.organizing.actions import EventInput, create_event
from vigil.organizing.models import EventKind
from vigil.responders import roster, schedule
from vigil.responders.models import Responder, ResponderRole

SUBSCRIBERS_PER_ZONE = 4
# Five volunteers per zone in 8-hour slots: 33.6 on-call hours a week each, under the default
# 40-hour guardrail. The first of Pilsen's is the demo "volunteer" login, on call when seeded.
VOLUNTEERS_PER_ZONE = 5
VOLUNTEER_SHIFT_HOURS = 8
VOLUNTEER_PHONE = fake_phone(700)
VOLUNTEER_NAMES = (
    "Rosa Delgado",
    "Miguel Ortega",
    "Ana Lucía Flores",
    "Tom Becker",
    "Guadalupe Reyes",
    "José Martínez",
    "Karen Walsh",
    "Luis Herrera",
    "María Soto",
    "Daniel Kim",
    "Teresa Nava",
    "Samuel Ruiz",
    "Patricia Gómez",
    "Eddie Brooks",
    "Carmen Villa",
    "Jorge Medina",
    "Lucy Chen",
)
DEMO_PASSWORD = "vigil-demo-2026"  # noqa: S105 - printed by rundemo; seed_demo refuses outside demo mode
ZONE_RESOLUTION = 8
ZONE_RING = 2


@dataclass(frozen=True)
class DemoZone:
    chapter: str
    name: str
    latitude: float
    longitude: float
    zip_codes: tuple[str, ...]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: str
    chapters: tuple[str, ...]
    description: str


CHAPTERS = {"pilsen": "Pilsen", "little-village": "Little Village"}

ZONES = (
    DemoZone("pilsen", "Pilsen", 41.8575, -87.6600, ("60608",)),
    DemoZone("pilsen", "Back of the Yards", 41.8090, -87.6650, ("60609",)),
    DemoZone("little-village", "Little Village", 41.8445, -87.7115, ("60623",)),
)

STAFF = (
    DemoStaff("admin", Role.ADMIN, ("pilsen", "little-village"), "admin, both chapters"),
    DemoStaff("organizer", Role.ORGANIZER, ("pilsen",), "organizer, Pilsen"),
    DemoStaff("dispatcher", Role.DISPATCHER, ("pilsen",), "dispatcher, Pilsen"),
    DemoStaff("verifier", Role.VERIFIER, ("pilsen",), "verifier / legal observer, Pilsen"),
    DemoStaff("legal", Role.LEGAL, ("pilsen",), "legal coordinator, Pilsen"),
    DemoStaff("regional", Role.DISPATCHER, ("pilsen", "little-village"), "regional dispatcher, both chapters"),
    DemoStaff("lv-dispatcher", Role.DISPATCHER, ("little-village",), "dispatcher, Little Village"),
    DemoStaff(
        "volunteer",
        Role.VOLUNTEER,
        ("pilsen",),
        f"volunteer on call in Pilsen now; their simulated phone is {VOLUNTEER_PHONE}",
    ),
)


@dataclass(frozen=True)
class DemoReport:
    minutes_ago: int
    data: ReportInput
    logged_by: str = ""


# Three reports of one scene in Pilsen (web, text, hotline), two in Little Village, one in
# Back of the Yards: the board shows clustered incidents across channels.
REPORTS = (
    DemoReport(
        24,
        ReportInput(
            channel=Channel.WEB,
            kind=Kind.VEHICLES,
            details="Two grey SUVs without plates parked by the laundromat, men in vests standing outside.",
            address="21st St near Wood St",
            zip_code="60608",
            latitude=41.8520,
            longitude=-87.6690,
            vehicles_count=2,
            agents_count=3,
            source="demo-web-1",
        ),
    ),
    DemoReport(
        17,
        ReportInput(
            channel=Channel.SMS,
            kind=Kind.VEHICLES,
            details="REPORTE dos camionetas grises en la 21 y Wood",
            zip_code="60608",
            language="es",
            agency=Agency.ICE,
            contact_phone="+1 312 555 0142",
            source="+13125550142",
        ),
    ),
    DemoReport(
        9,
        ReportInput(
            channel=Channel.HOTLINE,
            kind=Kind.ARREST,
            details="Caller says agents stopped a man walking to the bus stop; caller watched from the bakery.",
            address="21st St & Wolcott Ave",
            zip_code="60608",
            latitude=41.8513,
            longitude=-87.6740,
            agents_count=4,
            agency=Agency.ICE,
            language="es",
            contact_phone="+1 312 555 0177",
            source="+13125550177",
        ),
        logged_by="dispatcher",
    ),
    DemoReport(
        41,
        ReportInput(
            channel=Channel.WEB,
            kind=Kind.CHECKPOINT,
            details="Cars being stopped one by one on 26th Street, flashing lights, an unmarked van.",
            address="26th St near Kedzie Ave",
            zip_code="60623",
            latitude=41.8446,
            longitude=-87.7054,
            vehicles_count=3,
            agency=Agency.UNKNOWN,
            source="demo-web-2",
        ),
    ),
    DemoReport(
        33,
        ReportInput(
            channel=Channel.SMS,
            kind=Kind.CHECKPOINT,
            details="checkpoint 26th and kedzie still there",
            zip_code="60623",
            contact_phone="+1 773 555 0118",
            source="+17735550118",
        ),
    ),
    DemoReport(
        55,
        ReportInput(
            channel=Channel.HOTLINE,
            kind=Kind.WORKPLACE,
            details="Caller heard from a coworker that agents are at a warehouse gate; not seen directly.",
            address="47th St near Ashland Ave",
            zip_code="60609",
            latitude=41.8085,
            longitude=-87.6645,
            agency=Agency.UNKNOWN,
        ),
        logged_by="dispatcher",
    ),
)


def zone_cells(zone: DemoZone) -> list[str]:
    """The resolution-8 cells around the zone's centre that are nearer to it than to any other
    demo zone's centre, so zones never overlap."""
    centre = h3.latlng_to_cell(zone.latitude, zone.longitude, ZONE_RESOLUTION)
    others = [h3.latlng_to_cell(z.latitude, z.longitude, ZONE_RESOLUTION) for z in ZONES if z != zone]
    return sorted(
        str(cell)
        for cell in h3.grid_disk(centre, ZONE_RING)
        if all(h3.grid_distance(cell, centre) < h3.grid_distance(cell, other) for other in others)
    )


class Command(BaseCommand):
    help = "Create (or leave in place) the fictional demo network. Demo mode only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo creates accounts with a published password: it runs only with VIGIL_DEMO=True."
            )
        chapters = self.seed_network()
        created = self.seed_staff(chapters)
        # Volunteers before reports: the seeded reports page whoever is on call.
        volunteers = self.seed_volunteers(chapters)
        reports = self.seed_reports()
        subscribers = self.seed_subscribers(chapters)
        self.stdout.write(
            f"demo network: {len(chapters)} chapters, {Zone.objects.count()} zones, "
            f"{created} staff created, {volunteers} volunteers, {reports} reports seeded, "
            f"{subscribers} subscribers seeded"
        )
        # Cases and family plans (issue 5): the section at the end of this file.
        seed_cases_and_plans(chapters, self.stdout)

    @transaction.atomic(durable=True)
    def seed_network(self) -> dict[str, Chapter]:
        chapters = {
            slug: Chapter.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in CHAPTERS.items()
        }
        for zone in ZONES:
            Zone.objects.get_or_create(
                chapter=chapters[zone.chapter],
                name=zone.name,
                defaults={"cells": zone_cells(zone), "zip_codes": list(zone.zip_codes)},
            )
        return chapters

    @transaction.atomic(durable=True)
    def seed_staff(self, chapters: dict[str, Chapter]) -> int:
        created = 0
        # One Argon2 hash for every demo account (the password is published anyway): hashing
        # seven times would add seconds to every `make run` on a fresh checkout.
        password = make_password(DEMO_PASSWORD)
        for staff in STAFF:
            if User.objects.filter(username=staff.username).exists():
                continue
            user = User.objects.create(username=staff.username, password=password, role=staff.role)
            user.chapters.set([chapters[slug] for slug in staff.chapters])
            audit("seed_demo", "staff.create", user)
            created += 1
        return created

    @transaction.atomic(durable=True)
    def seed_subscribers(self, chapters: dict[str, Chapter]) -> int:
        """Sandbox phones subscribed to every zone, in English and Spanish (numbers in the
        fictional 555 range; in demo mode every message lands in the /sandbox/ inbox)."""
        if Subscriber.objects.filter(chapter__in=chapters.values()).exists():
            return 0
        seeded = 0
        for number, demo in enumerate(ZONES):
            zone = Zone.objects.get(chapter=chapters[demo.chapter], name=demo.name)
            seeded += len(add_subscribers(zone.chapter, [zone], SUBSCRIBERS_PER_ZONE, start=number * 100 + 1))
        pilsen = Zone.objects.get(chapter=chapters["pilsen"], name="Pilsen")
        seeded += len(add_subscribers(pilsen.chapter, [pilsen], 2, start=90, drill_participant=True))
        audit("seed_demo", "subscriber.seed", chapter=pilsen.chapter, object_type="alerts.subscriber")
        # The shipped alert texts arrive as drafts; the demo organizer has read and approved them.
        approve_all_templates(User.objects.get(username="organizer"))
        return seeded

    def seed_volunteers(self, chapters: dict[str, Chapter]) -> int:
        """Trained verifiers (sandbox phones) on an around-the-clock rotation in every zone, a
        backup volunteer per chapter, and a training and a meeting to RSVP to. Each step is
        the organizer's own durable action, so this method is not atomic itself."""
        if Responder.objects.filter(chapter__in=chapters.values()).exists():
            return 0
        admin = User.objects.get(username="admin")
        now = timezone.now()
        names = iter(VOLUNTEER_NAMES)
        number = 700
        for demo in ZONES:
            zone = Zone.objects.get(chapter=chapters[demo.chapter], name=demo.name)
            members = []
            for position in range(VOLUNTEERS_PER_ZONE):
                login = "volunteer" if (demo.name == "Pilsen" and position == 0) else ""
                members.append(self.volunteer(zone, next(names), number, admin, login=login).pk)
                number += 1
            schedule.create_rotation(
                zone,
                name="Around the clock",
                starts_at=now.replace(minute=0, second=0, microsecond=0),
                shift_hours=VOLUNTEER_SHIFT_HOURS,
                member_ids=members,
                acting_user=admin,
            )
        for slug in CHAPTERS:
            home = Zone.objects.filter(chapter=chapters[slug]).first()
            assert home is not None
            self.volunteer(home, next(names), number, admin, backup=True)
            number += 1
        pilsen = chapters["pilsen"]
        start = (now + timedelta(days=3)).replace(hour=16, minute=0, second=0, microsecond=0)
        create_event(
            pilsen,
            EventInput(
                kind=EventKind.TRAINING,
                title="Verifier training: observing from a safe distance",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                place="Parish hall, 1850 S Throop St",
                training_role=ResponderRole.VERIFIER,
            ),
            acting_user=admin,
        )
        meeting = (now + timedelta(days=1)).replace(hour=23, minute=30, second=0, microsecond=0)
        create_event(
            pilsen,
            EventInput(
                kind=EventKind.MEETING,
                title="Monthly rapid response meeting",
                starts_at=meeting,
                ends_at=meeting + timedelta(hours=1, minutes=30),
                place="Community center, back room",
            ),
            acting_user=admin,
        )
        return number - 700

    def volunteer(
        self, zone: Zone, name: str, number: int, admin: User, *, login: str = "", backup: bool = False
    ) -> Responder:
        spanish = number % 2 == 0
        responder = roster.add_responder(
            zone.chapter,
            name=name,
            phone=fake_phone(number),
            language="es" if spanish else "en",
            languages=["es", "en"] if spanish else ["en"],
            zone_ids=[zone.pk],
            is_backup=backup,
            acting_user=admin,
        )
        if login:
            # The demo login seed_staff made: approval links it instead of making an account.
            Responder.objects.filter(pk=responder.pk).update(user=User.objects.get(username=login))
            responder.refresh_from_db()
        responder = roster.approve(responder, acting_user=admin)
        today = timezone.localdate()
        roster.add_training(
            responder,
            role=ResponderRole.VERIFIER,
            completed_on=today - timedelta(days=90),
            expires_on=today + timedelta(days=275),
            acting_user=admin,
        )
        return responder

    def seed_reports(self) -> int:
        demo_chapters = Chapter.objects.filter(slug__in=CHAPTERS)
        if Report.objects.filter(chapter__in=demo_chapters).exists():
            return 0
        now = timezone.now()
        for demo in sorted(REPORTS, key=lambda r: -r.minutes_ago):
            data = replace(demo.data, observed_at=now - timedelta(minutes=demo.minutes_ago))
            entered_by = User.objects.get(username=demo.logged_by) if demo.logged_by else None
            receive_report(data, entered_by=entered_by)
        return len(REPORTS)


# --- Cases and family plans (issue 5) ----------------------------------------------------
# A facility directory, four open cases and a closed one in Pilsen for the legal team's board,
# and a family preparedness plan with a published code and PIN whose two emergency contacts
# are sandbox phones: text DETAINED 482193 from any simulated phone and watch their messages
# arrive. Every name, number and place below is invented (555 phone numbers, made-up
# facilities). Idempotent: each part is seeded only once.

DEMO_PLAN_CODE = "482193"
DEMO_PLAN_PIN = "2468"
DEMO_PLAN_MEMBER_PHONE = fake_phone(810)
DEMO_PLAN_CONTACT_PHONES = (fake_phone(811), fake_phone(812))
DEMO_FAMILY_PHONE = fake_phone(813)
# A second plan, already used: the case "opened from a panic" on the board came from it.
DEMO_PANIC_PLAN_CODE = "730514"
DEMO_PANIC_PLAN_PHONES = (fake_phone(814), fake_phone(815))


@dataclass(frozen=True)
class DemoFacility:
    name: str
    operator: str
    address: str
    phone: str
    visiting_rules: str


FACILITIES = (
    DemoFacility(
        "Lakeshore Processing Center",
        "Northline Detention Services (private contractor)",
        "1200 Harbor Rd, Lakeshore, IL",
        "+1 312 555 0190",
        "Visits Sat-Sun 9:00-15:00 by appointment; bring photo ID; no phones.",
    ),
    DemoFacility(
        "Prairie County Jail (ICE contract)",
        "Prairie County Sheriff",
        "45 Courthouse Sq, Prairie City, IL",
        "+1 312 555 0191",
        "Video visits only, booked a day ahead on the county website.",
    ),
    DemoFacility(
        "Midwest Regional Hold Room",
        "ICE field office",
        "300 W Federal Plaza, Chicago, IL",
        "+1 312 555 0192",
        "Short-term hold (under 12 hours); no visits. Attorneys call the duty officer.",
    ),
)


def seed_cases_and_plans(chapters: dict[str, Chapter], stdout: Any) -> None:
    pilsen = chapters["pilsen"]
    facilities = seed_facilities(pilsen)
    plan_made = seed_demo_plan()
    cases = seed_cases(pilsen, facilities)
    stdout.write(
        f"cases: {len(facilities)} facilities, {cases} cases seeded, demo family plan "
        f"{'seeded' if plan_made else 'in place'}"
    )
    stdout.write(
        f"Demo family plan code: {DEMO_PLAN_CODE}, PIN {DEMO_PLAN_PIN} (text DETAINED {DEMO_PLAN_CODE} "
        f"from a simulated phone; the contacts' phones are {' and '.join(DEMO_PLAN_CONTACT_PHONES)})"
    )


@transaction.atomic(durable=True)
def seed_facilities(chapter: Chapter) -> list[Facility]:
    facilities = []
    for demo in FACILITIES:
        facility, created = Facility.objects.get_or_create(
            chapter=chapter,
            name=demo.name,
            defaults={
                "operator": demo.operator,
                "address": demo.address,
                "phone": demo.phone,
                "visiting_rules": demo.visiting_rules,
            },
        )
        if created:
            audit("seed_demo", "facility.create", facility)
        facilities.append(facility)
    return facilities


def _demo_plan(code: str, data: PlanInput) -> bool:
    """A plan with a known code (the families app draws codes at random: the demo overwrites
    the drawn one's index in the same transaction). False if it is already there."""
    if Plan.objects.filter(code_index=plans.code_index(code)).exists():
        return False
    plan, _drawn, _pin = plans.store_plan(data, now=timezone.now(), pin=DEMO_PLAN_PIN, actor="seed_demo")
    Plan.objects.filter(pk=plan.pk).update(code_index=plans.code_index(code))
    return True


@transaction.atomic(durable=True)
def seed_demo_plan() -> bool:
    return _demo_plan(
        DEMO_PLAN_CODE,
        PlanInput(
            contacts=[
                ContactInput(
                    name="Carmen (sister)",
                    phone=DEMO_PLAN_CONTACT_PHONES[0],
                    language="es",
                    message="Me detuvo inmigracion. Recoge a Sofi y Mateo en la escuela Whittier antes de las 3. "
                    "Los papeles estan en la carpeta azul.",
                ),
                ContactInput(
                    name="Mr. Dwyer (neighbour)",
                    phone=DEMO_PLAN_CONTACT_PHONES[1],
                    language="en",
                    message="I have been detained by immigration. Please feed the dog and call my sister Carmen.",
                ),
            ],
            name="Elena Ruiz",
            phone=DEMO_PLAN_MEMBER_PHONE,
            zip_code="60608",
            children_pickup="Carmen picks up Sofi (8) and Mateo (6); Mr. Dwyer is the backup.",
            school="Whittier Elementary, 1900 W 23rd St",
            documents="Blue folder on the top shelf of the bedroom closet",
            attorney="None yet",
            medical="Mateo: asthma inhaler in his backpack",
            language="es",
        ),
    )


def seed_cases(chapter: Chapter, facilities: list[Facility]) -> int:
    if Case.objects.filter(chapter=chapter).exists():
        return 0
    legal = User.objects.get(username="legal")
    dispatcher = User.objects.get(username="dispatcher")
    now = timezone.now()
    lakeshore, prairie, hold_room = facilities
    made = 0

    # 1. Opened by the dispatcher from the seeded arrest at 21st & Wolcott, pre-filled from it.
    with transaction.atomic(durable=True):
        incident = (
            Incident.objects.filter(chapter=chapter, kind=Kind.ARREST).order_by("first_report_at").first()
            or Incident.objects.filter(chapter=chapter).order_by("first_report_at").first()
        )
        case = store_case(
            chapter_id=chapter.pk,
            opened_from=OpenedFrom.INCIDENT,
            incident_id=incident.pk if incident is not None else None,
            person=PersonInput(
                name="Unknown man (about 40)",
                languages="es",
                taken_place="21st St & Wolcott Ave, at the bus stop",
                summary="Caller watched agents stop a man walking to the bus stop; he has not called home.",
                taken_at=incident.first_report_at if incident is not None else now - timedelta(minutes=9),
            ),
            now=now,
            actor=dispatcher,
        )
        assign(case, dispatcher, now=now, acting_user=dispatcher)
        _note(case, dispatcher, now, "Neighbours think his name is Ramon; asked them to tell the family to call us.")
        made += 1

    # 2. Opened by a family member's panic text (a second demo plan, already used).
    with transaction.atomic(durable=True):
        _demo_plan(
            DEMO_PANIC_PLAN_CODE,
            PlanInput(
                contacts=[
                    ContactInput(name="Lupe (wife)", phone=DEMO_PANIC_PLAN_PHONES[0], language="es"),
                    ContactInput(name="Beto (brother)", phone=DEMO_PANIC_PLAN_PHONES[1], language="es"),
                ],
                name="Hector Salinas",
                zip_code="60608",
                children_pickup="Lupe",
                school="Cooper Dual Language Academy",
                documents="Lupe has them",
            ),
        )
        # Fired five hours ago through the panic keyword's own action: the contacts' messages
        # went to their sandbox phones and the case was opened pre-filled from the plan.
        plan = Plan.objects.get(code_index=plans.code_index(DEMO_PANIC_PLAN_CODE))
        fired = store_panic(plan, PanicVia.CONTACT, now - timedelta(hours=5), "sms:panic")
        if fired.case is not None:
            Task.objects.filter(case=fired.case, kind=TaskKind.FAMILY_INFORMED).update(
                done_at=now - timedelta(hours=4), owner=legal
            )
        made += 1

    # 3. Located, with a hearing in 3 days and an emergency stay deadline tomorrow.
    with transaction.atomic(durable=True):
        opened = now - timedelta(days=6)
        case = store_case(
            chapter_id=chapter.pk,
            opened_from=OpenedFrom.HOTLINE,
            person=PersonInput(
                name="Marisol Vega",
                date_of_birth="1988-04-12",
                a_number="A-208-555-117",
                country_of_birth="Honduras",
                languages="es",
                phone="+1 312 555 0161",
                taken_place="Outside her workplace on S Halsted St",
                summary="Her partner called the hotline. Final removal order from 2019 in absentia: "
                "a motion to reopen and a stay are being filed.",
                taken_at=opened - timedelta(hours=3),
            ),
            now=opened,
            actor=legal,
        )
        legal_actions.record_detention(
            case, facility=lakeshore, facility_other="", from_at=opened + timedelta(hours=10), actor=legal, now=opened
        )
        legal_actions.save_legal(
            case,
            representation=Representation.LEGAL_AID,
            attorney="Midwest Legal Aid Clinic (demo), duty attorney",
            bond_status=BondStatus.NOT_ELIGIBLE,
            bond_amount=None,
            bond_paid_at=None,
            bond_paid_by="",
            bond_refund="",
            actor=legal,
            now=opened + timedelta(days=1),
        )
        store_family_contact(
            case, name="Jorge Vega", relationship="partner", phone=DEMO_FAMILY_PHONE, language="es", actor=legal
        )
        legal_actions.add_hearing(
            case,
            kind=HearingKind.MASTER,
            court="Chicago Immigration Court",
            at=(now + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0),
            actor=legal,
        )
        legal_actions.add_deadline(
            case,
            kind=DeadlineKind.STAY,
            due_at=now + timedelta(days=1),
            note="Emergency stay of removal with the BIA, with the motion to reopen.",
            actor=legal,
        )
        Task.objects.filter(case=case, kind=TaskKind.FAMILY_INFORMED).update(
            owner=legal, due_at=opened + timedelta(days=1)
        )
        made += 1

    # 4. Transferred twice: the hold room, the county jail, then the processing center, as
    # the legal team's locator checks found each move.
    with transaction.atomic(durable=True):
        opened = now - timedelta(days=12)
        case = store_case(
            chapter_id=chapter.pk,
            opened_from=OpenedFrom.HOTLINE,
            person=PersonInput(
                name="Andres Molina",
                a_number="A 087 555 402",
                country_of_birth="Mexico",
                languages="es, en",
                taken_place="Traffic stop on W Cermak Rd",
                summary="Moved twice in ten days; the online locator lagged each transfer by two days.",
                taken_at=opened - timedelta(hours=1),
            ),
            now=opened,
            actor=legal,
        )
        for days, source, result, facility, note in (
            (0.1, LocatorSource.FAMILY, LocatorResult.FOUND, hold_room, "His cousin saw him taken to the hold room."),
            (1, LocatorSource.ICE_LOCATOR, LocatorResult.TRANSFERRED, prairie, ""),
            (5, LocatorSource.ICE_LOCATOR, LocatorResult.NOT_FOUND, None, "Locator still showed the county jail."),
            (7, LocatorSource.FACILITY, LocatorResult.TRANSFERRED, lakeshore, "Intake confirmed by phone."),
        ):
            at = opened + timedelta(days=days)
            legal_actions.record_locator_check(
                case, source=source, result=result, facility=facility, note=note, actor=legal, now=at
            )
        legal_actions.save_legal(
            case,
            representation=Representation.SEEKING,
            attorney="",
            bond_status=BondStatus.REQUESTED,
            bond_amount=Decimal("7500.00"),
            bond_paid_at=None,
            bond_paid_by="",
            bond_refund="",
            actor=legal,
            now=opened + timedelta(days=8),
        )
        Task.objects.filter(case=case, kind=TaskKind.ATTORNEY).update(owner=legal, due_at=now - timedelta(days=2))
        made += 1

    # 5. Closed a week ago: released on bond; kept until its retention runs out, then shredded.
    opened = now - timedelta(days=40)
    with transaction.atomic(durable=True):
        case = store_case(
            chapter_id=chapter.pk,
            opened_from=OpenedFrom.HOTLINE,
            person=PersonInput(
                name="Rafael Ortiz",
                country_of_birth="Guatemala",
                languages="es",
                summary="Released on bond after three weeks.",
                taken_at=opened,
            ),
            now=opened,
            actor=legal,
        )
        legal_actions.record_detention(
            case, facility=prairie, facility_other="", from_at=opened + timedelta(hours=8), actor=legal, now=opened
        )
        legal_actions.save_legal(
            case,
            representation=Representation.PRIVATE,
            attorney="A private attorney the family found (demo)",
            bond_status=BondStatus.PAID,
            bond_amount=Decimal("5000.00"),
            bond_paid_at=now - timedelta(days=8),
            bond_paid_by="Chicago community bond fund (demo)",
            bond_refund="",
            actor=legal,
            now=now - timedelta(days=8),
        )
        Task.objects.filter(case=case).update(done_at=now - timedelta(days=7), owner=legal)
    close_case(case.pk, outcome=Outcome.BOND, acting_user=legal, now=now - timedelta(days=7))
    made += 1
    return made


def _note(case: Case, user: User, at: Any, body: str) -> None:
    note = CaseNote(case=case, author=user, at=at)
    note.body = body
    note.save(force_insert=True)
    audit(user, "case.note_add", case)
