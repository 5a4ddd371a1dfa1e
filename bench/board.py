"""bench/board: board render time and query count with 1,000 open incidents.

Goal (issue 2): < 150 ms, query count constant. Raw limit in the same run: one bare SQL
query fetching the same rows (incidents joined with zones) through the DB cursor.
Run: `.venv/bin/python -m bench.board`
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bench.harness import emit, setup_django


def seed(count: int) -> Any:
    import h3

    from vigil.accounts.models import Role, User
    from vigil.core.models import Chapter, Zone
    from vigil.incidents import actions  # noqa: F401  (connects clustering to intake)
    from vigil.intake.actions import ReportInput, receive_report

    chapter = Chapter.objects.create(slug="bench", name="Bench")
    rng = random.Random(7)
    zones = []
    for i in range(20):
        lat, lng = 41.70 + (i % 5) * 0.06, -87.80 + (i // 5) * 0.06
        zones.append(Zone.objects.create(chapter=chapter, name=f"Zone {i}", cells=[h3.latlng_to_cell(lat, lng, 6)]))
    user = User.objects.create_user("bench.dispatcher", password="x" * 16, role=Role.DISPATCHER)
    user.chapters.set([chapter])
    kinds = ["home", "workplace", "checkpoint", "arrest", "vehicles"]
    for n in range(count):
        # Points ~2 km apart never cluster together: one incident per report.
        lat, lng = 41.68 + (n % 40) * 0.04, -87.85 + (n // 40) * 0.04
        receive_report(
            ReportInput(
                channel=rng.choice(["web", "sms"]),
                kind=rng.choice(kinds),
                latitude=lat,
                longitude=lng,
                details=f"bench report {n}",
                source=f"s{n}",
            )
        )
    return user


def measure(client: Any, rounds: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get("/staff/")
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(ctx.captured_queries)
    return timings, queries


def raw_query_ms(rounds: int) -> float:
    from django.db import connection

    sql = (
        "SELECT i.id, i.kind, i.status, i.report_count, i.channels, i.last_report_at, i.last_action_at, z.name "
        "FROM incidents_incident i LEFT JOIN core_zone z ON z.id = i.zone_id "
        "WHERE i.status IN ('new', 'verifying', 'confirmed') ORDER BY i.last_report_at DESC LIMIT 1000"
    )
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    setup_django()
    from django.test import Client

    from vigil.accounts.signals import SESSION_STARTED

    user = seed(10)
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_STARTED] = int(time.time())
    session.save()
    measure(client, 3)
    _, queries_10 = measure(client, 5)
    start = time.perf_counter()
    seed_more = 990
    from vigil.incidents.models import Incident

    _seed_extra(seed_more)
    seeding_s = time.perf_counter() - start
    open_count = Incident.objects.count()
    timings, queries_1000 = measure(client, 20)
    raw = raw_query_ms(20)
    median = statistics.median(timings)
    emit(
        {
            "benchmark": "board",
            "open_incidents": open_count,
            "render_ms_median": round(median, 1),
            "render_ms_p95": round(sorted(timings)[int(len(timings) * 0.95) - 1], 1),
            "queries_with_10_incidents": queries_10,
            "queries_with_1000_incidents": queries_1000,
            "query_count_constant": queries_10 == queries_1000,
            "raw_sql_same_rows_ms": round(raw, 2),
            "goal_render_ms": 150,
            "meets_goal": median < 150 and queries_10 == queries_1000,
            "seeding_990_reports_s": round(seeding_s, 1),
        }
    )


def _seed_extra(count: int) -> None:
    from vigil.intake.actions import ReportInput, receive_report

    for n in range(count):
        lat, lng = 40.00 + (n % 40) * 0.04, -90.40 + (n // 40) * 0.04
        receive_report(
            ReportInput(
                channel="web", kind="home", latitude=lat, longitude=lng, details=f"bench extra {n}", source=f"x{n}"
            )
        )


if __name__ == "__main__":
    main()
