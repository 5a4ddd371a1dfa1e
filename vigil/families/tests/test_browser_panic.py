"""Issue 5 end to end in a real browser: a neighbour makes her family plan on a phone-sized
screen in Spanish; when she is taken, the panic keyword from the simulated phone reaches her
contacts' simulated phones in their languages; the legal coordinator finds the new case,
records the facility and a hearing, and the hearing reminder arrives on the contacts' phones.

Messages are sent by the real sender (`manage.py send_deliveries`) in its own process over the
live test database, into the sandbox inboxes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from vigil.accounts.models import User
from vigil.alerts.tests.test_browser_alert import received, run_sender
from vigil.cases.models import Case, Facility, Hearing, OpenedFrom
from vigil.cases.reminders import send_due_reminders
from vigil.core.models import Chapter, Zone
from vigil.incidents.tests.test_browser_board import browser_login

ROSA = "+13125550941"
MARTA = "+13125550942"
JOHN = "+13125550943"


@pytest.fixture
def sandbox_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_SANDBOX", "True")


def open_phone(page: Any, phone: str) -> None:
    page.goto("/sandbox/")
    page.fill("input[name=phone]", phone)
    page.click("text=Open this phone")
    page.wait_for_selector("textarea[name=body]")


@pytest.mark.browser
@pytest.mark.slow  # ~25 s: a browser and two runs of the sender as its own process
def test_a_plan_made_in_spanish_on_a_phone_fires_by_text_and_the_legal_team_takes_the_case(
    sandbox_server_env: None,
    browser_page: Any,
    live_asgi: Any,
    chapter: Chapter,
    zone: Zone,
    legal_coordinator: User,
) -> None:
    page = browser_page
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    Facility.objects.create(chapter=chapter, name="Broadview Processing Center", operator="ICE")
    assert page.viewport_size["width"] <= 400

    # Rosa makes her plan in Spanish, on her phone, without an account.
    page.set_extra_http_headers({"Accept-Language": "es"})
    page.goto("/plan/")
    assert page.locator("html").get_attribute("lang") == "es"
    page.select_option("select[name=language]", "es")
    page.fill("input[name=name]", "Rosa Canary-Browser")
    page.fill("input[name=phone]", ROSA)
    page.fill("input[name=zip_code]", "60608")
    page.fill("input[name=c0-name]", "Marta")
    page.fill("input[name=c0-phone]", MARTA)
    page.select_option("select[name=c0-language]", "es")
    page.fill("textarea[name=c0-message]", "Marta: me detuvieron. Recoge a los ninos a las 3.")
    page.fill("input[name=c1-name]", "John")
    page.fill("input[name=c1-phone]", JOHN)
    page.select_option("select[name=c1-language]", "en")
    page.fill("textarea[name=c1-message]", "John: I was detained. Please call the legal team.")
    page.fill("textarea[name=children_pickup], input[name=children_pickup]", "Marta recoge a Lupe y Beto")
    page.fill("input[name=pin]", "2468")
    page.click("form.plan-form button[type=submit]")
    page.wait_for_selector("dd.code")
    code, pin = (text.strip() for text in page.locator("dd.code").all_inner_texts())
    assert code.isdigit() and pin == "2468"
    no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow, "the plan page is wider than the phone"

    # She is taken; from her phone she texts the panic keyword. (The simulated phones are a
    # staff tool: the legal coordinator, logged in, plays Rosa's and Marta's phones.)
    page.set_extra_http_headers({"Accept-Language": "en"})
    browser_login(page, live_asgi, legal_coordinator)
    open_phone(page, ROSA)
    page.fill("textarea[name=body]", f"DETENIDO {code}")
    page.click("text=Send text")
    page.wait_for_selector(".bubble.out")
    run_sender()
    texts = received()
    assert any("Recoge a los ninos" in t for t in texts)
    assert any("Please call the legal team" in t for t in texts)

    # Marta's phone shows her own message.
    open_phone(page, MARTA)
    page.wait_for_selector(".bubble.out >> text=Recoge a los ninos")

    # The legal coordinator finds the new case on the board and opens it.
    case = Case.objects.get(opened_from=OpenedFrom.PANIC)
    page.goto("/staff/cases/")
    row = page.locator("tr", has_text="Rosa Canary-Browser")
    row.locator(f"a:has-text('{case.label}')").click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")

    # She records where Rosa is held and the first hearing, three days out.
    page.click("text=Record where they are held")
    page.select_option("#detention-facility", label="Broadview Processing Center")
    page.click('form[action$="/detention/"] button[type=submit]')
    page.wait_for_selector("li >> text=Broadview Processing Center")
    hearing_at = timezone.localtime() + timedelta(days=3)
    page.click("text=Add a hearing")
    page.select_option("#hearing-kind", "master")
    page.fill("#hearing-court", "Chicago Immigration Court")
    page.fill("#hearing-at", hearing_at.strftime("%Y-%m-%dT%H:%M"))
    page.click('form[action$="/hearings/"] button[type=submit]')
    page.wait_for_selector("text=Chicago Immigration Court")
    case.refresh_from_db()
    assert case.current_facility is not None and case.current_facility.name == "Broadview Processing Center"
    assert Hearing.objects.filter(case=case).count() == 1

    # The worker's reminder job runs; the reminder reaches the family, with no personal data.
    before = len(received())
    assert send_due_reminders(timezone.now()) > 0
    run_sender()
    reminders = received()[before:]
    assert reminders and all(case.label in t for t in reminders)
    assert not any("Rosa" in t or "Broadview" in t for t in reminders)
    open_phone(page, MARTA)
    page.wait_for_selector(f".bubble.out >> text={case.label}")
    assert csp_errors == []
