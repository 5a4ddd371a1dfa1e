"""The simulated phone in a real browser: a text goes out and an alert arrives without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from vigil.accounts.models import User
from vigil.channels.models import SandboxMessage
from vigil.channels.sandbox import store_outgoing
from vigil.core.phones import phone_index
from vigil.incidents.tests.test_browser_board import browser_login

PHONE = "+13125550142"


@pytest.fixture
def sandbox_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_SANDBOX", "True")


@pytest.mark.browser
def test_a_simulated_phone_texts_and_then_receives_an_alert(
    sandbox_server_env: None, browser_page: Any, live_asgi: Any, dispatcher: User
) -> None:
    page = browser_page
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    browser_login(page, live_asgi, dispatcher)

    page.goto("/sandbox/")
    page.fill("input[name=phone]", "312 555 0142")
    page.click("text=Open this phone")
    page.wait_for_selector("text=No messages yet.")
    page.fill("textarea[name=body]", "HELP")
    page.click("text=Send text")
    page.wait_for_selector(".bubble.out >> text=text what you see")
    page.evaluate("window.vigilSamePage = true")

    store_outgoing("sms", PHONE, "ALERT Pilsen: confirmed ICE activity near 18th St.")

    page.wait_for_selector(".bubble.out >> text=confirmed ICE activity", timeout=10_000)
    assert page.evaluate("window.vigilSamePage") is True
    assert SandboxMessage.objects.filter(address_index=phone_index(PHONE)).count() == 3
    assert csp_errors == []
