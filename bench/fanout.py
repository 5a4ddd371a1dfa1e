"""bench/fanout: an alert to 100,000 subscribers in 50 zones, written and sent.

(a) Time from "send" to every delivery row written with write_alert_deliveries (goal <= 3 s on
    SQLite), against a bare executemany of the same 100,000 rows into the same table in the
    same run (goal <= 1.5x it).
(b) Messages per second one `manage.py send_deliveries` process pushes to the fake Twilio on
    loopback through the real SMS transport (goal >= 1,000/s), against a bare async httpx loop
    posting the same number of requests to the same fake (goal >= 0.5x it). Also reported: a
    bare aiohttp loop (the transport's own library, body pre-encoded), the stricter raw limit.
(c) Peak RSS of that sender process (goal < 300 MB).
Run: `.venv/bin/python -m bench.fanout [--subscribers 100000] [--send 20000]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

from bench.harness import ROOT, emit, setup_django

ZONES = 50
CONCURRENCY = 100


def seed(subscribers: int) -> tuple[Any, list[Any]]:
    from vigil.alerts.bulk import add_subscribers
    from vigil.core.models import Chapter, Zone

    chapter = Chapter.objects.create(slug="bench", name="Bench")
    zones = [Zone.objects.create(chapter=chapter, name=f"Zone {i}", cells=[]) for i in range(ZONES)]
    add_subscribers(chapter, zones, subscribers, batch_size=10_000)
    return chapter, zones


def messages(chapter: Any, now: Any) -> uuid.UUID:
    from vigil.alerts.bulk import add_messages

    return add_messages(chapter, now=now, valid_until=now + timedelta(minutes=30))[0]


def fanout(chapter: Any, zones: list[Any]) -> tuple[float, int]:
    from django.db import transaction
    from django.utils import timezone

    from vigil.alerts.fanout import write_alert_deliveries

    start = time.perf_counter()
    with transaction.atomic():
        now = timezone.now()
        batch = messages(chapter, now)
        written = write_alert_deliveries(
            batch=batch, chapter_id=chapter.pk, zone_ids=[z.pk for z in zones], drill=False, now=now
        )
    return time.perf_counter() - start, written


def bare_executemany(chapter: Any) -> tuple[float, int]:
    """The same rows, computed beforehand in Python, written by one executemany."""
    from django.db import connection, transaction
    from django.utils import timezone

    from vigil.alerts.models import Subscriber
    from vigil.channels.models import Delivery, Message

    now = timezone.now()
    batch = messages(chapter, now)
    by_language = dict(Message.objects.filter(batch=batch).values_list("language", "id"))
    pending_at = connection.ops.adapt_datetimefield_value(now)
    endpoint = connection.ops.adapt_uuidfield_value if hasattr(connection.ops, "adapt_uuidfield_value") else None
    rows = [
        (by_language[language], endpoint(e) if endpoint else e.hex, "sms", "pending", 0, pending_at, "", "", "")
        for e, language in Subscriber.objects.values_list("endpoint_id", "language")
    ]
    sql = (
        f"INSERT INTO {Delivery._meta.db_table} (message_id, endpoint_id, channel, status, attempts, "  # noqa: S608
        "next_attempt_at, lease_token, provider_id, last_error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return time.perf_counter() - start, len(rows)


def _peak_rss_kb(pid: int) -> int:
    """The process's high-water RSS (VmHWM) so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def sender_run(fake: Any, var_dir: Any) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        {
            "VIGIL_VAR_DIR": str(var_dir),
            "VIGIL_SANDBOX": "False",
            "VIGIL_TWILIO_API_URL": fake.url,
            "VIGIL_TWILIO_ACCOUNT_SID": fake.account_sid,
            "VIGIL_TWILIO_AUTH_TOKEN": fake.auth_token,
            "VIGIL_TWILIO_FROM_NUMBER": "+13125550100",
            "VIGIL_SMS_PER_SECOND": "1000000",
            "VIGIL_DELIVERY_CONCURRENCY": str(CONCURRENCY),
        }
    )
    errors = (var_dir / "sender.log").open("w+b")
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "send_deliveries", "--until-idle", "--batch", "1000"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, _peak_rss_kb(process.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    errors.seek(0)
    output = errors.read()
    errors.close()
    if process.returncode != 0:
        raise RuntimeError(output.decode(errors="replace")[-2000:])
    records = fake.requests()
    accepted = [r for r in records if r.get("status") == 201]
    span = max(r["at"] for r in records) - min(r["at"] for r in records)
    return {"sent": len(accepted), "span_s": span, "wall_s": wall, "peak_rss_mb": peak_kb / 1024}


async def bare_aiohttp_loop(fake: Any, count: int) -> float:
    """The same posts through aiohttp, the library the SMS transport uses: its raw limit."""
    import base64
    from urllib.parse import urlencode

    import aiohttp

    url = f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        queue = iter(range(count))

        async def worker() -> None:
            for n in queue:
                body = urlencode({"To": f"+1312555{n % 10_000:04d}", "Body": "ALERT", "From": "+13125550100"})
                async with session.post(url, data=body.encode()) as response:
                    await response.read()
                    assert response.status == 201, response.status

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


async def bare_loop(fake: Any, count: int) -> float:
    import httpx

    path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=fake.url, auth=(fake.account_sid, fake.auth_token), limits=limits) as client:
        queue = iter(range(count))

        async def worker() -> None:
            for n in queue:
                form = {"To": f"+1312555{n % 10_000:04d}", "Body": "ALERT", "From": "+13125550100"}
                response = await client.post(path, data=form)
                assert response.status_code == 201, response.status_code

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=20_000, help="messages the sender pushes in part (b)")
    args = parser.parse_args()
    var_dir = setup_django(VIGIL_SANDBOX="False")
    from django.db import connection

    from tests.fakes.twilio import FakeTwilio
    from vigil.channels.models import Delivery

    chapter, zones = seed(args.subscribers)
    fanout_s, written = fanout(chapter, zones)
    bare_s, bare_rows = bare_executemany(chapter)
    assert written == bare_rows == args.subscribers, (written, bare_rows)
    # Part (b) sends a second alert to the first zones only: `--send` recipients.
    Delivery.objects.all().delete()
    send_zones = zones[: max(1, round(ZONES * args.send / args.subscribers))]
    _, to_send = fanout(chapter, send_zones)
    connection.close()

    result: dict[str, Any] = {"benchmark": "fanout", "subscribers": args.subscribers, "zones": ZONES}
    result["fanout_seconds"] = round(fanout_s, 3)
    result["bare_executemany_seconds"] = round(bare_s, 3)
    result["fanout_vs_bare"] = round(fanout_s / bare_s, 2)
    with FakeTwilio() as fake:
        run = sender_run(fake, var_dir)
        assert run["sent"] == to_send, (run["sent"], to_send)
        fake.reset()
        bare_loop_s = asyncio.run(bare_loop(fake, to_send))
        fake.reset()
        aiohttp_loop_s = asyncio.run(bare_aiohttp_loop(fake, to_send))
    sender_rate = run["sent"] / run["span_s"]
    bare_rate = to_send / bare_loop_s
    aiohttp_rate = to_send / aiohttp_loop_s
    result.update(
        {
            "messages_sent": run["sent"],
            "sender_messages_per_second": round(sender_rate),
            "sender_wall_seconds_with_startup": round(run["wall_s"], 2),
            "bare_httpx_messages_per_second": round(bare_rate),
            "sender_vs_bare": round(sender_rate / bare_rate, 2),
            "bare_aiohttp_messages_per_second": round(aiohttp_rate),
            "sender_vs_bare_aiohttp": round(sender_rate / aiohttp_rate, 2),
            "sender_peak_rss_mb": round(run["peak_rss_mb"], 1),
            "concurrency": CONCURRENCY,
            "goals": {
                "fanout_seconds": "<= 3",
                "fanout_vs_bare": "<= 1.5",
                "sender_messages_per_second": ">= 1000",
                "sender_vs_bare": ">= 0.5",
                "sender_peak_rss_mb": "< 300",
            },
        }
    )
    result["goals_met"] = (
        fanout_s <= 3
        and fanout_s / bare_s <= 1.5
        and sender_rate >= 1000
        and sender_rate / bare_rate >= 0.5
        and run["peak_rss_mb"] < 300
    )
    emit(result)


if __name__ == "__main__":
    main()
