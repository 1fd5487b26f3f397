"""`/metrics`: Prometheus text. Open from loopback, else `Authorization: Bearer $METRICS_TOKEN`.

Only a direct loopback peer counts as loopback: a request that carries any
header a proxy adds or a client may forge (Forwarded, X-Forwarded-*, X-Real-IP,
Via, ...) needs the token, whatever the header says, and so does every request
when proxies are configured (TRUSTED_PROXY_COUNT > 0: the loopback peer is then
the proxy, not the caller).
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET

from core.metrics import exposition

from ..metrics import PROJECTION

PROXY_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
    "X-Real-IP",
    "X-Client-IP",
    "X-Original-Forwarded-For",
    "X-Cluster-Client-IP",
    "True-Client-IP",
    "CF-Connecting-IP",
    "Fastly-Client-IP",
    "Client-IP",
    "Via",
)


def _from_loopback(request: HttpRequest) -> bool:
    if int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0) > 0:
        return False
    if any(name in request.headers for name in PROXY_HEADERS):
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
    body, content_type = exposition(PROJECTION)
    return HttpResponse(body, content_type=content_type)
