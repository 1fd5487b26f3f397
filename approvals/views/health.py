"""/healthz: database and Temporal reachability, answered within 2 s.

An async view whose two checks run side by side in threads of their own:
Django runs sync views on one shared thread under ASGI, so a sync health
check would queue behind any view waiting on an unreachable Temporal and
miss its 2 s promise.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..temporal.client import TemporalUnavailable, call


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}
    finally:
        # A pool thread, not a request thread: nothing else would close it.
        connection.close()


def check_temporal() -> dict:
    async def ping(client):
        return await client.service_client.check_health()

    try:
        call(ping, timeout=settings.TEMPORAL_HEALTH_TIMEOUT)
        return {"ok": True}
    except TemporalUnavailable:
        return {"ok": False, "error": "unreachable"}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}


@require_GET
@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    database, temporal = await asyncio.gather(
        sync_to_async(check_database, thread_sensitive=False)(),
        sync_to_async(check_temporal, thread_sensitive=False)(),
    )
    checks = {"database": database, "temporal": temporal}
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
