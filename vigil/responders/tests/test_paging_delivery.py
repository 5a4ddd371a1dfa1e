"""A page leaves through the real sender to the fake Twilio, ahead of an alert's backlog; and
`manage.py worker` runs the paging schedule (sweep, escalation) and still stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import live
from tests.fakes.fixtures import twilio_env
from vigil.channels.models import Delivery, DeliveryStatus, Purpose
from vigil.channels.sender import Sender
from vigil.channels.tests.test_ledger_support import Drive, SimClock, make_alert, real_transports
from vigil.core import schedule
from vigil.core.models import WorkerHeartbeat
from vigil.core.tests.test_worker import wait_for
from vigil.incidents.models import Incident
from vigil.responders import paging
from vigil.responders.models import PageRecipient, Paging, PagingStage
from vigil.responders.tests.conftest import make_responder, phone_of, put_on_call


def new_incident(zone) -> Incident:
    now = timezone.now()
    return Incident.objects.create(
        chapter=zone.chapter, kind="home", zone=zone, first_report_at=now, last_report_at=now, report_count=1
    )


def test_a_page_reaches_the_provider_before_an_alert_backlog(transactional_db, chapter, zone, fake_twilio, settings):
    settings.SMS_PER_SECOND = 100_000
    volunteer = make_responder(chapter, 1)
    put_on_call(volunteer, zone)
    clock = SimClock()
    make_alert(chapter, [zone], 60, now=clock.now - timedelta(minutes=1))
    incident = new_incident(zone)
    paging.start_paging(incident, now=clock.now)

    drive = Drive(Sender(clock=clock, transports=real_transports, batch_size=10, concurrency=1))
    try:
        drive.loop.run_until_complete(drive.sender.step())
    finally:
        drive.close()

    # One claim of 10 out of 61 due: the page, written last, was in it.
    requests = fake_twilio.requests()
    assert len(requests) == 10
    to_volunteer = [r for r in requests if r["to"] == phone_of(1)]
    assert len(to_volunteer) == 1
    assert to_volunteer[0]["body"].startswith(f"Vigil page #{incident.pk}:")
    page = Delivery.objects.get(message__purpose=Purpose.PAGE)
    assert page.status == DeliveryStatus.SENT
    assert PageRecipient.objects.get(responder=volunteer).delivery == page


@pytest.fixture
def worker(transactional_db, tmp_path, fake_twilio) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **__import__("os").environ,
        "DJANGO_SETTINGS_MODULE": "vigil.settings_test",
        "DATABASE_URL": live.test_database_url(),
        "VIGIL_VAR_DIR": str(tmp_path),
        "VIGIL_WORKER_HEARTBEAT_SECONDS": "1",
        "VIGIL_SMS_PER_SECOND": "100000",
        **twilio_env(fake_twilio),
    }
    env.pop("VIGIL_TEST_DATABASE", None)
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.2"],
        cwd=live.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()


def test_the_worker_pages_escalates_and_stops_cleanly(transactional_db, chapter, zone, fake_twilio, worker):
    volunteer = make_responder(chapter, 1)
    put_on_call(volunteer, zone)
    backup = make_responder(chapter, 2, backup=True)
    # An incident whose signal was missed: the worker's sweep pages it, the sender sends it.
    incident = new_incident(zone)

    wait_for(lambda: any(r["to"] == phone_of(1) for r in fake_twilio.requests()))
    wait_for(lambda: WorkerHeartbeat.objects.filter(name="scheduler").exists())
    # Its deadline passes: the worker escalates (no ring zone: straight to the backup list).
    Paging.objects.filter(incident=incident).update(deadline=timezone.now() - timedelta(seconds=1))
    wait_for(lambda: Paging.objects.get(incident=incident).stage == PagingStage.BACKUP)
    wait_for(lambda: any(r["to"] == phone_of(2) for r in fake_twilio.requests()))
    assert PageRecipient.objects.filter(responder=backup).exists()

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0


def test_the_paging_jobs_are_registered() -> None:
    assert {"paging.escalate", "paging.sweep"} <= set(schedule.registered())
