from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from vigil.core import crypto
from vigil.core.models import WorkerHeartbeat


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - health must answer, whatever broke
        database = "error"
    beat = (
        WorkerHeartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
        if database == "ok"
        else None
    )
    age = round((timezone.now() - beat).total_seconds(), 1) if beat else None
    stalled = age is None or age > settings.WORKER_HEARTBEAT_SECONDS * 6
    keys = crypto.keyring().loaded
    healthy = database == "ok" and keys and not stalled
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "worker_heartbeat_age_seconds": age,
            "worker_stalled": stalled,
            "data_keys_loaded": keys,
        },
        status=200 if database == "ok" else 503,
    )


def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    raise Http404
