"""Roster reads for staff: who may see what, and the list in a constant number of queries.

Organizers and admins of a chapter read and edit its roster; dispatchers read its approved
responders (to call them during a raid). Another chapter's responder is a 404, like any
object that is not yours. Decrypting names is a sensitive read: the views write one audit row
per page ("responder.list") or per detail view ("responder.read").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from vigil.accounts.models import Role, User
from vigil.core.models import Chapter, Zone
from vigil.responders.models import Responder, ResponderRole, ResponderStatus, Training

READER_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER)
EDITOR_ROLES = (Role.ADMIN, Role.ORGANIZER)


def _chapter_ids(user: Any, roles: Sequence[str]) -> list[int]:
    if not isinstance(user, User) or not user.is_active or user.role not in roles:
        return []
    return list(user.chapter_ids())


def reads_roster(user: Any) -> bool:
    return bool(_chapter_ids(user, READER_ROLES))


def edits_roster(user: Any) -> bool:
    return bool(_chapter_ids(user, EDITOR_ROLES))


def editable_chapters(user: Any) -> list[Chapter]:
    return list(Chapter.objects.filter(pk__in=_chapter_ids(user, EDITOR_ROLES)).order_by("name"))


def readable_chapters(user: Any) -> list[Chapter]:
    return list(Chapter.objects.filter(pk__in=_chapter_ids(user, READER_ROLES)).order_by("name"))


def visible_responders(user: Any) -> QuerySet[Responder]:
    """Organizers/admins: their chapters' whole roster; dispatchers: approved responders only."""
    if not isinstance(user, User):
        return Responder.objects.none()
    editable = _chapter_ids(user, EDITOR_ROLES)
    if editable:
        return Responder.objects.filter(chapter_id__in=editable)
    readable = _chapter_ids(user, READER_ROLES)
    return Responder.objects.filter(chapter_id__in=readable, status=ResponderStatus.APPROVED)


def access_responder_by_id(user: Any, responder_id: uuid.UUID | str, *, edit: bool = False) -> Responder:
    """The responder if this user may read it; Http404 alike for missing and not yours.

    edit=True: any responder of the user's readable chapters is found, and a reader who may
    not edit (a dispatcher) gets PermissionDenied (403); other chapters stay 404."""
    try:
        pk = uuid.UUID(str(responder_id))
    except ValueError:
        raise Http404 from None
    found = (
        Responder.objects.filter(chapter_id__in=_chapter_ids(user, READER_ROLES)) if edit else visible_responders(user)
    )
    responder = (
        found.select_related("chapter", "user", "endpoint", "approved_by")
        .prefetch_related(
            Prefetch("trainings", queryset=Training.objects.order_by("role", "-expires_on")),
            Prefetch("home_zones", queryset=Zone.objects.order_by("name")),
        )
        .filter(pk=pk)
        .first()
    )
    if responder is None:
        raise Http404
    if edit and responder.chapter_id not in _chapter_ids(user, EDITOR_ROLES):
        raise PermissionDenied
    return responder


def access_training_by_id(user: Any, responder: Responder, training_id: int) -> Training:
    training = Training.objects.filter(pk=training_id, responder=responder).first()
    if training is None or responder.chapter_id not in _chapter_ids(user, EDITOR_ROLES):
        raise Http404
    return training


def roster_numbers(*chapter_ids: int) -> dict[uuid.UUID, int]:
    """A stable number per responder in its chapter ("Volunteer 7"), by order of application.

    Used where a name is not needed (calendar feeds, the load page); responders are never
    deleted, only marked LEFT, so the numbers do not shift. One query."""
    numbers: dict[uuid.UUID, int] = {}
    counters: dict[int, int] = {}
    rows = (
        Responder.objects.filter(chapter_id__in=chapter_ids)
        .order_by("chapter_id", "applied_at", "id")
        .values_list("chapter_id", "id")
    )
    for chapter_id, pk in rows:
        counters[chapter_id] = counters.get(chapter_id, 0) + 1
        numbers[pk] = counters[chapter_id]
    return numbers


@dataclass
class RosterRow:
    responder: Responder
    number: int
    current_roles: list[str] = field(default_factory=list)
    expiring: list[str] = field(default_factory=list)
    zone_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RosterFilter:
    status: str = ""
    role: str = ""
    zone_id: int | None = None

    @classmethod
    def from_query(cls, query: Any) -> RosterFilter:
        status = str(query.get("status", ""))
        role = str(query.get("role", ""))
        zone = str(query.get("zone", ""))
        return cls(
            status=status if status in ResponderStatus.values else "",
            role=role if role in ResponderRole.values else "",
            zone_id=int(zone) if zone.isdecimal() and len(zone) < 12 else None,
        )


def roster_rows(user: Any, chapter_ids: Sequence[int], filters: RosterFilter, today: date) -> list[RosterRow]:
    """The roster of the given chapters (already checked readable), filtered. Four queries."""
    responders = visible_responders(user).filter(chapter_id__in=chapter_ids)
    if filters.status:
        responders = responders.filter(status=filters.status)
    if filters.role:
        responders = responders.filter(
            trainings__role=filters.role, trainings__completed_on__lte=today, trainings__expires_on__gte=today
        ).distinct()
    if filters.zone_id is not None:
        responders = responders.filter(home_zones__id=filters.zone_id).distinct()
    found = list(
        responders.select_related("chapter", "endpoint")
        .prefetch_related(
            Prefetch("trainings", queryset=Training.objects.order_by("role")),
            Prefetch("home_zones", queryset=Zone.objects.order_by("name")),
        )
        .order_by("chapter__name", "applied_at", "id")
    )
    numbers = roster_numbers(*chapter_ids)
    soon = date.fromordinal(today.toordinal() + 30)
    rows = []
    for responder in found:
        row = RosterRow(responder, numbers.get(responder.pk, 0))
        for training in responder.trainings.all():
            if training.completed_on <= today <= training.expires_on and training.role not in row.current_roles:
                row.current_roles.append(training.role)
                if training.expires_on <= soon:
                    row.expiring.append(training.role)
        row.zone_names = [z.name for z in responder.home_zones.all()]
        rows.append(row)
    return rows


def role_label(role: str) -> str:
    return str(ResponderRole(role).label) if role in ResponderRole.values else role
