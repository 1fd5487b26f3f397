"""`/metrics`: Prometheus text. Open from loopback, else `Authorization: Bearer $METRICS_TOKEN`.

A request that came through a proxy (it carries X-Forwarded-For) is never
treated as loopback, even when the proxy itself connects from 127.0.0.1.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET

from .. import metrics


def _from_loopback(request: HttpRequest) -> bool:
    if request.headers.get("X-Forwarded-For"):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _has_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given, token)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_from_loopback(request) or _has_token(request)):
        return HttpResponseForbidden("Forbidden: use a loopback address or the metrics token.\n")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
