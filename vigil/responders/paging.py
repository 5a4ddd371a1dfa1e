"""Paging volunteers for an incident, escalating when nobody accepts, and their answers.

A new incident pages the verifiers on call for its zone (stage ZONE). If nobody accepts
before the deadline (settings.PAGE_ESCALATE_SECONDS) the page goes to the on-call verifiers of
the nearby zones (RING, settings.PAGE_RING h3 rings), then to the chapter's backup list
(BACKUP), then the dispatcher is alarmed (DISPATCHER: the board shows it). A stage with nobody
to page escalates at once. Every step is on the incident's timeline and in the audit log.

Exactly one lead per incident: the first accept wins by one conditional UPDATE on
`lead IS NULL`; later accepts join. Escalation is claimed the same way (a conditional UPDATE on
the paging's stage and deadline), so two workers running the schedule escalate once.

Entry points (`start_paging`, `escalate_due`, `respond`, `end_assignment`) own their durable
transaction; the `store_*` variants run inside a caller's transaction (the SMS webhook's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from vigil.channels import outbox
from vigil.channels.models import Purpose
from vigil.core import geo
from vigil.core.audit import audit
from vigil.incidents import notes
from vigil.incidents.clustering import record_event
from vigil.incidents.models import OPEN_STATUSES, EventKind, Incident, Status
from vigil.intake import sms
from vigil.responders import oncall, texts
from vigil.responders.models import (
    Assignment,
    PageRecipient,
    PageResponse,
    Paging,
    PagingStage,
    Responder,
    ResponderRole,
)

log = logging.getLogger("vigil.responders.paging")

# Paging runs only while the dispatcher has not decided: a confirmed or dismissed incident
# needs no more verifiers.
PAGEABLE_STATUSES = (Status.NEW, Status.VERIFYING)
# The longest ETA taken, by text or on the web: "1 999" is four hours away at most.
MAX_ETA_MINUTES = 240
SWEEP_WINDOW = timedelta(minutes=10)
ESCALATE_BATCH = 100
LANGUAGES = ("en", "es")


class PagingError(Exception):
    """A refused paging action; the message is safe to show."""


class PagingNotFound(PagingError):
    """Another chapter's incident, or a user who may not page: shown as 404."""


def _label(stage: int) -> str:
    return str(PagingStage(stage).label)


# How the timeline reads the notes paging writes (vigil.incidents.notes), in the reader's language.
notes.register("stage", lambda args: _label(int(args[0])))
notes.register(
    "paged", lambda args: gettext("%(stage)s: %(n)s paged") % {"stage": _label(int(args[0])), "n": int(args[1])}
)
notes.register("eta", lambda args: gettext("arriving in %(n)s min") % {"n": int(args[0])})
notes.register("handover", lambda args: gettext("lead handed over"))
notes.register("moved", lambda args: gettext("moved from #%(n)s") % {"n": int(args[0])})


def _language(responder: Responder) -> str:
    return responder.language if responder.language in LANGUAGES else "en"


def page_body(incident: Incident, language: str) -> str:
    """The page in `language`: the incident number, its kind and zone. No personal data."""
    with translation.override(language):
        what = texts.kind_phrase(incident.kind)
        # Accents would make the whole page UCS-2: two or three texts instead of one.
        zone = sms.ascii_only(incident.zone.name)[:40] if incident.zone_id and incident.zone else ""
        if zone:
            return texts.render(texts.PAGE, number=incident.pk, what=what, zone=zone)
        return texts.render(texts.PAGE_NO_ZONE, number=incident.pk, what=what)


# --- Starting -----------------------------------------------------------------------------


def _may_page(user: Any, incident: Incident) -> bool:
    return bool(getattr(user, "can_dispatch", False)) and incident.chapter_id in user.chapter_ids()


@transaction.atomic(durable=True)
def start_paging(incident: Incident, *, acting_user: Any = None, now: datetime | None = None) -> Paging:
    """Page the on-call verifiers of the incident's zone (once per incident).

    With `acting_user` (a dispatcher's click) it may also page again an incident whose paging
    ended without a lead: from the zone stage, the volunteers already paged included.
    """
    return store_paging(incident, acting_user=acting_user, now=now)


def store_paging(incident: Incident, *, acting_user: Any = None, now: datetime | None = None) -> Paging:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_paging needs the caller's transaction; use start_paging")
    now = now or timezone.now()
    if acting_user is not None and not _may_page(acting_user, incident):
        raise PagingNotFound
    current = Incident.objects.select_for_update(of=("self",)).select_related("zone").get(pk=incident.pk)
    existing = Paging.objects.select_for_update().filter(incident=current).first()
    actor = acting_user or "system"
    if existing is not None:
        if acting_user is None or existing.lead_id is not None or existing.deadline is not None:
            return existing
        if current.status not in OPEN_STATUSES:
            raise PagingError(translation.gettext("This incident is closed: nobody can be paged for it."))
        existing.stage = PagingStage.ZONE
        existing.started_at = now
        existing.started_by = acting_user
        existing.alarm_at = None
        existing.ended_at = None
        existing.save(update_fields=["stage", "started_at", "started_by", "alarm_at", "ended_at"])
        audit(actor, "paging.restart", existing)
        _run_stages(existing, current, now, actor=acting_user)
        return existing
    if current.status not in (OPEN_STATUSES if acting_user is not None else PAGEABLE_STATUSES):
        raise PagingError(translation.gettext("This incident is closed: nobody can be paged for it."))
    try:
        with transaction.atomic():
            paging = Paging.objects.create(
                chapter_id=current.chapter_id,
                incident=current,
                role=ResponderRole.VERIFIER,
                stage=PagingStage.ZONE,
                started_at=now,
                started_by=acting_user,
            )
    except IntegrityError:
        # Another worker started it between our read and our insert.
        return Paging.objects.get(incident=current)
    audit(actor, "paging.start", paging)
    _run_stages(paging, current, now, actor=acting_user)
    return paging


def start_paging_safe(incident_id: int) -> Paging | None:
    """start_paging for the signal receiver and the sweep: a failure is logged, never raised
    (the report that opened the incident is already stored; the sweep tries again)."""
    try:
        incident = Incident.objects.get(pk=incident_id)
        if incident.status not in PAGEABLE_STATUSES:
            return None
        return start_paging(incident)
    except Exception:
        log.exception("paging: could not page incident %s; the sweep will try again", incident_id)
        return None


def on_incident_opened(sender: Any, incident: Incident, **kwargs: Any) -> None:
    """incidents.signals.incident_opened: page once the report's transaction commits."""
    incident_id = incident.pk
    transaction.on_commit(lambda: start_paging_safe(incident_id))


def page_new_incidents(now: datetime) -> int:
    """Backstop: page the open NEW incidents of the last minutes that have no paging yet."""
    missing = list(
        Incident.objects.filter(status=Status.NEW, first_report_at__gte=now - SWEEP_WINDOW, paging__isnull=True)
        .order_by("first_report_at")
        .values_list("pk", flat=True)[:50]
    )
    return sum(start_paging_safe(pk) is not None for pk in missing)


# --- Stages ---------------------------------------------------------------------------------


def _already_paged(paging: Paging) -> set[Any]:
    """Responders paged in this round (a dispatcher's re-page starts a new round)."""
    return set(
        PageRecipient.objects.filter(paging=paging, paged_at__gte=paging.started_at).values_list(
            "responder_id", flat=True
        )
    )


def stage_recipients(paging: Paging, incident: Incident, stage: int, now: datetime) -> list[Responder]:
    """Who this stage pages: eligible now and not paged yet in this round."""
    role = paging.role
    zone = incident.zone if incident.zone_id else None
    if stage == PagingStage.ZONE:
        if zone is None:
            return []
        found = oncall.eligible(incident.chapter_id, [zone.pk], role, now)
    elif stage == PagingStage.RING:
        if zone is None:
            return []
        ring = [z.pk for z in geo.zones_within_rings(zone, settings.PAGE_RING) if z.pk != zone.pk]
        found = oncall.eligible(incident.chapter_id, ring, role, now) if ring else []
    elif stage == PagingStage.BACKUP:
        found = oncall.eligible(incident.chapter_id, [zone.pk] if zone else [], role, now, backup=True)
    else:
        return []
    paged = _already_paged(paging)
    return [r for r in found if r.pk not in paged]


def _send_pages(paging: Paging, incident: Incident, stage: int, recipients: list[Responder], now: datetime) -> None:
    """The page in each language used, one urgent delivery per recipient, one PageRecipient each."""
    owners = [r for r in recipients if r.endpoint is not None]
    deliveries = outbox.queue(
        chapter_id=incident.chapter_id,
        purpose=Purpose.PAGE,
        recipients=[(_language(r), r.endpoint) for r in owners if r.endpoint is not None],
        text_for=lambda language: page_body(incident, language),
        now=now,
        valid_until=now + timedelta(minutes=settings.PAGE_VALID_MINUTES),
        urgent=True,
    )
    existing = {
        row.responder_id: row
        for row in PageRecipient.objects.filter(paging=paging, responder_id__in=[r.pk for r in owners])
    }
    new_rows: list[PageRecipient] = []
    for responder, delivery in zip(owners, deliveries, strict=True):
        row = existing.get(responder.pk)
        if row is None:
            new_rows.append(
                PageRecipient(paging=paging, responder=responder, stage=stage, paged_at=now, delivery=delivery)
            )
        else:
            # Paged again by a dispatcher's re-page: a fresh answer is wanted.
            row.stage, row.paged_at, row.delivery = stage, now, delivery
            row.response, row.eta_minutes, row.responded_at = PageResponse.NONE, None, None
            row.save(update_fields=["stage", "paged_at", "delivery", "response", "eta_minutes", "responded_at"])
    PageRecipient.objects.bulk_create(new_rows)


def _run_stages(paging: Paging, incident: Incident, now: datetime, *, actor: Any = None) -> None:
    """Page from `paging.stage` on, skipping stages with nobody to page, until someone is paged
    (deadline set) or the dispatcher is alarmed. `paging` is locked or freshly claimed."""
    stage = paging.stage
    if stage == PagingStage.ZONE and not incident.zone_id:
        stage = PagingStage.BACKUP  # No zone: nobody is on call for it, go to the backup list.
    while stage < PagingStage.DISPATCHER:
        recipients = stage_recipients(paging, incident, stage, now)
        if stage != PagingStage.ZONE:
            record_event(incident, EventKind.ESCALATED, at=now, actor=actor, note=f"stage:{stage}")
        if recipients:
            _send_pages(paging, incident, stage, recipients, now)
            deadline = now + timedelta(seconds=settings.PAGE_ESCALATE_SECONDS)
            Paging.objects.filter(pk=paging.pk).update(stage=stage, deadline=deadline)
            paging.stage, paging.deadline = stage, deadline
            record_event(
                incident,
                EventKind.PAGED,
                at=now,
                actor=actor,
                note=f"paged:{stage}:{len(recipients)}",
            )
            return
        stage += 1
    Paging.objects.filter(pk=paging.pk).update(stage=PagingStage.DISPATCHER, deadline=None, alarm_at=now)
    paging.stage, paging.deadline, paging.alarm_at = PagingStage.DISPATCHER, None, now
    record_event(incident, EventKind.ALARM, at=now, actor=actor, note=f"stage:{PagingStage.DISPATCHER}")
    audit(actor or "system", "paging.alarm", paging)


# --- Escalation -------------------------------------------------------------------------


def escalate_due(now: datetime) -> int:
    """Escalate every paging past its deadline with no lead; end those whose incident was
    decided. The number escalated. Safe to run in two workers at once."""
    end_decided(now)
    due = list(
        Paging.objects.filter(deadline__lte=now, lead__isnull=True)
        .order_by("deadline")
        .values_list("pk", "stage", "deadline")[:ESCALATE_BATCH]
    )
    return sum(escalate_one(pk, stage, deadline, now) for pk, stage, deadline in due if deadline is not None)


@transaction.atomic(durable=True)
def escalate_one(pk: int, stage: int, deadline: datetime, now: datetime) -> bool:
    """Move one paging to its next stage, if nobody else did it first."""
    claimed = Paging.objects.filter(pk=pk, stage=stage, deadline=deadline, lead__isnull=True).update(
        stage=min(stage + 1, PagingStage.DISPATCHER), deadline=None
    )
    if not claimed:
        return False
    paging = Paging.objects.select_related("incident__zone").get(pk=pk)
    incident = paging.incident
    if incident.status not in PAGEABLE_STATUSES:
        _end(paging, now)
        return False
    audit("system", "paging.escalate", paging)
    _run_stages(paging, incident, now)
    return True


def _end(paging: Paging, now: datetime) -> None:
    Paging.objects.filter(pk=paging.pk).update(deadline=None, ended_at=now)
    audit("system", "paging.end", paging)


def end_decided(now: datetime) -> int:
    """End the pagings still counting down whose incident the dispatcher has decided."""
    ended = 0
    for pk in list(
        Paging.objects.filter(deadline__isnull=False)
        .exclude(incident__status__in=PAGEABLE_STATUSES)
        .values_list("pk", flat=True)[:ESCALATE_BATCH]
    ):
        with transaction.atomic(durable=True):
            paging = Paging.objects.filter(pk=pk, deadline__isnull=False).first()
            if paging is not None:
                _end(paging, now)
                ended += 1
    return ended


# --- Answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a reply did: `outcome` is "lead", "joined", "declined", "on_scene", "closed" or
    "nothing" (no open page); `number` the incident's."""

    outcome: str
    number: int | None = None
    assignment: Assignment | None = None


def _recent_pages(responder: Responder, now: datetime) -> Any:
    since = now - timedelta(minutes=settings.PAGE_VALID_MINUTES)
    return (
        PageRecipient.objects.filter(
            responder=responder,
            paged_at__gte=since,
            paging__ended_at__isnull=True,
            paging__incident__status__in=OPEN_STATUSES,
        )
        .select_related("paging")
        .order_by("-paged_at", "-pk")
    )


def open_pages(responder: Responder, now: datetime) -> Any:
    """The responder's pages they may still answer, the most recent first. A page they declined
    is not one: "ok gracias" after "2" must not make them the lead (the web agrees)."""
    return _recent_pages(responder, now).exclude(response=PageResponse.DECLINED)


def declined_page(responder: Responder, now: datetime, *, incident_number: int | None = None) -> int | None:
    """The incident of the page they most recently declined and could otherwise still answer."""
    pages = _recent_pages(responder, now).filter(response=PageResponse.DECLINED)
    if incident_number is not None:
        pages = pages.filter(paging__incident_id=incident_number)
    page = pages.first()
    return None if page is None else page.paging.incident_id


def active_assignments(responder: Responder, *, incident_number: int | None = None) -> Any:
    """The responder's assignments on open incidents (on that one, with a number), newest first."""
    found = Assignment.objects.filter(responder=responder, ended_at__isnull=True, incident__status__in=OPEN_STATUSES)
    if incident_number is not None:
        found = found.filter(incident_id=incident_number)
    return found.order_by("-accepted_at", "-pk")


def active_assignment(responder: Responder, *, incident_number: int | None = None) -> Assignment | None:
    """The newest of them: the one a text without "#n" is about."""
    found: Assignment | None = active_assignments(responder, incident_number=incident_number).first()
    return found


def has_open_page(responder: Responder, now: datetime, *, incident_number: int | None = None) -> bool:
    pages = open_pages(responder, now)
    if incident_number is not None:
        pages = pages.filter(paging__incident_id=incident_number)
    return pages.exists()


def has_assignment(responder: Responder, *, incident_number: int | None = None) -> bool:
    return bool(active_assignments(responder, incident_number=incident_number).exists())


@transaction.atomic(durable=True)
def respond(
    responder: Responder,
    response: str,
    *,
    eta_minutes: int | None = None,
    incident: Incident | int | None = None,
    now: datetime | None = None,
) -> Answer:
    return store_response(responder, response, eta_minutes=eta_minutes, incident=incident, now=now)


def store_response(
    responder: Responder,
    response: str,
    *,
    eta_minutes: int | None = None,
    incident: Incident | int | None = None,
    now: datetime | None = None,
) -> Answer:
    """Accept, decline or on scene, for the responder's most recent open page (or the given
    incident's). On scene also works for an active assignment without a page."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_response needs the caller's transaction; use respond")
    now = now or timezone.now()
    number = incident.pk if isinstance(incident, Incident) else incident
    if eta_minutes is not None:
        eta_minutes = max(0, min(int(eta_minutes), MAX_ETA_MINUTES))
    if response == PageResponse.ON_SCENE:
        assignment = active_assignment(responder, incident_number=number)
        if assignment is not None:
            return _on_scene(responder, assignment, now)
    pages = open_pages(responder, now)
    if number is not None:
        pages = pages.filter(paging__incident_id=number)
    page = pages.first()
    if page is None:
        return Answer("nothing", number)
    if response == PageResponse.DECLINED:
        return _decline(responder, page, now)
    answer = _accept(responder, page, eta_minutes, now)
    if response == PageResponse.ON_SCENE and answer.assignment is not None:
        return _on_scene(responder, answer.assignment, now)
    return answer


def _actor(responder: Responder) -> Any:
    return responder.user or "sms"


def _accept(responder: Responder, page: PageRecipient, eta_minutes: int | None, now: datetime) -> Answer:
    paging = page.paging
    incident_id = paging.incident_id
    existing = Assignment.objects.filter(incident_id=incident_id, responder=responder, ended_at__isnull=True).first()
    if existing is not None:
        return Answer("lead" if existing.is_lead else "joined", incident_id, existing)
    PageRecipient.objects.filter(pk=page.pk).update(
        response=PageResponse.ACCEPTED, eta_minutes=eta_minutes, responded_at=now
    )
    # The one place a lead is chosen: of many accepts at once, exactly one UPDATE matches.
    won = Paging.objects.filter(pk=paging.pk, lead__isnull=True).update(
        lead=responder, acknowledged_at=now, deadline=None
    )
    eta_at = now + timedelta(minutes=eta_minutes) if eta_minutes is not None else None
    assignment, _created = Assignment.objects.update_or_create(
        incident_id=incident_id,
        responder=responder,
        defaults={
            "role": paging.role,
            "is_lead": bool(won),
            "accepted_at": now,
            "eta_at": eta_at,
            "on_scene_at": None,
            "ended_at": None,
        },
    )
    incident = Incident.objects.get(pk=incident_id)
    actor = responder.user
    note = f"eta:{eta_minutes}" if eta_minutes is not None else ""
    record_event(incident, EventKind.ACCEPTED if won else EventKind.JOINED, at=now, actor=actor, note=note)
    audit(_actor(responder), "paging.accept" if won else "paging.join", assignment, chapter=paging.chapter)
    return Answer("lead" if won else "joined", incident_id, assignment)


def _decline(responder: Responder, page: PageRecipient, now: datetime) -> Answer:
    paging = page.paging
    incident_id = paging.incident_id
    assignment = Assignment.objects.filter(incident_id=incident_id, responder=responder, ended_at__isnull=True).first()
    if assignment is not None:
        # "2" after accepting: they cannot go after all.
        _end_assignment(assignment, now)
        return Answer("declined", incident_id)
    PageRecipient.objects.filter(pk=page.pk).update(response=PageResponse.DECLINED, responded_at=now)
    incident = Incident.objects.get(pk=incident_id)
    record_event(incident, EventKind.DECLINED, at=now, actor=responder.user)
    audit(_actor(responder), "paging.decline", paging)
    _escalate_if_all_declined(paging, now)
    return Answer("declined", incident_id)


def _escalate_if_all_declined(paging: Paging, now: datetime) -> None:
    current = Paging.objects.filter(pk=paging.pk).values_list("stage", "deadline", "lead_id").first()
    if current is None:
        return
    stage, deadline, lead_id = current
    if deadline is None or lead_id is not None:
        return
    waiting = PageRecipient.objects.filter(paging_id=paging.pk, stage=stage, paged_at__gte=paging.started_at).exclude(
        response=PageResponse.DECLINED
    )
    if waiting.exists():
        return
    claimed = Paging.objects.filter(pk=paging.pk, stage=stage, deadline=deadline, lead__isnull=True).update(
        stage=min(stage + 1, PagingStage.DISPATCHER), deadline=None
    )
    if claimed:
        fresh = Paging.objects.select_related("incident__zone").get(pk=paging.pk)
        audit("system", "paging.escalate", fresh)
        _run_stages(fresh, fresh.incident, now)


def _on_scene(responder: Responder, assignment: Assignment, now: datetime) -> Answer:
    if assignment.on_scene_at is None:
        assignment.on_scene_at = now
        assignment.save(update_fields=["on_scene_at"])
        PageRecipient.objects.filter(paging__incident_id=assignment.incident_id, responder=responder).update(
            response=PageResponse.ON_SCENE, responded_at=now
        )
        incident = Incident.objects.get(pk=assignment.incident_id)
        record_event(incident, EventKind.ON_SCENE, at=now, actor=responder.user)
        audit(_actor(responder), "paging.on_scene", assignment, chapter=incident.chapter)
    return Answer("on_scene", assignment.incident_id, assignment)


# --- Ending -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def end_assignment(assignment: Assignment, now: datetime | None = None, *, acting_user: Any = None) -> Assignment:
    """The responder is done with the incident. A long deployment earns a rest (not paged
    until REST_HOURS later). If they led, the earliest who joined leads; else nobody does and
    the page counts down again."""
    return _end_assignment(assignment, now or timezone.now(), acting_user=acting_user)


def store_end_assignment(assignment: Assignment, now: datetime) -> Assignment:
    """end_assignment in the caller's transaction (the SMS webhook's: DONE / LISTO)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("store_end_assignment needs the caller's transaction; use end_assignment")
    return _end_assignment(assignment, now)


def release_lead(assignment: Assignment, now: datetime | None = None, *, acting_user: Any = None) -> Assignment:
    return end_assignment(assignment, now, acting_user=acting_user)


def _end_assignment(assignment: Assignment, now: datetime, *, acting_user: Any = None) -> Assignment:
    current = Assignment.objects.select_related("responder").get(pk=assignment.pk)
    if current.ended_at is not None:
        return current
    current.ended_at = now
    current.save(update_fields=["ended_at"])
    responder = current.responder
    if now - current.accepted_at >= timedelta(hours=settings.LONG_DEPLOYMENT_HOURS):
        rest_until = now + timedelta(hours=settings.REST_HOURS)
        Responder.objects.filter(pk=responder.pk).filter(
            Q(rest_until__isnull=True) | Q(rest_until__lt=rest_until)
        ).update(rest_until=rest_until)
    incident = Incident.objects.get(pk=current.incident_id)
    if current.is_lead:
        _hand_over_lead(current, incident, now)
    record_event(incident, EventKind.ENDED, at=now, actor=acting_user or responder.user)
    audit(acting_user or _actor(responder), "paging.end_assignment", current, chapter=incident.chapter)
    return current


def on_incident_closed(sender: Any, *, incident: Incident, at: datetime, acting_user: Any = None, **_: Any) -> None:
    """Closing an incident ends every assignment still open on it, in the closing transaction:
    a long deployment earns its rest, the load page stops counting, and the volunteer's
    access to the incident runs out (vigil.responders.access.AFTER_DONE)."""
    # Helpers first, the lead last, so the lead is not handed from one to the next on the way.
    for assignment in Assignment.objects.filter(incident_id=incident.pk, ended_at__isnull=True).order_by(
        "is_lead", "pk"
    ):
        _end_assignment(assignment, at, acting_user=acting_user)


def on_incidents_merged(
    sender: Any, *, source: Incident, into: Incident, at: datetime, acting_user: Any = None, **_: Any
) -> None:
    """The volunteers working a duplicate move onto the incident that stays, the lead first: a
    lead becomes the lead there if it has none (which stops its page counting down), else joins.
    Someone already on it just ends their duplicate assignment."""
    moving = Assignment.objects.filter(incident_id=source.pk, ended_at__isnull=True).select_related("responder")
    for assignment in moving.order_by("-is_lead", "accepted_at", "pk"):
        if Assignment.objects.filter(incident_id=into.pk, responder_id=assignment.responder_id).exists():
            _end_assignment(assignment, at, acting_user=acting_user)
            continue
        won = False
        if assignment.is_lead:
            paging = Paging.objects.filter(incident_id=into.pk).first()
            if paging is None:
                won = not Assignment.objects.filter(incident_id=into.pk, is_lead=True, ended_at__isnull=True).exists()
            else:
                won = bool(
                    Paging.objects.filter(pk=paging.pk, lead__isnull=True).update(
                        lead=assignment.responder_id, acknowledged_at=at, deadline=None
                    )
                )
        Assignment.objects.filter(pk=assignment.pk).update(incident_id=into.pk, is_lead=won)
        Paging.objects.filter(incident_id=source.pk, lead_id=assignment.responder_id).update(lead=None)
        record_event(
            into,
            EventKind.ACCEPTED if won else EventKind.JOINED,
            at=at,
            actor=assignment.responder.user,
            note=f"moved:{source.pk}",
        )
        audit(acting_user or "system", "paging.move_on_merge", assignment, chapter=into.chapter)


def _hand_over_lead(ended: Assignment, incident: Incident, now: datetime) -> None:
    paging = Paging.objects.filter(incident=incident).first()
    successor = (
        Assignment.objects.filter(incident=incident, ended_at__isnull=True, is_lead=False)
        .exclude(pk=ended.pk)
        .order_by("accepted_at", "pk")
        .first()
    )
    if successor is not None:
        successor.is_lead = True
        successor.save(update_fields=["is_lead"])
        if paging is not None:
            Paging.objects.filter(pk=paging.pk).update(lead=successor.responder_id)
        record_event(incident, EventKind.ACCEPTED, at=now, note="handover")
        return
    if paging is None:
        return
    deadline = now + timedelta(seconds=settings.PAGE_ESCALATE_SECONDS) if incident.status in PAGEABLE_STATUSES else None
    Paging.objects.filter(pk=paging.pk, lead_id=ended.responder_id).update(
        lead=None, acknowledged_at=None, deadline=deadline
    )


def recipients_of(paging: Paging) -> Iterable[PageRecipient]:
    return PageRecipient.objects.filter(paging=paging).select_related("responder").order_by("paged_at", "pk")
