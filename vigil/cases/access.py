"""Who may see a case (SECURITY-TESTS.md D2, D4, D5).

The legal role sees every case of its chapters; anyone else only the cases they are assigned
to (CaseAssignment). Everything else answers 404, never 403: another chapter's case, an
unassigned one, a made-up id. Every read of a case writes an audit row in the same
transaction ("case.read"), and one person opening more than VIGIL_CASE_READ_ALERT distinct
cases within an hour is logged as bulk reading (security log + "case.bulk_read" audit row).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from vigil.accounts.models import Role
from vigil.cases.models import Case
from vigil.core.audit import audit
from vigil.core.models import AuditEvent

security_log = logging.getLogger("vigil.security")

READ = "case.read"
STAFF_ROLES = (Role.LEGAL, Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER, Role.VERIFIER)
BULK_READ = "case.bulk_read"
BOARD, BOARD_OBJECT = "case.board", "cases.board"


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def is_legal(user: Any) -> bool:
    return _active(user) and getattr(user, "role", None) == Role.LEGAL


def visible_cases(user: Any) -> QuerySet[Case]:
    """The cases this user may open: all of their chapters' for the legal role, the ones they
    are assigned to for anyone else; none for the anonymous or inactive."""
    if not may_use_cases(user):
        return Case.objects.none()
    chapters = list(user.chapter_ids())
    if is_legal(user):
        return Case.objects.filter(chapter_id__in=chapters)
    return Case.objects.filter(Q(chapter_id__in=chapters) & Q(assignments__user=user))


def may_use_cases(user: Any) -> bool:
    """Whether the case pages exist for this user at all (else 404): staff roles. Volunteers
    use /r/ only; a volunteer assigned to a case gets its reminders, not its pages."""
    return _active(user) and getattr(user, "role", None) in STAFF_ROLES


def parse_case_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise Http404 from None


def case_for(user: Any, case_id: Any, *, for_update: bool = False) -> Case:
    """The case if this user may see it, else Http404 (whatever the reason)."""
    pk = parse_case_id(case_id)
    cases = visible_cases(user).filter(pk=pk).select_related("data_key", "current_facility", "chapter")
    if for_update:
        cases = cases.select_for_update(of=("self",))
    case = cases.first()
    if case is None:
        raise Http404
    return case


def note_read(user: Any, case: Case, action: str = READ) -> None:
    """Audit one read of a case (in the caller's transaction) and watch for bulk reading."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("note_read runs in the transaction of the read")
    audit(user, action, case)
    if action != READ:
        return
    watch_bulk(user, READ, "cases.case", settings.CASE_READ_ALERT, "opened %s cases", case.chapter)


def note_board_page(user: Any, page: str, chapter: Any) -> None:
    """Audit one page of the case board (a list of up to 100 names) and watch for someone
    walking through page after page: more than CASE_BOARD_PAGE_ALERT different pages in an hour
    is bulk reading too (D5), as opening cases one by one is."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("note_board_page runs in the transaction of the read")
    audit(user, BOARD, object_type=BOARD_OBJECT, object_id=page[:64], chapter=chapter)
    watch_bulk(user, BOARD, BOARD_OBJECT, settings.CASE_BOARD_PAGE_ALERT, "listed %s board pages", chapter)


def watch_bulk(user: Any, action: str, object_type: str, limit: int, what: str, chapter: Any) -> None:
    """One bulk-reading alert per person per hour, when they read more than `limit` distinct
    objects of this kind in the hour (cases, board pages, family plans)."""
    since = timezone.now() - timedelta(hours=1)
    mine = AuditEvent.objects.filter(actor_id=user.pk, at__gte=since)
    distinct = mine.filter(action=action, object_type=object_type).values("object_id").distinct().count()
    if distinct > limit and not mine.filter(action=BULK_READ).exists():
        security_log.warning("bulk reading of case records: user id %s " + what + " in an hour", user.pk, distinct)
        audit(user, BULK_READ, object_type="accounts.user", object_id=str(user.pk), chapter=chapter)
