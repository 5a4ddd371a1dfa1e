"""`manage.py worker` as it runs in production: a real process over the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import live
from vigil.core.models import AuditEvent, UsedToken, WorkerHeartbeat
from vigil.core.tasks import purge_expired


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigil.settings_test",
        "DATABASE_URL": live.test_database_url(),
        "VIGIL_VAR_DIR": str(tmp_path),
        "VIGIL_WORKER_HEARTBEAT_SECONDS": "1",
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


def test_the_worker_beats_runs_the_purge_and_stops_cleanly_on_sigterm(transactional_db, worker):
    expired = UsedToken.objects.create(digest="e" * 64, expires_at=timezone.now() - timedelta(minutes=1))

    wait_for(lambda: WorkerHeartbeat.objects.filter(name="worker").exists())
    first = WorkerHeartbeat.objects.get(name="worker").seen_at
    wait_for(lambda: WorkerHeartbeat.objects.get(name="worker").seen_at > first)
    health = Client().get("/healthz").json()
    assert health["worker_stalled"] is False
    assert 0 <= health["worker_heartbeat_age_seconds"] < 5

    # The schedule enqueues a purge at start; the worker loop runs it.
    wait_for(lambda: DBTaskResult.objects.filter(task_path=purge_expired.module_path, status="SUCCESSFUL").exists())
    assert not UsedToken.objects.filter(pk=expired.pk).exists()
    assert AuditEvent.objects.filter(action="retention.purge", object_type="core.usedtoken", object_id="1").exists()

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0


def test_without_a_worker_healthz_reports_a_stall(db):
    health = Client().get("/healthz").json()
    assert health["worker_heartbeat_age_seconds"] is None
    assert health["worker_stalled"] is True


def test_a_waiting_purge_is_not_enqueued_twice(db):
    from vigil.core.management.commands.worker import schedule_purge

    assert schedule_purge() is True
    assert schedule_purge() is False
    # One that was killed while running is superseded by a fresh one.
    DBTaskResult.objects.filter(task_path=purge_expired.module_path).update(status="RUNNING")
    assert schedule_purge() is True
    assert DBTaskResult.objects.filter(task_path=purge_expired.module_path, status="READY").count() == 1
