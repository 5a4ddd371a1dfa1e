"""The board in a real browser, over the real ASGI server: a new report appears by itself."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from vigil.accounts.models import User
from vigil.accounts.signals import SESSION_STARTED
from vigil.incidents.models import IncidentReport
from vigil.incidents.tests.conftest import CICERO, PILSEN
from vigil.intake.actions import ReportInput, receive_report


def browser_login(page, server, user: User) -> None:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_STARTED] = int(time.time())
    session.create()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": server.url}])


@pytest.mark.browser
def test_a_new_report_appears_on_the_open_board_without_a_reload(browser_page, live_asgi, dispatcher, zone, other_zone):
    page = browser_page
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    first = receive_report(ReportInput(channel="web", kind="home", latitude=PILSEN[0], longitude=PILSEN[1]))
    browser_login(page, live_asgi, dispatcher)

    page.goto("/staff/")
    first_id = IncidentReport.objects.get(report=first).incident_id
    page.wait_for_selector(f"#incident-{first_id}")
    page.wait_for_selector('[data-live="open"]:not([hidden])', timeout=10_000)
    page.evaluate("window.vigilSamePage = true")

    elsewhere = receive_report(ReportInput(channel="sms", kind="checkpoint", latitude=CICERO[0], longitude=CICERO[1]))
    second = receive_report(
        ReportInput(channel="hotline", kind="workplace", zip_code="60608", details="<b>bold</b> claim"),
        entered_by=dispatcher,
    )
    second_id = IncidentReport.objects.get(report=second).incident_id
    assert second_id != first_id

    row = page.wait_for_selector(f"#incident-{second_id}", timeout=10_000)
    assert "Raid at a workplace" in row.inner_text()
    assert page.evaluate("window.vigilSamePage") is True
    assert page.locator(f"#incident-{first_id}").count() == 1
    other_id = IncidentReport.objects.get(report=elsewhere).incident_id
    assert page.locator(f"#incident-{other_id}").count() == 0
    assert csp_errors == []


@pytest.mark.browser
def test_a_dispatcher_claims_an_incident_from_its_page(browser_page, live_asgi, dispatcher, zone, other_zone):
    page = browser_page
    report = receive_report(ReportInput(channel="web", kind="home", latitude=PILSEN[0], longitude=PILSEN[1]))
    incident_id = IncidentReport.objects.get(report=report).incident_id
    browser_login(page, live_asgi, dispatcher)

    page.goto(f"/staff/incidents/{incident_id}/")
    page.click("text=Claim this incident")

    page.wait_for_selector("text=You have claimed this incident.")
    assert page.url.endswith(f"/staff/incidents/{incident_id}/")


@pytest.mark.browser
def test_the_dispatchers_pages_fit_a_phone(browser_page: Any, live_asgi: Any, zone: Any, dispatcher: User) -> None:
    """A dispatcher at 3 a.m. may only have a phone: the board, on-call and roster pages keep
    their wide tables scrolling inside themselves, never the page."""
    receive_report(ReportInput(channel="web", kind="home", latitude=PILSEN[0], longitude=PILSEN[1]))
    page = browser_page
    browser_login(page, live_asgi, dispatcher)
    for path in ("/staff/", "/staff/oncall/", "/staff/responders/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], path
