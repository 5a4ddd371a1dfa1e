"""The case board on the legal coordinator's phone (390 px, a real Chromium): each case is a
card that says what each line is, and nothing is wider than the screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from vigil.accounts.models import User
from vigil.cases.tests.core_fixtures import open_case
from vigil.cases.tests.test_board import add_hearing
from vigil.core.models import Chapter
from vigil.incidents.tests.test_browser_board import browser_login


@pytest.mark.browser
def test_the_case_board_fits_a_phone_as_cards(
    browser_page: Any, live_asgi: Any, chapter: Chapter, legal_coordinator: User
) -> None:
    page = browser_page
    for n in range(3):
        case = open_case(chapter, legal_coordinator, name=f"Persona Número {n} con un nombre bastante largo")
        add_hearing(case, timezone.now() + timedelta(days=n + 1))
    browser_login(page, live_asgi, legal_coordinator)

    page.goto("/staff/cases/")

    assert page.viewport_size["width"] <= 400
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    first = page.locator("table.case-board tbody tr").first
    assert first.evaluate("row => getComputedStyle(row).display") == "block"
    label = first.locator("td").nth(1).evaluate("cell => getComputedStyle(cell, '::before').content")
    assert "Person" in label
    # A case's page too: its wide tables (checklist, hearings) scroll on their own.
    page.goto(f"/staff/cases/{case.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
