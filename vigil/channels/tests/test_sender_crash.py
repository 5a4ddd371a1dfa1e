"""H2: `kill -9` the sender at random points during a 1,000-subscriber alert, restart it.

0 subscribers without a successful send; a delivery is sent more than once only if it was in
flight (leased, not yet recorded) at a kill, and at most once more per such kill. Counted from
the fake provider's own request log by idempotency key. On PostgreSQL, three senders share
the ledger and a random one is killed each time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from tests.fakes.twilio import FakeTwilio
from vigil.channels.models import Delivery, DeliveryStatus
from vigil.channels.tests.test_ledger_support import (
    AlertRows,
    fake_twilio_fixture,  # noqa: F401 - fixture
    fake_twilio_server_fixture,  # noqa: F401 - fixture
    make_alert,
    open_count,
    sender_env,
    start_sender,
)

SUBSCRIBERS = 1000
# Each kill uses up one started process (~1.5 s of Django start-up on an idle 2-core box):
# 8 keeps the suite fast; VIGIL_H2_KILLS=20 runs SECURITY-TESTS' full figure.
KILLS = int(os.environ.get("VIGIL_H2_KILLS", "8"))


def wait_until(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def in_flight() -> set[int]:
    return set(Delivery.objects.filter(status=DeliveryStatus.SENDING).values_list("pk", flat=True))


def check_outcome(alert: AlertRows, fake: FakeTwilio, kills_in_flight: Counter[int]) -> None:
    rows = {d.pk: d for d in alert.deliveries()}
    assert len(rows) == SUBSCRIBERS
    assert Counter(d.status for d in rows.values()) == {DeliveryStatus.SENT: SUBSCRIBERS}, "0 subscribers lost"
    requests = [r for r in fake.requests() if r["status"] == 201]
    sent = Counter(r["idempotency_key"] for r in requests)
    keys = {pk: f"vigil-{d.message_id}-{pk}" for pk, d in rows.items()}
    assert all(sent[key] >= 1 for key in keys.values())
    assert set(sent) == set(keys.values())
    for pk, key in keys.items():
        # One send, plus at most one more for each kill that caught it in flight.
        assert sent[key] <= 1 + kills_in_flight[pk], (pk, sent[key], kills_in_flight[pk])
    by_sid = {r["sid"]: r["idempotency_key"] for r in requests}
    assert all(by_sid[d.provider_id] == keys[pk] for pk, d in rows.items())


def run_with_kills(alert: AlertRows, fake: FakeTwilio, tmp_path: Path, names: list[str]) -> Counter[int]:
    rng = random.Random()
    env = sender_env(fake, tmp_path, VIGIL_SMS_PER_SECOND="1500")
    log = tmp_path / "senders.log"
    args = ("--concurrency", "20", "--batch", "200", "--idle", "0.05")

    def start(name: str) -> subprocess.Popen[bytes]:
        return start_sender(env, log, "--name", name, *args)

    senders = {name: start(name) for name in names}
    # A second process per name, started and waiting on the name's lock: it takes over the
    # moment its predecessor is killed, as a supervisor's restart would (without the start-up).
    standby = {name: start(name) for name in names}
    kills_in_flight: Counter[int] = Counter()
    try:
        for _ in range(KILLS):
            # A random point: after the next 1-120 sends (or never, if everything is done).
            target = fake.count() + rng.randint(1, 120)
            wait_until(lambda t=target: fake.count() >= t or open_count(alert.batch) == 0, what="sends")
            if open_count(alert.batch) == 0:
                break
            name = rng.choice(names)
            senders[name].send_signal(signal.SIGKILL)
            senders[name].wait()
            kills_in_flight.update(
                Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_token__startswith=f"{name}.").values_list(
                    "pk", flat=True
                )
            )
            senders[name] = standby[name]
            standby[name] = start(name)
        wait_until(lambda: open_count(alert.batch) == 0, what="every delivery finished")
        for process in standby.values():
            process.kill()
            process.wait()
        for process in senders.values():
            # A sender promoted by the last kill may still be starting: SIGTERM once it is up.
            wait_until(lambda p=process: f"started (pid {p.pid})" in log.read_text(), what="sender start")
            process.send_signal(signal.SIGTERM)
        for process in senders.values():
            assert process.wait(timeout=30) == 0, log.read_text(errors="replace")[-3000:]
    finally:
        for process in [*senders.values(), *standby.values()]:
            if process.poll() is None:
                process.kill()
                process.wait()
    return kills_in_flight


@pytest.mark.slow
def test_h2_killing_the_sender_at_random_points_loses_no_subscriber(
    transactional_db,
    chapter,
    zone,
    fake_twilio,
    tmp_path,
):
    fake_twilio.set_mode("slow", delay_ms=5)
    alert = make_alert(chapter, [zone], SUBSCRIBERS)
    kills = run_with_kills(alert, fake_twilio, tmp_path, ["h2"])
    check_outcome(alert, fake_twilio, kills)


@pytest.mark.slow
def test_h2_three_senders_share_the_ledger_and_lose_nothing_when_one_is_killed(
    transactional_db,
    chapter,
    zone,
    fake_twilio,
    tmp_path,
):
    if connection.vendor != "postgresql":
        pytest.skip("several senders at once is the PostgreSQL deployment (SKIP LOCKED)")
    fake_twilio.set_mode("slow", delay_ms=5)
    alert = make_alert(chapter, [zone], SUBSCRIBERS)
    kills = run_with_kills(alert, fake_twilio, tmp_path, ["s1", "s2", "s3"])
    check_outcome(alert, fake_twilio, kills)


def test_sigterm_finishes_in_flight_sends_and_hands_back_the_rest(
    transactional_db,
    chapter,
    zone,
    fake_twilio,
    tmp_path,
):
    fake_twilio.set_mode("slow", delay_ms=50)
    alert = make_alert(chapter, [zone], 200)
    env = sender_env(fake_twilio, tmp_path, VIGIL_SMS_PER_SECOND="100")
    process: subprocess.Popen[bytes] = start_sender(env, tmp_path / "sender.log", "--concurrency", "5")
    try:
        wait_until(lambda: fake_twilio.count() >= 10, what="first sends")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    statuses = alert.statuses()
    assert set(statuses) == {"sent", "pending"}, statuses
    assert statuses["sent"] == len({r["idempotency_key"] for r in fake_twilio.requests()})
