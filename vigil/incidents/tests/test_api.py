from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.accounts.actions import issue_api_token
from vigil.accounts.models import Role, User
from vigil.core.models import AuditEvent
from vigil.incidents.models import EventKind, FieldReport, Incident, Status
from vigil.incidents.tests.conftest import CICERO, FAR_AWAY, incident_of
from vigil.intake.models import Report

API = "/api/v1"


class Api:
    """A client speaking to the API with one persona's token."""

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.token = issue_api_token(user, "tests", acting_user=user)

    def get(self, path: str) -> Any:
        return self.client.get(API + path, headers={"authorization": f"Bearer {self.token}"})

    def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None, content_type: str = "") -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            API + path,
            data=data,
            content_type=content_type or "application/json",
            headers={"authorization": f"Bearer {self.token}"},
        )


@pytest.fixture
def dispatcher_api(dispatcher):
    return Api(dispatcher)


@pytest.fixture
def verifier_api(verifier):
    return Api(verifier)


@pytest.fixture
def outsider_api(outsider):
    return Api(outsider)


@pytest.fixture
def pilsen_incident(report_from) -> Incident:
    return incident_of(report_from("web", source="ip-1", details="Two vans at the bakery"))


def test_without_a_valid_token_the_api_answers_401(pilsen_incident):
    assert Client().get(f"{API}/incidents").status_code == 401
    bad = Client().get(f"{API}/incidents", headers={"authorization": "Bearer vgl_not-a-real-token"})
    assert bad.status_code == 401


def test_the_openapi_schema_lists_every_board_action(dispatcher_api):
    paths = dispatcher_api.get("/openapi.json").json()["paths"]

    for path in [
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/incidents/{incident_id}/claim",
        "/api/v1/incidents/{incident_id}/release",
        "/api/v1/incidents/{incident_id}/transition",
        "/api/v1/incidents/{incident_id}/merge",
        "/api/v1/incidents/{incident_id}/split",
        "/api/v1/incidents/{incident_id}/field-reports",
        "/api/v1/hotline-calls",
    ]:
        assert path in paths


def test_the_board_lists_open_incidents_of_my_chapter(dispatcher_api, pilsen_incident, report_from):
    report_from("web", source="ip-2", at=CICERO)

    rows = dispatcher_api.get("/incidents").json()

    assert [row["id"] for row in rows] == [pilsen_incident.pk]
    assert rows[0]["zone"] == "Pilsen"
    assert rows[0]["channels"] == ["web"]
    assert rows[0]["waiting_too_long"] is False


def test_the_detail_shows_reports_without_contact_fields(dispatcher_api, report_from):
    report = report_from("sms", source="phone-1", contact_phone="(312) 555-0100", details="ICE at the church")
    incident = incident_of(report)

    detail = dispatcher_api.get(f"/incidents/{incident.pk}").json()

    assert detail["corroboration"] == {"on_scene": False, "independent_sources": 1, "satisfied": False}
    (shown,) = detail["reports"]
    assert shown["details"] == "ICE at the church"
    assert shown["has_contact"] is True
    body = json.dumps(detail)
    # The number's digits as any format would show them ("555" alone turns up in random UUIDs).
    for secret in (
        "5550100",
        "555-0100",
        "555 0100",
        "contact_phone",
        "contact_index",
        "source_hash",
        report.source_hash,
    ):
        assert secret not in body
    assert [e["kind"] for e in detail["timeline"]] == [EventKind.CREATED]


def test_the_outsider_gets_404_for_pilsen_incidents(outsider_api, pilsen_incident):
    missing = outsider_api.get("/incidents/999999")
    hidden = outsider_api.get(f"/incidents/{pilsen_incident.pk}")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    for action, body in [
        ("claim", {}),
        ("release", {}),
        ("transition", {"to_status": "closed", "reason": "Not mine"}),
        ("split", {"report_ids": [str(Report.objects.get().pk)], "reason": "x"}),
        ("field-reports", {"outcome": "confirmed"}),
    ]:
        assert outsider_api.post(f"/incidents/{pilsen_incident.pk}/{action}", body).status_code == 404, action
    pilsen_incident.refresh_from_db()
    assert (pilsen_incident.status, pilsen_incident.claimed_by) == (Status.NEW, None)


def test_the_outsider_cannot_merge_a_pilsen_incident_into_their_own(outsider_api, pilsen_incident, report_from):
    cicero = incident_of(report_from("web", source="ip-2", at=CICERO))

    response = outsider_api.post(f"/incidents/{cicero.pk}/merge", {"source_ids": [pilsen_incident.pk], "reason": "x"})

    assert response.status_code == 404
    assert Incident.objects.get(pk=pilsen_incident.pk).report_count == 1


@pytest.mark.parametrize("incident_id", ["0", "-1", "9223372036854775808", "99999999999999999999999", "abc"])
def test_odd_incident_ids_are_4xx_not_500(dispatcher_api, incident_id):
    assert dispatcher_api.get(f"/incidents/{incident_id}").status_code in (404, 422)


def test_a_second_claim_gets_409(dispatcher_api, organizer, pilsen_incident):
    first = dispatcher_api.post(f"/incidents/{pilsen_incident.pk}/claim")
    second = Api(organizer).post(f"/incidents/{pilsen_incident.pk}/claim")

    assert first.status_code == 200
    assert first.json() == {"claimed": True, "claimed_by": "dana.dispatcher"}
    assert second.status_code == 409
    assert "already claimed" in second.json()["detail"]
    assert dispatcher_api.post(f"/incidents/{pilsen_incident.pk}/release").status_code == 200
    assert dispatcher_api.post(f"/incidents/{pilsen_incident.pk}/release").status_code == 409


def test_confirming_a_single_anonymous_report_gets_409(dispatcher_api, pilsen_incident):
    response = dispatcher_api.post(
        f"/incidents/{pilsen_incident.pk}/transition", {"to_status": "confirmed", "reason": "Sounds real"}
    )

    assert response.status_code == 409
    assert "independent sources" in response.json()["detail"]
    assert Incident.objects.get(pk=pilsen_incident.pk).status == Status.NEW


def test_a_dispatcher_confirms_two_independent_reports(dispatcher_api, pilsen_incident, report_from):
    report_from("sms", source="phone-2")

    response = dispatcher_api.post(
        f"/incidents/{pilsen_incident.pk}/transition", {"to_status": "confirmed", "reason": "Two neighbours"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert AuditEvent.objects.filter(action="incident.status.confirmed").count() == 1


def test_an_invalid_transition_gets_409_and_a_missing_reason_422(dispatcher_api, pilsen_incident):
    url = f"/incidents/{pilsen_incident.pk}/transition"

    assert dispatcher_api.post(url, {"to_status": "new", "reason": "x"}).status_code == 409
    assert dispatcher_api.post(url, {"to_status": "closed", "reason": "  "}).status_code == 422
    assert dispatcher_api.post(url, {"to_status": "closed"}).status_code == 422
    assert dispatcher_api.post(url, {"to_status": "raided", "reason": "x"}).status_code == 422


def test_a_verifier_may_start_verifying_but_gets_403_confirming(verifier_api, pilsen_incident):
    url = f"/incidents/{pilsen_incident.pk}/transition"

    assert verifier_api.post(url, {"to_status": "verifying", "reason": "On my way"}).status_code == 200
    assert verifier_api.post(url, {"to_status": "confirmed", "reason": "Looks real"}).status_code == 403
    assert verifier_api.post(f"/incidents/{pilsen_incident.pk}/claim").status_code == 403


def test_a_verifier_files_a_field_report(verifier_api, verifier, pilsen_incident):
    response = verifier_api.post(
        f"/incidents/{pilsen_incident.pk}/field-reports",
        {
            "on_scene": True,
            "size": "6 agents",
            "activity": "Questioning people at the bus stop",
            "location": "Corner of 18th and Loomis",
            "unit": "Border Patrol",
            "observed_time": "08:15",
            "equipment": "Tactical vests",
            "outcome": "confirmed",
            "notes": "Left at 08:40",
            "verifier": 1,
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["verifier"] == verifier.username
    assert FieldReport.objects.get().location == "Corner of 18th and Loomis"
    assert Incident.objects.get(pk=pilsen_incident.pk).status == Status.VERIFYING
    detail = verifier_api.get(f"/incidents/{pilsen_incident.pk}").json()
    assert detail["corroboration"]["satisfied"] is True
    assert detail["field_reports"][0]["unit"] == "Border Patrol"


def test_merge_and_split_through_the_api(dispatcher_api, pilsen_incident, report_from):
    elsewhere = incident_of(report_from("sms", source="phone-2", at=FAR_AWAY))

    merged = dispatcher_api.post(
        f"/incidents/{pilsen_incident.pk}/merge", {"source_ids": [elsewhere.pk], "reason": "Same raid"}
    )
    assert merged.status_code == 200
    assert merged.json()["report_count"] == 2
    assert Incident.objects.get(pk=elsewhere.pk).status == Status.CLOSED

    sms_report = Report.objects.get(channel="sms")
    split = dispatcher_api.post(
        f"/incidents/{pilsen_incident.pk}/split", {"report_ids": [str(sms_report.pk)], "reason": "Not the same"}
    )
    assert split.status_code == 201
    assert split.json()["report_count"] == 1
    assert split.json()["channels"] == ["sms"]


def test_a_dispatcher_logs_a_hotline_call_that_clusters_with_web_reports(dispatcher_api, dispatcher, pilsen_incident):
    response = dispatcher_api.post(
        "/hotline-calls",
        {"kind": "workplace", "latitude": 41.8575, "longitude": -87.66, "details": "Caller saw vans", "language": "es"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["incident_id"] == pilsen_incident.pk
    report = Report.objects.get(pk=response.json()["report_id"])
    assert (report.channel, report.entered_by, report.language) == ("hotline", dispatcher, "es")


def test_a_verifier_cannot_log_hotline_calls(verifier_api):
    assert verifier_api.post("/hotline-calls", {"zip_code": "60608"}).status_code == 403
    assert not Report.objects.exists()


def test_extra_fields_posted_are_ignored(dispatcher_api, dispatcher, chapter, other_chapter, pilsen_incident):
    """SECURITY-TESTS D3."""
    extra = {
        "role": Role.ADMIN,
        "is_staff": True,
        "is_superuser": True,
        "verified": True,
        "status": "confirmed",
        "chapter": other_chapter.pk,
        "chapter_id": other_chapter.pk,
        "decided_by": 1,
        "entered_by": None,
        "source_hash": "x" * 40,
    }
    dispatcher_api.post(f"/incidents/{pilsen_incident.pk}/claim", extra)
    dispatcher_api.post(
        f"/incidents/{pilsen_incident.pk}/transition", {"to_status": "verifying", "reason": "Going", **extra}
    )
    call = dispatcher_api.post("/hotline-calls", {"zip_code": "60608", **extra})

    dispatcher.refresh_from_db()
    assert (dispatcher.role, dispatcher.is_staff, dispatcher.is_superuser) == (Role.DISPATCHER, False, False)
    pilsen_incident.refresh_from_db()
    assert pilsen_incident.status == Status.VERIFYING
    assert pilsen_incident.chapter == chapter
    report = Report.objects.get(pk=call.json()["report_id"])
    assert (report.chapter, report.entered_by, report.source_hash) == (chapter, dispatcher, "")
    assert incident_of(report).status != Status.CONFIRMED


BAD_BODIES: list[tuple[str, bytes | str, str]] = [
    ("empty", b"", "application/json"),
    ("not json", b"{not json", "application/json"),
    ("invalid utf-8", b'{"reason": "\xff\xfe", "to_status": "closed"}', "application/json"),
    ("a list", b"[1, 2, 3]", "application/json"),
    ("a string", b'"closed"', "application/json"),
    ("null", b"null", "application/json"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("NUL in text", json.dumps({"to_status": "closed", "reason": "a\u0000b"}), "application/json"),
    ("lone surrogate", '{"to_status": "closed", "reason": "\\ud800"}', "application/json"),
    ("1 MB reason", json.dumps({"to_status": "closed", "reason": "x" * 1_000_000}), "application/json"),
    ("10k fields", json.dumps({f"f{n}": n for n in range(10_000)}), "application/json"),
    ("form encoded", "to_status=closed&reason=x", "application/x-www-form-urlencoded"),
    ("NaN", b'{"to_status": "closed", "reason": NaN}', "application/json"),
    ("wrong types", json.dumps({"to_status": ["closed"], "reason": {"a": 1}}), "application/json"),
]

POST_PATHS = ["transition", "merge", "split", "field-reports", "claim"]


@pytest.mark.parametrize(("name", "body", "content_type"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_hostile_bodies_get_a_clear_4xx(dispatcher_api, pilsen_incident, name, body, content_type):
    for action in POST_PATHS:
        response = dispatcher_api.post(f"/incidents/{pilsen_incident.pk}/{action}", raw=body, content_type=content_type)
        assert response.status_code < 500, (action, response.status_code)
        if action != "claim":
            assert 400 <= response.status_code < 500, (action, response.status_code)
            assert response.json()["detail"]
    response = dispatcher_api.post("/hotline-calls", raw=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert not Report.objects.filter(channel="hotline").exists()
    assert Incident.objects.get(pk=pilsen_incident.pk).status == Status.NEW


@pytest.mark.parametrize(
    "body",
    [
        {"latitude": 1e308, "longitude": 0},
        {"zip_code": "6060"},
        {"agents_count": 10**30},
        {"observed_at": "yesterday"},
        {"caller_phone": "not a phone"},
        {"kind": "riot"},
        {"details": "x" * 5001},
        {},
        {"latitude": 41.85},
    ],
)
def test_bad_hotline_calls_get_422(dispatcher_api, body):
    response = dispatcher_api.post("/hotline-calls", body)

    assert response.status_code == 422
    assert not Report.objects.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["to_status", "reason", "source_ids", "report_ids", "outcome", "on_scene", "unit", "zip_code", "latitude"]
    + ["longitude", "details", "kind", "caller_phone", "observed_at", "agents_count"]
)
bodies = st.dictionaries(field_names, json_values, max_size=6) | json_values


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, action=st.sampled_from(["transition", "merge", "split", "field-reports", "hotline-calls"]))
def test_generated_bodies_never_get_a_5xx(dispatcher_api, pilsen_incident, body, action):
    path = "/hotline-calls" if action == "hotline-calls" else f"/incidents/{pilsen_incident.pk}/{action}"
    response = dispatcher_api.post(path, body)

    assert response.status_code < 500, response.content[:300]
