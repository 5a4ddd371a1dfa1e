"""The dispatcher board and its live stream, through the HTTP interface the browser uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import login
from vigil.core.models import Zone
from vigil.incidents import sse
from vigil.incidents.tests.conftest import CICERO, PILSEN, age_incident, incident_of

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def spread(n: int) -> tuple[float, float]:
    """Points ~3 km apart around Pilsen: each report opens its own incident."""
    return PILSEN[0] + (n % 5) * 0.03, PILSEN[1] + (n // 5) * 0.04


def take(stream: Any, *steps: int | Callable[[], object]) -> list[list[str]]:
    """Read the stream in one event loop: an int takes that many parts, a callable runs in between.

    (Each async_to_sync call has its own loop, which closes the generators it started.)
    """

    async def run() -> list[list[str]]:
        iterator = aiter(stream)
        taken: list[list[str]] = []
        for step in steps:
            if callable(step):
                await sync_to_async(step)()
                continue
            parts: list[str] = []
            for _ in range(step):
                try:
                    parts.append((await anext(iterator)).decode())
                except StopAsyncIteration:
                    break
            taken.append(parts)
        return taken

    return async_to_sync(run)()


def test_the_board_lists_open_incidents_of_the_dispatchers_chapter_only(as_dispatcher, report_from):
    ours = incident_of(report_from("web", kind="home"))
    theirs = incident_of(report_from("sms", at=CICERO, kind="checkpoint"))

    response = as_dispatcher.get("/staff/")

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="incident-{ours.pk}"' in body
    assert f'id="incident-{theirs.pk}"' not in body
    assert "Pilsen" in body
    assert 'hx-ext="sse"' in body and 'sse-connect="/staff/board/stream"' in body and 'sse-swap="board"' in body


def test_the_board_shows_who_claimed_and_which_channels(as_dispatcher, dispatcher, report_from):
    from vigil.incidents.actions import claim_incident

    incident = incident_of(report_from("web"))
    report_from("sms")
    claim_incident(incident, acting_user=dispatcher)

    body = as_dispatcher.get("/staff/").content.decode()

    assert "dana.dispatcher" in body
    assert "Text message, Web form" in body


def test_an_incident_waiting_too_long_is_highlighted(as_dispatcher, report_from):
    fresh = incident_of(report_from("web", at=spread(0)))
    late = incident_of(report_from("web", at=spread(7)))
    age_incident(late, 45)

    body = as_dispatcher.get("/staff/").content.decode()

    assert f'<tr id="incident-{late.pk}" class="late">' in body
    assert f'<tr id="incident-{fresh.pk}" class="">' in body


def test_the_board_query_count_does_not_grow_with_incidents(client, dispatcher, report_from, zone):
    login(client, dispatcher)
    report_from("web", at=spread(0))
    client.get("/staff/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/staff/").status_code == 200
    for n in range(1, 15):
        report_from("web" if n % 2 else "sms", at=spread(n))
    Zone.objects.create(chapter=zone.chapter, name="Little Village", zip_codes=["60623"])

    with CaptureQueriesContext(connection) as many:
        body = client.get("/staff/").content.decode()

    assert body.count('<tr id="incident-') == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_free_text_is_escaped_on_the_board(as_dispatcher, report_from, zone):
    Zone.objects.filter(pk=zone.pk).update(name=XSS)
    report_from("web", details=XSS, address=XSS)

    body = as_dispatcher.get("/staff/").content.decode()

    assert XSS not in body
    assert "&lt;script&gt;" in body


@pytest.mark.parametrize("path", ["/staff/", "/staff/board/stream", "/staff/map", "/staff/calls/new"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(neighbour, path):
    response = neighbour.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_legal_coordinator_sees_no_incidents_and_gets_no_stream(client, legal_coordinator, report_from):
    incident = incident_of(report_from("web"))
    login(client, legal_coordinator)

    board = client.get("/staff/")

    assert board.status_code == 200
    assert f"incident-{incident.pk}" not in board.content.decode()
    assert "sse-connect" not in board.content.decode()
    assert client.get("/staff/board/stream").status_code == 403


# --- the live stream --------------------------------------------------------------------


def test_the_stream_is_an_uncached_event_stream_that_starts_with_the_rows(as_dispatcher, report_from):
    incident = incident_of(report_from("web", details=XSS))

    response = as_dispatcher.get("/staff/board/stream")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Accel-Buffering"] == "no"
    [[retry, first]] = take(response.streaming_content, 2)
    assert retry.startswith("retry: ")
    assert first.startswith("event: board\ndata: ")
    assert first.endswith("\n\n")
    assert all(line.startswith("data: ") for line in first.strip().splitlines()[1:])
    assert f'id="incident-{incident.pk}"' in first
    assert XSS not in first


def test_the_stream_sends_the_new_rows_when_a_report_arrives(as_dispatcher, report_from, monkeypatch):
    monkeypatch.setattr(sse, "POLL_SECONDS", 0.01)
    first = incident_of(report_from("web", at=spread(0)))
    response = as_dispatcher.get("/staff/board/stream")
    created = []

    [_, [event]] = take(response.streaming_content, 2, lambda: created.append(report_from("sms", at=spread(9))), 1)

    second = incident_of(created[0])

    assert event.startswith("event: board\n")
    assert f'id="incident-{first.pk}"' in event
    assert f'id="incident-{second.pk}"' in event


def test_the_stream_sends_keep_alives_and_stops_when_the_session_ends(as_dispatcher, report_from, monkeypatch):
    monkeypatch.setattr(sse, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(sse, "KEEPALIVE_SECONDS", 0.02)
    report_from("web")
    response = as_dispatcher.get("/staff/board/stream")

    _, [beat], after_logout = take(response.streaming_content, 2, 1, as_dispatcher.logout, 5)

    assert beat == ": keep-alive\n\n"
    assert after_logout == []


def test_the_stream_of_another_chapter_never_carries_our_incidents(client, outsider, report_from):
    ours = incident_of(report_from("web"))
    login(client, outsider)

    response = client.get("/staff/board/stream")
    [[_, first]] = take(response.streaming_content, 2)

    assert f"incident-{ours.pk}" not in first


def test_a_stream_event_keeps_every_line_of_the_html_as_data():
    event = sse.sse_event("board", "<tr>\n<td>1</td>\n</tr>\n")

    assert event == "event: board\ndata: <tr>\ndata: <td>1</td>\ndata: </tr>\n\n"


_ = Client


def test_the_stream_renders_in_the_dispatchers_language(as_dispatcher, report_from, monkeypatch):
    seen: list[str] = []

    def rows(user, language):
        seen.append(language)
        return "v", "<tr></tr>"

    monkeypatch.setattr(sse, "_board_rows", rows)
    report_from("web")

    response = as_dispatcher.get("/staff/board/stream", headers={"accept-language": "es"})
    take(response.streaming_content, 2)

    assert seen == ["es"]
