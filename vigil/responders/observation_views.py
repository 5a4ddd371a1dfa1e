"""The observation log for the legal team: what volunteers saw and did at each incident.

The legal role does not work the dispatch board, but a detained neighbour's defense needs the
verifiers' field reports (SALUTE, location, notes), the incident's timeline (pages, arrivals,
decisions) and the evidence. Legal, dispatch roles and verifiers of the chapter read it; every
read of a log is audited. Another chapter's incident, or a role without access, answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vigil.accounts.models import Role
from vigil.core.audit import audit
from vigil.incidents.models import FieldReport, Incident
from vigil.incidents.selectors import incident_timeline, staff_chapter_ids
from vigil.responders.models import Assignment, Evidence

OBSERVATION_ROLES = (Role.LEGAL, Role.ADMIN, Role.ORGANIZER, Role.DISPATCHER, Role.VERIFIER)
LIST_LIMIT = 200
_MAX_BIGINT = 2**63 - 1


def _chapter_ids(user: Any) -> list[int]:
    if getattr(user, "role", None) not in OBSERVATION_ROLES:
        return []
    return staff_chapter_ids(user)


def _observed(chapter_ids: list[int]) -> Any:
    """Incidents some volunteer went to or reported on."""
    return (
        Incident.objects.filter(chapter_id__in=chapter_ids)
        .filter(
            Q(Exists(FieldReport.objects.filter(incident=OuterRef("pk"))))
            | Q(Exists(Assignment.objects.filter(incident=OuterRef("pk"))))
        )
        .select_related("zone")
    )


@require_GET
@login_required
def observation_list(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "role", None) not in OBSERVATION_ROLES:
        raise PermissionDenied
    incidents = list(
        _observed(_chapter_ids(request.user))
        .annotate(reports=Count("field_reports", distinct=True))
        .order_by("-last_report_at")[:LIST_LIMIT]
    )
    return render(request, "responders/observations/list.html", {"incidents": incidents})


@require_GET
@login_required
def observation_log(request: HttpRequest, incident_id: int) -> HttpResponse:
    if not 0 < incident_id <= _MAX_BIGINT:
        raise Http404
    incident = _observed(_chapter_ids(request.user)).filter(pk=incident_id).first()
    if incident is None:
        raise Http404
    field_reports = list(
        FieldReport.objects.filter(incident=incident).select_related("verifier").order_by("created_at")
    )
    with transaction.atomic():
        audit(request.user, "incident.observations_read", incident)
    return render(
        request,
        "responders/observations/log.html",
        {
            "incident": incident,
            "field_reports": field_reports,
            "timeline": incident_timeline(incident),
            "evidence_count": Evidence.objects.filter(incident=incident).count(),
        },
    )
