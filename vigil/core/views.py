from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from vigil.core import crypto
from vigil.core.models import WorkerHeartbeat

# The background worker (tasks, retention) and the delivery sender beat separately: the
# sender may run inside the worker or as its own processes.
HEARTBEATS = ("worker", "sender")


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since each heartbeat, None for one never seen."""
    now = now or timezone.now()
    seen = dict(WorkerHeartbeat.objects.filter(name__in=HEARTBEATS).values_list("name", "seen_at"))
    return {name: (round((now - seen[name]).total_seconds(), 1) if name in seen else None) for name in HEARTBEATS}


def stalled_heartbeats(ages: dict[str, float | None]) -> list[str]:
    """Heartbeats that were beating and stopped: older than three beat intervals."""
    limit = settings.WORKER_HEARTBEAT_SECONDS * 3
    return [name for name, age in ages.items() if age is not None and age > limit]


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - health must answer, whatever broke
        database = "error"
    ages = heartbeat_ages() if database == "ok" else dict.fromkeys(HEARTBEATS)
    stalled = stalled_heartbeats(ages)
    keys = crypto.keyring().loaded
    missing = [name for name, age in ages.items() if age is None]
    if database != "ok" or stalled:
        status = "stalled" if database == "ok" else "error"
    else:
        status = "ok" if keys and not missing else "degraded"
    body: dict[str, object] = {"status": status, "database": database, "data_keys_loaded": keys}
    for name in HEARTBEATS:
        body[f"{name}_heartbeat_age_seconds"] = ages[name]
        # Never seen counts as stalled here, but only a beat that stopped answers 503: a fresh
        # install (or a web-only test server) is not an outage.
        body[f"{name}_stalled"] = ages[name] is None or name in stalled
    return JsonResponse(body, status=503 if database != "ok" or stalled else 200)


def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    raise Http404
