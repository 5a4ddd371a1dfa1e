"""The sender inside `manage.py worker`, its heartbeat in /healthz, and the board's alarm."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta

from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests import live
from vigil.channels.tests.test_ledger_support import (
    fake_twilio_fixture,  # noqa: F401 - fixture
    fake_twilio_server_fixture,  # noqa: F401 - fixture
    make_alert,
    open_count,
    sender_env,
)
from vigil.channels.tests.test_sender_crash import wait_until
from vigil.core.models import WorkerHeartbeat


def beat(name: str, age_seconds: float) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now() - timedelta(seconds=age_seconds)}
    )


def test_healthz_reports_every_heartbeat(db):
    beat("worker", 1)
    beat("sender", 2)
    beat("scheduler", 1)
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["worker_stalled"] is False and body["sender_stalled"] is False
    assert body["scheduler_stalled"] is False
    assert 0 <= body["sender_heartbeat_age_seconds"] < 60


def test_healthz_answers_503_stalled_when_the_sender_stops_beating(db):
    beat("worker", 1)
    beat("sender", settings.WORKER_HEARTBEAT_SECONDS * 3 + 5)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "stalled"
    assert response.json()["sender_stalled"] is True and response.json()["worker_stalled"] is False


def test_a_sender_that_never_started_is_reported_without_failing_the_probe(db):
    beat("worker", 1)
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["sender_heartbeat_age_seconds"] is None


def test_the_board_shows_an_alarm_while_the_sender_is_stalled(as_dispatcher):
    beat("sender", settings.WORKER_HEARTBEAT_SECONDS * 10)
    page = as_dispatcher.get("/staff/").content.decode()
    assert 'id="sender-alarm"' in page and "Alerts are not going out" in page
    beat("sender", 0)
    assert 'id="sender-alarm"' not in as_dispatcher.get("/staff/").content.decode()


def test_the_worker_sends_alerts_and_beats_for_the_sender(transactional_db, chapter, zone, fake_twilio, tmp_path):
    alert = make_alert(chapter, [zone], 20)
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.2"],
        cwd=live.ROOT,
        env=sender_env(fake_twilio, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: open_count(alert.batch) == 0, what="the worker to send the alert")
        wait_until(lambda: WorkerHeartbeat.objects.filter(name="sender").exists(), what="the sender's heartbeat")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text(errors="replace")[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    assert alert.statuses() == {"sent": 20}
    assert fake_twilio.count() == 20
