"""bench/paging: 500 volunteers on call in 50 zones; how fast a report becomes a page, and how
fast a page escalates once its deadline passes.

The sender and the scheduler run in threads of this process exactly as `manage.py worker`
runs them, sending through the real SMS transport to the fake Twilio on loopback.

(a) 20 reports stored with vigil.intake's store_report in 20 distinct zones, one every
    quarter second: time from the report's commit to the fake provider recording the page's
    first request (and its last, the 10th volunteer of the zone). Goal: p95 < 1 s.
(b) 20 pagings whose deadlines pass a tenth of a second apart: time from the deadline to the
    escalation committed (observed by polling every 5 ms). Goal: p95 < 1 s.
(c) The raw limit in the same run: a bare single-row INSERT committed, then one POST to the
    fake with aiohttp.
Run: `.venv/bin/python -m bench.paging`
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta
from typing import Any

from bench.harness import emit, setup_django

ZONES = 50
PER_ZONE = 10
REPORTS = 20
ESCALATIONS = 20
GOAL_SECONDS = 1.0


def spread_cells(count: int) -> list[str]:
    """`count` h3 resolution-6 cells around Chicago, at least three cells apart (so PAGE_RING
    = 1 of one zone never reaches another: escalation has a real empty ring stage)."""
    import h3

    origin = h3.latlng_to_cell(41.85, -87.65, 6)
    chosen: list[str] = []
    for cell in sorted(h3.grid_disk(origin, 30)):
        if all(h3.grid_distance(cell, other) >= 3 for other in chosen):
            chosen.append(cell)
            if len(chosen) == count:
                return chosen
    raise RuntimeError("not enough cells")


def seed() -> tuple[Any, list[Any]]:
    from datetime import date

    from django.utils import timezone

    from vigil.channels.models import ChannelKind, Endpoint
    from vigil.core.models import Chapter, Zone
    from vigil.core.phones import phone_index
    from vigil.responders.models import (
        Responder,
        ResponderRole,
        ResponderStatus,
        Rotation,
        RotationMember,
        Training,
    )

    now = timezone.now()
    chapter = Chapter.objects.create(slug="bench", name="Bench")
    zones = [
        Zone.objects.create(chapter=chapter, name=f"Zone {i}", cells=[cell])
        for i, cell in enumerate(spread_cells(ZONES))
    ]
    endpoints: list[Endpoint] = []
    responders: list[Responder] = []
    for n in range(ZONES * PER_ZONE):
        phone = f"+1312555{n:04d}"
        index = phone_index(phone)
        endpoint = Endpoint(chapter=chapter, channel=ChannelKind.SMS, address_index=index)
        endpoint.address = phone
        endpoints.append(endpoint)
        responder = Responder(
            chapter=chapter,
            phone_index=index,
            endpoint=endpoint,
            status=ResponderStatus.APPROVED,
            applied_at=now - timedelta(days=90, seconds=-n),
            approved_at=now - timedelta(days=80),
        )
        responder.name = f"Volunteer {n}"
        responder.phone = phone
        responders.append(responder)
    Endpoint.objects.bulk_create(endpoints)
    Responder.objects.bulk_create(responders)
    Training.objects.bulk_create(
        Training(
            responder=r,
            role=ResponderRole.VERIFIER,
            completed_on=date(now.year - 1, 1, 1),
            expires_on=(now + timedelta(days=365)).date(),
            recorded_at=now,
        )
        for r in responders
    )
    # Each volunteer on call in their zone: a one-member rotation whose slot began an hour ago.
    rotations = Rotation.objects.bulk_create(
        Rotation(
            chapter=chapter,
            zone=zones[n // PER_ZONE],
            name=f"R{n}",
            starts_at=now - timedelta(hours=1),
            shift_hours=12,
        )
        for n in range(len(responders))
    )
    RotationMember.objects.bulk_create(
        RotationMember(rotation=rotation, responder=responder, position=0)
        for rotation, responder in zip(rotations, responders, strict=True)
    )
    return chapter, zones


def report_at(zone: Any) -> float:
    """Store a report in `zone` the way the web form does; the wall time of its commit."""
    import h3
    from django.db import transaction

    from vigil.intake.actions import ReportInput, store_report

    latitude, longitude = h3.cell_to_latlng(zone.cells[0])
    committed: list[float] = []
    with transaction.atomic(durable=True):
        # Registered first, so it runs first once the report commits (before the paging).
        transaction.on_commit(lambda: committed.append(time.time()))
        store_report(ReportInput(channel="web", kind="home", latitude=latitude, longitude=longitude))
    return committed[0]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def wait_until(condition: Any, timeout: float = 30.0, every: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise RuntimeError("timed out")


def part_a(zones: list[Any], fake: Any) -> dict[str, Any]:
    from vigil.incidents.models import Incident

    committed: dict[int, float] = {}
    for zone in zones[:REPORTS]:
        at = report_at(zone)
        incident = Incident.objects.filter(zone=zone).order_by("-pk").first()
        assert incident is not None
        committed[incident.pk] = at
        time.sleep(0.25)
    wanted = len(committed) * PER_ZONE

    def all_sent() -> bool:
        return sum(r["body"].startswith("Vigil page #") for r in fake.requests()) >= wanted

    wait_until(all_sent, every=0.05)
    first: list[float] = []
    last: list[float] = []
    records = fake.requests()
    for number, at in committed.items():
        times = [r["at"] for r in records if r["body"].startswith(f"Vigil page #{number}:")]
        assert len(times) == PER_ZONE, (number, len(times))
        first.append(min(times) - at)
        last.append(max(times) - at)
    return {"first_page": summary(first), "all_ten_pages": summary(last), "reports": len(committed)}


def part_b(chapter: Any, zones: list[Any]) -> dict[str, Any]:
    from django.utils import timezone

    from vigil.incidents.models import Incident
    from vigil.responders import paging
    from vigil.responders.models import Paging, PagingStage

    pagings: list[int] = []
    for zone in zones[REPORTS : REPORTS + ESCALATIONS]:
        now = timezone.now()
        incident = Incident.objects.create(
            chapter=chapter, kind="home", zone=zone, first_report_at=now, last_report_at=now, report_count=1
        )
        pagings.append(paging.start_paging(incident).pk)
    start = timezone.now() + timedelta(seconds=1)
    deadlines = {pk: start + timedelta(seconds=0.1 * i) for i, pk in enumerate(pagings)}
    for pk, deadline in deadlines.items():
        Paging.objects.filter(pk=pk).update(deadline=deadline)
    seen: dict[int, float] = {}

    def all_escalated() -> bool:
        observed = time.time()
        for pk in Paging.objects.filter(pk__in=pagings).exclude(stage=PagingStage.ZONE).values_list("pk", flat=True):
            seen.setdefault(pk, observed)
        return len(seen) == len(pagings)

    wait_until(all_escalated)
    delays = [seen[pk] - deadlines[pk].timestamp() for pk in pagings]
    return {"escalation": summary(delays), "pagings": len(pagings)}


def part_c(fake: Any, samples: int = 20) -> dict[str, Any]:
    """The floor: one INSERT committed, then one POST to the fake through aiohttp."""
    import base64
    import sqlite3
    from urllib.parse import urlencode

    import aiohttp
    from django.conf import settings

    url = f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    # A connection of its own to the same database file, as bare as it gets.
    raw = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]), isolation_level=None, timeout=5)
    raw.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, at REAL)")

    async def run() -> list[float]:
        timings: list[float] = []
        async with aiohttp.ClientSession(headers=headers) as session:
            for n in range(samples):
                start = time.perf_counter()
                raw.execute("INSERT INTO bench_raw (at) VALUES (?)", [time.time()])
                body = urlencode({"To": f"+1312555{n:04d}", "Body": "PAGE", "From": "+13125550100"})
                async with session.post(url, data=body.encode()) as response:
                    await response.read()
                    assert response.status == 201, response.status
                timings.append(time.perf_counter() - start)
        return timings

    try:
        return summary(asyncio.run(run()))
    finally:
        raw.close()


def main() -> None:
    from tests.fakes.twilio import FROM_NUMBER, FakeTwilio

    with FakeTwilio() as fake:
        setup_django(
            VIGIL_SANDBOX="False",
            VIGIL_TWILIO_API_URL=fake.url,
            VIGIL_TWILIO_ACCOUNT_SID=fake.account_sid,
            VIGIL_TWILIO_AUTH_TOKEN=fake.auth_token,
            VIGIL_TWILIO_FROM_NUMBER=FROM_NUMBER,
            VIGIL_TWILIO_MESSAGING_SERVICE_SID="",
            VIGIL_SMS_PER_SECOND="100000",
        )
        from django.conf import settings
        from django.db import connection

        from vigil.channels.sender import Sender, run_in_thread
        from vigil.core.schedule import Scheduler

        seed_start = time.perf_counter()
        chapter, zones = seed()
        seed_seconds = time.perf_counter() - seed_start
        connection.close()

        sender = Sender()
        sending = run_in_thread(sender)
        scheduler = Scheduler()
        scheduler.start()
        try:
            time.sleep(0.5)  # let both threads open their connections
            fake.reset()
            a = part_a(zones, fake)
            b = part_b(chapter, zones)
            fake.reset()
            c = part_c(fake)
        finally:
            scheduler.stopped.set()
            sender.stop()
            scheduler.join(timeout=10)
            sending.join(timeout=30)

    result: dict[str, Any] = {
        "benchmark": "paging",
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "volunteers": ZONES * PER_ZONE,
        "zones": ZONES,
        "seed_seconds": round(seed_seconds, 2),
        "report_to_page": a,
        "deadline_to_escalation": b,
        "raw_insert_plus_post": c,
        "goals": {"report_to_page_p95": "< 1 s", "deadline_to_escalation_p95": "< 1 s"},
    }
    result["goals_met"] = (
        a["first_page"]["p95_ms"] < GOAL_SECONDS * 1000 and b["escalation"]["p95_ms"] < GOAL_SECONDS * 1000
    )
    emit(result)


if __name__ == "__main__":
    main()
