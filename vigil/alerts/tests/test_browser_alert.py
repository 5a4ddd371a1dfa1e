"""The whole alert in a real browser: a dispatcher sends it, watches it reach 100% while sandbox
phones receive it in English and Spanish, then sends the all-clear to the same phones.

The sending is done by the real sender (`manage.py send_deliveries`) in its own process over
the live test database, with the sandbox channel instead of a provider.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests import live
from vigil.alerts.bulk import add_subscribers
from vigil.alerts.models import Alert, AlertKind
from vigil.alerts.tests.alerting import approve_templates, confirmed_incident
from vigil.channels.models import SandboxMessage
from vigil.incidents.tests.test_browser_board import browser_login


def run_sender() -> None:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "vigil.settings_test",
            "DATABASE_URL": live.test_database_url(),
            "VIGIL_SANDBOX": "True",
        }
    )
    env.pop("VIGIL_TEST_DATABASE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "send_deliveries", "--until-idle", "--idle", "0.2"],
        cwd=live.ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]


def received() -> list[str]:
    return [str(m.body) for m in SandboxMessage.objects.filter(direction=SandboxMessage.Direction.OUT).order_by("at")]


@pytest.mark.browser
@pytest.mark.slow  # ~12 s: a browser, and two runs of the sender as its own process
def test_a_dispatcher_sends_an_alert_watches_it_arrive_then_sends_the_all_clear(
    browser_page, live_asgi, chapter, zone, dispatcher, verifier, organizer
):
    page = browser_page
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    approve_templates(organizer)
    incident = confirmed_incident(dispatcher, verifier)
    add_subscribers(chapter, [zone], 6)
    browser_login(page, live_asgi, dispatcher)

    page.goto(f"/staff/incidents/{incident.pk}/")
    page.click("#send-alert")
    page.select_option("select[name=kind]", AlertKind.ACTIVITY.value)
    page.click("text=Show the text and recipients")
    assert "6 recipients" in page.inner_text("#recipient-total")
    assert "Actividad de inmigracion confirmada en Pilsen" in page.content()
    page.click("#review-send")
    page.click("#confirm-send")
    page.wait_for_selector("#alert-progress")
    alert = Alert.objects.get(follows__isnull=True)
    assert page.url.endswith(f"/staff/alerts/{alert.pk}/")
    assert page.inner_text("#count-pending") == "6"

    run_sender()

    page.wait_for_selector('#alert-progress[data-percent="100"]', timeout=15_000)
    assert page.inner_text("#count-recipients") == "6"
    assert page.inner_text("#count-pending") == "0"
    bodies = received()
    assert len(bodies) == 6
    assert sum("Immigration enforcement confirmed in Pilsen" in b for b in bodies) == 3
    assert sum("Actividad de inmigracion confirmada en Pilsen" in b for b in bodies) == 3

    add_subscribers(chapter, [zone], 2, start=100)  # joined after the alert: not in the all-clear
    page.click("#follow-up-all_clear")
    page.click("#confirm-follow-up-send")
    page.wait_for_selector("#alert-progress")
    follow_up = Alert.objects.get(follows=alert)
    assert follow_up.kind == AlertKind.ALL_CLEAR and follow_up.recipients == 6

    run_sender()

    page.wait_for_selector('#alert-progress[data-percent="100"]', timeout=15_000)
    bodies = received()
    assert len(bodies) == 12
    assert sum("ALL CLEAR" in b for b in bodies) == 3
    assert sum("FIN DE ALERTA" in b for b in bodies) == 3
    assert csp_errors == []
