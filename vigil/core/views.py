from __future__ import annotations

from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from vigil.core import crypto
from vigil.core.heartbeats import HEARTBEATS, heartbeat_ages, stalled_heartbeats


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
