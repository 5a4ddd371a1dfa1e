"""I2: kill -9 the server during 200 concurrent report submissions, 10 rounds (each killed after
a random number of acknowledgements, 5 to 40, so the requests still in flight are cut off).

Every report the server acknowledged (HTTP 200 to the SMS webhook) is in the database
afterwards, and SQLite's integrity check passes.

Runs in its own pytest process (`make test` runs the `isolated` marker separately). Run after
the rest of the suite in one process it once ended with "database disk image is malformed" on
SQLite, at the test process's next connection; alone it passes every time. Which earlier test
leaves the test database in that state is not found yet: an open bug, not a fixed one.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from tests.live import start_server, stop_server
from tests.twilio import inbound_sms, twilio_signature
from vigil.intake.models import InboundMessage, Report

pytestmark = [pytest.mark.slow, pytest.mark.isolated]


def post_sms(url: str, sid: str, number: int) -> bool:
    params = inbound_sms(sid, f"+1312555{number:04d}", f"REPORT marker-{sid} ICE at 18th and Blue Island 60608")
    full = url + "/webhooks/twilio/sms"
    request = urllib.request.Request(
        full,
        data=urllib.parse.urlencode(params).encode(),
        headers={
            "X-Twilio-Signature": twilio_signature(settings.TWILIO_AUTH_TOKEN, full, params),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status == 200
    except OSError:
        return False


def test_no_acknowledged_report_is_lost_when_the_server_is_killed(transactional_db, chapter, zone):
    from vigil.incidents import actions  # noqa: F401  (clustering runs in the server process)

    rng = random.Random(2)
    acknowledged: list[str] = []
    for round_no in range(10):
        server = start_server()
        post_sms(server.url, f"SMWARM{round_no:02d}" + "0" * 26, 9000 + round_no)
        sids = [f"SM{round_no:02d}{n:030d}" for n in range(200)]
        lock = threading.Lock()
        # The kill comes after a random number of acknowledgements in this round, not after a
        # random time: on a loaded machine (CI runs two suites side by side) a timer could fire
        # before the server had acknowledged anything, and the test would prove nothing.
        target = rng.randint(5, 40)
        round_acks: list[str] = []
        reached = threading.Event()

        def send(
            index: int,
            url: str = server.url,
            sids: list[str] = sids,
            lock: threading.Lock = lock,
            base: int = round_no * 200,
            round_acks: list[str] = round_acks,
            reached: threading.Event = reached,
            target: int = target,
        ) -> None:
            if post_sms(url, sids[index], base + index):
                with lock:
                    round_acks.append(sids[index])
                    if len(round_acks) >= target:
                        reached.set()

        def kill(s=server, reached: threading.Event = reached) -> None:
            reached.wait(timeout=60)
            os.kill(s.process.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill)
        killer.start()
        with ThreadPoolExecutor(max_workers=50) as pool:
            list(pool.map(send, range(200)))
        killer.join()
        stop_server(server)
        acknowledged.extend(round_acks)

    connection.close()
    assert len(acknowledged) >= 50, "the server acknowledged too few reports to prove anything"
    stored = set(InboundMessage.objects.filter(provider_id__in=acknowledged).values_list("provider_id", flat=True))
    assert sorted(set(acknowledged) - stored) == []
    details = {r.details for r in Report.objects.all()}
    missing_reports = [sid for sid in acknowledged if not any(f"marker-{sid}" in d for d in details)]
    assert missing_reports == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            assert cursor.fetchone()[0] == "ok"
