"""A volunteer on a phone-sized screen (390x844) answers a page and reports from the scene,
in Debian's chromium through the real ASGI server."""

from __future__ import annotations

import pytest

from vigil.incidents.models import FieldReport, Incident, Outcome, Status
from vigil.incidents.tests.test_browser_board import browser_login
from vigil.responders.models import Assignment, PageRecipient, Responder
from vigil.responders.tests.fixtures_mobile import ADDRESS, page_now, raid_reported, with_mfa


@pytest.mark.browser
def test_a_volunteer_accepts_a_page_on_the_phone_and_files_a_confirming_report(
    browser_page, live_asgi, ana: Responder
) -> None:
    page = browser_page
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    incident = page_now(raid_reported())
    assert ana.user is not None
    browser_login(page, live_asgi, with_mfa(ana.user))
    assert page.viewport_size == {"width": 390, "height": 844}

    page.goto("/r/")
    card = page.locator(f"#page-{incident.pk}")
    card.locator("input[name=eta]").fill("10")
    card.locator("button[value=accepted]").click()
    page.wait_for_url(f"**/r/incidents/{incident.pk}/")
    assert ADDRESS in page.inner_text("#what-was-reported")
    recipient = PageRecipient.objects.get(paging__incident=incident, responder=ana)
    assert recipient.eta_minutes == 10
    assert Assignment.objects.get(incident=incident, responder=ana).is_lead

    page.click("#on-scene")
    page.wait_for_selector("text=On scene noted")
    page.fill("#id_size", "6 agents, 2 vans")
    page.fill("#id_activity", "Knocking on doors")
    page.fill("#id_unit", "ICE")
    page.select_option("#id_outcome", Outcome.CONFIRMED.value)
    assert page.is_checked("#id_on_scene")
    page.click("#send-field-report")
    page.wait_for_selector("text=Field report sent")

    report = FieldReport.objects.get(incident=incident)
    assert (report.verifier_id, report.outcome, report.on_scene, report.size) == (
        ana.user.pk,
        Outcome.CONFIRMED,
        True,
        "6 agents, 2 vans",
    )
    assert Incident.objects.get(pk=incident.pk).status == Status.VERIFYING
    assert "You filed a field report" in page.inner_text("#my-steps")
    assert csp_errors == []
