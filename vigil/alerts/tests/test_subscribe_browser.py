"""A neighbour subscribes on /subscribe/ in Spanish from a phone-sized Chromium and confirms the code."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from django.db import connections

from vigil.alerts.models import Subscriber, SubscriberStatus
from vigil.channels.models import SandboxMessage
from vigil.channels.sender import Sender
from vigil.core.phones import phone_index

pytestmark = pytest.mark.browser


def send_pending() -> None:
    """The sender in its own thread: Playwright's event loop owns this one."""

    def run() -> None:
        try:
            asyncio.run(Sender().run(idle_wait=0.1, until_idle=True))
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()


def test_subscribing_in_spanish_by_phone_with_the_code_from_the_sandbox_inbox(browser_page, zone, settings):
    page = browser_page
    page.goto("/subscribe/")
    page.click("form.lang button[value=es]")
    page.wait_for_selector("html[lang=es]")
    # subscribe.js shows only the chosen channel's field (once it has run: wait, don't race it).
    page.wait_for_selector("#email-field", state="hidden")

    page.check(f"input[name=zones][value='{zone.pk}']")
    assert page.input_value("select[name=language]") == "es"
    page.fill("input[name=phone]", "(312) 555-0188")
    page.click("#subscribe-send")
    page.wait_for_selector("input[name=code]")

    # The sender (the worker's job) hands the code to the sandbox transport: the in-app phone.
    settings.SANDBOX = True
    send_pending()
    (received,) = SandboxMessage.objects.filter(address_index=phone_index("+13125550188"), direction="out")
    code = re.search(r"\b(\d{6})\b", str(received.body))
    assert code

    page.fill("input[name=code]", code.group(1))
    page.click("#code-send")
    page.wait_for_selector("#subscribed")
    assert "Pilsen" in page.inner_text("#subscribed")

    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.language == "es"
