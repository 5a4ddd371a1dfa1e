"""D1: every URL × every role answers as the checked-in matrix says (tests/route_matrix.json).

A URL missing from the matrix fails the suite: whoever adds a page decides who may see it.
Object routes are requested with an object of the Pilsen chapter, so the outsider (a
dispatcher of another chapter) must get 404 there, never 403.
Regenerate after a deliberate change with VIGIL_WRITE_ROUTE_MATRIX=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import login
from vigil.accounts.models import User

MATRIX = Path(__file__).with_name("route_matrix.json")
ROLES = ["anonymous", "volunteer", "verifier", "dispatcher", "legal", "organizer", "admin", "outsider"]
# Third-party routes we do not serve as pages of our own (allauth's JSON/API variants, static).
IGNORED = re.compile(r"^(static/|media/)")


def all_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found: list[str] = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(all_routes(pattern, route))
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return sorted({r for r in found if not IGNORED.match(r)})


def concrete_path(route: str, ids: dict[str, str]) -> str:
    path = route.lstrip("^").rstrip("$").replace("\\Z", "")

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        # "staff/zones/<int:pk>/|pk": an id for one route whose parameter name others share.
        return ids.get(f"{route}|{name}", ids.get(name, ids["default"]))

    path = re.sub(r"<(?:(\w+):)?(\w+)>", fill, path)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: ids.get(m.group(1), ids["default"]), path)
    return "/" + path


@pytest.fixture
def people(
    dispatcher: User,
    verifier: User,
    legal_coordinator: User,
    organizer: User,
    admin_user: User,
    outsider: User,
    volunteer: User,
) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "volunteer": volunteer,
        "verifier": verifier,
        "dispatcher": dispatcher,
        "legal": legal_coordinator,
        "organizer": organizer,
        "admin": admin_user,
        "outsider": outsider,
    }


@pytest.fixture
def object_ids(
    dispatcher: User,
    legal_coordinator: User,
    verifier: User,
    organizer: User,
    volunteer: User,
    zone: Any,
    settings: Any,
    tmp_path: Path,
) -> dict[str, str]:
    settings.MEDIA_ROOT = tmp_path
    from vigil.alerts.actions import send_alert
    from vigil.alerts.tests.alerting import approve_templates, confirmed_incident
    from vigil.incidents.actions import log_hotline_call  # noqa: F401  (connects clustering)
    from vigil.incidents.models import Incident
    from vigil.intake.actions import ReportInput, receive_report
    from vigil.responders.models import Assignment

    report = receive_report(ReportInput(channel="web", kind="home", zip_code="60608", details="route matrix"))
    incident = Incident.objects.get(links__report=report)
    approve_templates(organizer)
    confirmed = confirmed_incident(dispatcher, verifier)
    alert = send_alert(confirmed, "activity", acting_user=dispatcher)
    event, evidence = organizing_objects(incident, verifier)
    vale, rotation, override = roster_objects(volunteer, zone)
    # Vale accepted the page for the default incident: her /r/ pages for it answer 200.
    Assignment.objects.create(incident=incident, responder=vale, is_lead=True, accepted_at=incident.first_report_at)
    roster_routes = [r for r in all_routes() if r.startswith("staff/responders/<uuid:pk>/")]
    cases = case_objects(zone, legal_coordinator)
    return {
        **cases,
        **{f"{route}|pk": str(vale.pk) for route in roster_routes},
        "training_id": str(vale.trainings.get().pk),
        "zone_id": str(zone.pk),
        "staff/oncall/rotations/<int:pk>/|pk": str(rotation.pk),
        "staff/oncall/overrides/<int:pk>/remove/|pk": str(override.pk),
        "event_id": str(event.pk),
        "evidence_id": str(evidence.pk),
        "staff/alerts/new/<int:incident_id>/|incident_id": str(confirmed.pk),
        "kind": "activity",
        "language": "es",
        "alert_id": str(alert.pk),
        "ref": str(alert.pk),
        "staff/zones/<int:pk>/|pk": str(zone.pk),
        "default": str(incident.pk),
        "pk": str(incident.pk),
        "incident_id": str(incident.pk),
        "report_id": str(report.pk),
        "uuid": str(report.pk),
        "key": "x",
        "uidb36": "x",
    }


def case_objects(zone: Any, legal: User) -> dict[str, str]:
    """A Pilsen case nobody is assigned to (with a hearing, a deadline and an export the legal
    coordinator asked for), a published campaign with a supporter who asked for updates, and a
    family plan whose member consented."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from vigil.cases.actions import PersonInput, open_case
    from vigil.cases.campaigns import sign
    from vigil.cases.models import Campaign, Deadline, ExportRequest, Hearing
    from vigil.families.plans import ContactInput, PlanInput, create_plan, set_consent

    now = timezone.now()
    case = open_case(
        chapter_id=zone.chapter_id, opened_from="hotline", person=PersonInput(name="Matrix"), now=now, actor=legal
    )
    with transaction.atomic():
        hearing = Hearing.objects.create(case=case, court="Court", at=now + timedelta(days=9), kind="master")
        deadline = Deadline.objects.create(case=case, kind="stay", due_at=now + timedelta(days=2))
        export = ExportRequest.objects.create(
            case=case, format="csv", requested_by=legal, requested_at=now, approved_by=legal, approved_at=now
        )
        campaign = Campaign(case=case, slug="matrix-campaign", consent_at=now, published_at=now)
        campaign.title = "Free Matrix"
        campaign.save()
    campaign.case = case
    supporter = sign(campaign, name="", show_name=False, email="supporter@example.org", updates=True, now=now)
    plan, _code, _pin = create_plan(
        PlanInput(
            name="Matrix",
            zip_code="60608",
            contacts=[ContactInput(name="Tia", phone="+13125550199", language="es", message="hola")],
        ),
        now=now,
    )
    set_consent(plan.pk, True, now=now)
    return {
        "case_id": str(case.pk),
        "hearing_id": str(hearing.pk),
        "deadline_id": str(deadline.pk),
        "task_id": str(case.tasks.first().pk),  # type: ignore[union-attr]
        "export_id": str(export.pk),
        "slug": campaign.slug,
        "signature_id": str(supporter.pk),
        "plan_id": str(plan.pk),
    }


def roster_objects(volunteer: User, zone: Any) -> tuple[Any, Any, Any]:
    """Vale's roster entry, a rotation of Pilsen with her in it, and an override."""
    from datetime import timedelta

    from django.utils import timezone

    from vigil.responders.models import Responder, Rotation, RotationMember, Shift, ShiftKind

    now = timezone.now()
    vale = Responder.objects.get(user=volunteer)
    rotation = Rotation.objects.create(chapter=zone.chapter, zone=zone, name="Days", starts_at=now)
    RotationMember.objects.create(rotation=rotation, responder=vale, position=0)
    override = Shift.objects.create(
        chapter=zone.chapter,
        responder=vale,
        zone=zone,
        kind=ShiftKind.OVERRIDE,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=4),
        created_at=now,
    )
    return vale, rotation, override


def organizing_objects(incident: Any, uploader: User) -> tuple[Any, Any]:
    """A training of Pilsen and a photo from the scene (uploaded by the verifier)."""
    import hashlib
    import io
    from datetime import timedelta

    from django.utils import timezone
    from PIL import Image

    from vigil.organizing.models import Event
    from vigil.responders.evidence import store_evidence

    now = timezone.now()
    event = Event(
        chapter=incident.chapter,
        number=900,
        kind="training",
        training_role="verifier",
        title="Matrix training",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        created_at=now,
    )
    event.place = "Matrix hall"
    event.save()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    evidence = store_evidence(incident, data, hashlib.sha256(data).hexdigest(), caption="", acting_user=uploader)
    return event, evidence


def request_as(role: str, user: User | None, path: str, token: str | None) -> int:
    client = Client()
    if path.startswith("/api/"):
        # The API is for scripts: a personal token, and POST (empty JSON) for actions.
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status = client.get(path, headers=headers).status_code
        if status == 405:
            status = client.post(path, data="{}", content_type="application/json", headers=headers).status_code
        return status
    if user is not None:
        login(client, user)
    return client.get(path).status_code


def test_every_route_answers_every_role_as_the_matrix_says(db, people, object_ids):
    from vigil.accounts.actions import issue_api_token

    expected: dict[str, dict[str, int]] = json.loads(MATRIX.read_text()) if MATRIX.exists() else {}
    actual: dict[str, dict[str, int]] = {}
    tokens = {role: issue_api_token(user, "matrix", acting_user="test") for role, user in people.items() if user}
    for route in all_routes():
        path = concrete_path(route, object_ids)
        actual[route] = {role: request_as(role, people[role], path, tokens.get(role)) for role in ROLES}
    if os.environ.get("VIGIL_WRITE_ROUTE_MATRIX"):
        MATRIX.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    missing = sorted(set(actual) - set(expected))
    assert missing == [], f"routes missing from tests/route_matrix.json: {missing}"
    mismatches = {
        f"{route} as {role}": (expected[route].get(role), status)
        for route, statuses in actual.items()
        for role, status in statuses.items()
        if expected[route].get(role) != status
    }
    assert mismatches == {}
    assert not any(status >= 500 for statuses in actual.values() for status in statuses.values())


# Objects that belong to the whole network, not a chapter: a role may be refused with 403.
NETWORK_WIDE = {"staff/alerts/templates/<str:kind>/<str:language>/"}


def test_no_role_is_ever_refused_with_403_on_another_chapters_object(db, people, object_ids):
    matrix: dict[str, dict[str, int]] = json.loads(MATRIX.read_text())
    object_routes = [r for r in matrix if "<" in r and r not in NETWORK_WIDE]
    assert all(matrix[r]["outsider"] != 403 for r in object_routes)
