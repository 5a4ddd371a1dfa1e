"""The whole verification loop in a real browser, as the issue tells it: a new report appears on
the board, the on-call verifier's (simulated) phone receives the page, she accepts by text and
reports from the scene, and the dispatcher confirms and sends the alert.

The page and the alert are sent by the real sender (`manage.py send_deliveries`) in its own
process over the live test database, into the sandbox inboxes.
"""

from __future__ import annotations

from typing import Any

import pytest

from vigil.accounts.models import User
from vigil.alerts.bulk import add_subscribers
from vigil.alerts.models import Alert
from vigil.alerts.tests.alerting import approve_templates
from vigil.alerts.tests.test_browser_alert import received, run_sender
from vigil.core.models import Chapter, Zone
from vigil.incidents.models import IncidentReport, Status
from vigil.incidents.tests.test_browser_board import browser_login
from vigil.intake.actions import ReportInput, receive_report
from vigil.responders.models import Assignment, Paging
from vigil.responders.tests.conftest import PILSEN, make_responder, phone_of, put_on_call


@pytest.fixture
def sandbox_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_SANDBOX", "True")


def text_from_the_phone(page: Any, body: str) -> None:
    page.fill("textarea[name=body]", body)
    page.click("text=Send text")


@pytest.mark.browser
@pytest.mark.slow  # ~20 s: a browser and two runs of the sender as its own process
def test_a_report_pages_the_on_call_verifier_who_accepts_reports_and_the_dispatcher_sends_the_alert(
    sandbox_server_env: None,
    browser_page: Any,
    live_asgi: Any,
    chapter: Chapter,
    zone: Zone,
    dispatcher: User,
    organizer: User,
) -> None:
    page = browser_page
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    approve_templates(organizer)
    add_subscribers(chapter, [zone], 4)
    rosa = make_responder(chapter, 11, language="es", home_zones=[zone])
    put_on_call(rosa, zone)
    browser_login(page, live_asgi, dispatcher)
    page.goto("/staff/")
    page.wait_for_selector('[data-live="open"]:not([hidden])', timeout=10_000)

    # A neighbour reports; the board shows it live, with the page's countdown.
    report = receive_report(
        ReportInput(
            channel="web",
            kind="home",
            latitude=PILSEN[0],
            longitude=PILSEN[1],
            details="Agents knocking at the blue house, two vans",
            address="1849 S Throop St",
        )
    )
    incident = IncidentReport.objects.get(report=report).incident
    page.wait_for_selector(f"#incident-{incident.pk}", timeout=10_000)
    page.wait_for_selector(f"#paging-{incident.pk} [data-deadline]", timeout=15_000)

    # The page goes out to Rosa's phone: in Spanish, with no address and no details.
    run_sender()
    pages = received()
    assert len(pages) == 1 and f"#{incident.pk}" in pages[0] and "zona Pilsen" in pages[0]
    assert "Throop" not in pages[0] and "blue house" not in pages[0]

    # From her (simulated) phone she accepts with an ETA, arrives, and reports what she sees.
    page.goto("/sandbox/")
    page.fill("input[name=phone]", phone_of(11))
    page.click("text=Open this phone")
    page.wait_for_selector(f".bubble.out >> text=Vigil #{incident.pk}")
    text_from_the_phone(page, "si 10")
    page.wait_for_selector(f".bubble.out >> text=Usted dirige #{incident.pk}")
    text_from_the_phone(page, "3")
    page.wait_for_selector(f".bubble.out >> text=Llegada a #{incident.pk} anotada")
    text_from_the_phone(page, "INFORME 1 S 6 agentes; A tocando puertas; U ICE; E 2 camionetas")
    page.wait_for_selector(f".bubble.out >> text=Informe de campo de #{incident.pk} guardado")
    paging = Paging.objects.get(incident=incident)
    assert paging.lead_id == rosa.pk and paging.deadline is None
    assert Assignment.objects.get(incident=incident).eta_at is not None

    # The dispatcher sees the lead and the confirming field report, confirms and sends the alert.
    page.goto(f"/staff/incidents/{incident.pk}/")
    page.wait_for_selector('#latest-outcome >> text="Confirmed: enforcement seen"')
    assert "Volunteer 11" in page.inner_text("#paging-lead")
    page.select_option("select[name=t-to_status]", Status.CONFIRMED.value)
    page.fill("#status [name=t-reason]", "Our verifier is on scene and saw ICE at the door.")
    page.click("#status button[type=submit]")
    page.wait_for_selector("#send-alert")
    incident.refresh_from_db()
    assert incident.status == Status.CONFIRMED
    page.click("#send-alert")
    page.select_option("select[name=kind]", "activity")
    page.click("text=Show the text and recipients")
    page.click("#review-send")
    page.click("#confirm-send")
    page.wait_for_selector("#alert-progress")
    alert = Alert.objects.get()
    assert alert.recipients == 4

    run_sender()

    page.wait_for_selector('#alert-progress[data-percent="100"]', timeout=15_000)
    assert csp_errors == []
