"""H4: a sender frozen (SIGSTOP) past its lease loses its rows to another sender, and when it
is resumed (SIGCONT) it sends nothing more and its late results change nothing."""

from __future__ import annotations

import signal
import time

import pytest
from django.utils import timezone

from vigil.channels.models import Delivery, DeliveryStatus
from vigil.channels.tests.test_ledger_support import (
    fake_twilio_fixture,  # noqa: F401 - fixture
    fake_twilio_server_fixture,  # noqa: F401 - fixture
    make_alert,
    open_count,
    sender_env,
    start_sender,
)
from vigil.channels.tests.test_sender_crash import wait_until

FROZEN_FROM = "+13125550101"
LIVE_FROM = "+13125550102"


@pytest.mark.slow
def test_h4_a_frozen_sender_resumed_after_its_lease_sends_nothing(
    transactional_db,
    chapter,
    zone,
    fake_twilio,
    tmp_path,
):
    # The shortest lease the settings allow; the test waits it out once (about 5 s).
    lease = "5"
    alert = make_alert(chapter, [zone], 20)
    fake_twilio.set_mode("slow", delay_ms=300)
    log = tmp_path / "senders.log"
    frozen = start_sender(
        sender_env(fake_twilio, tmp_path, VIGIL_DELIVERY_LEASE_SECONDS=lease, VIGIL_TWILIO_FROM_NUMBER=FROZEN_FROM),
        log,
        "--name",
        "frozen",
        "--concurrency",
        "1",
    )
    live = None
    try:

        def sent_by(number: str) -> int:
            return sum(1 for r in fake_twilio.requests() if r["from"] == number)

        wait_until(lambda: sent_by(FROZEN_FROM) >= 2, what="the first sender's first sends")
        frozen.send_signal(signal.SIGSTOP)
        held = Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_token__startswith="frozen.")
        assert held.exists()
        leased = Delivery.objects.filter(status=DeliveryStatus.SENDING)
        wait_until(
            lambda: not leased.filter(lease_until__gte=timezone.now()).exists(),
            timeout=15,
            what="the frozen sender's leases to run out",
        )
        fake_twilio.set_mode("ok")
        live = start_sender(
            sender_env(fake_twilio, tmp_path, VIGIL_DELIVERY_LEASE_SECONDS=lease, VIGIL_TWILIO_FROM_NUMBER=LIVE_FROM),
            log,
            "--name",
            "live",
        )
        wait_until(lambda: open_count(alert.batch) == 0, what="the live sender to take over")
        before = sent_by(FROZEN_FROM)
        frozen.send_signal(signal.SIGCONT)
        # Let the resumed sender run a few cycles before stopping it cleanly.
        time.sleep(1.0)
        frozen.send_signal(signal.SIGTERM)
        assert frozen.wait(timeout=30) == 0, log.read_text(errors="replace")[-3000:]
        # A request already on its way at the freeze (concurrency 1: at most one) may land
        # after the resume; nothing newly started does.
        assert sent_by(FROZEN_FROM) - before <= 1
        assert sent_by(LIVE_FROM) >= 1
        live.send_signal(signal.SIGTERM)
        assert live.wait(timeout=30) == 0
        statuses = alert.statuses()
        assert statuses == {"sent": 20}, statuses
        # Every row carries the live sender's result: the frozen one's late writes were refused.
        sids = {r["sid"]: r["from"] for r in fake_twilio.requests() if "sid" in r}
        taken_over = alert.deliveries().filter(attempts__gte=2)
        assert taken_over.exists()
        assert {sids[d.provider_id] for d in taken_over} == {LIVE_FROM}
    finally:
        for process in (frozen, live):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait()
