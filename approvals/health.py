"""/healthz: database and Temporal reachability, answered within ~2 s."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .temporal.client import TemporalUnavailable, call


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}

    async def ping(client):
        return await client.service_client.check_health()

    try:
        call(ping, timeout=settings.TEMPORAL_HEALTH_TIMEOUT)
        checks["temporal"] = {"ok": True}
    except TemporalUnavailable:
        checks["temporal"] = {"ok": False, "error": "timeout"}
    except Exception as exc:  # noqa: BLE001
        checks["temporal"] = {"ok": False, "error": exc.__class__.__name__}
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
