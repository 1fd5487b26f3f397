"""Temporal's remote codec protocol at /codec/ for the Temporal UI and CLI.

`POST /codec/decode` and `POST /codec/encode` take and return
`{"payloads": [...]}` in protobuf JSON (base64 data and metadata values),
run through the project's payload codec. Only administrators: a signed-in
superuser (CSRF-protected like every session POST), or a caller presenting
`Authorization: Bearer $CODEC_TOKEN` when that variable is set (no CSRF: a
bearer token is not sent by a browser on its own). Encoding yields payloads
the workflow trusts, so whoever may call this is trusted like the keys
(SECURITY.md). CORS answers only the origin in `TEMPORAL_UI_ORIGIN`.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from ..temporal.codec import CodecBodyInvalid, transform_json

log = logging.getLogger(__name__)

ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    allowed = getattr(settings, "TEMPORAL_UI_ORIGIN", "")
    response["Vary"] = "Origin"
    if allowed and origin == allowed:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = "600"
    return response


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the caller may use the codec, else the answer to give."""
    token = _bearer(request)
    if token is not None:
        expected = getattr(settings, "CODEC_TOKEN", "")
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return None
        return JsonResponse({"error": "invalid token"}, status=401)
    # Without a token this is a browser's request: the usual CSRF check comes first.
    csrf = CsrfViewMiddleware(lambda _request: HttpResponse())
    if csrf.process_view(request, None, (), {}) is not None:
        return JsonResponse({"error": "CSRF check failed"}, status=403)
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"error": "authentication required"}, status=401)
    if not (user.is_active and user.is_superuser):
        return JsonResponse({"error": "administrators only"}, status=403)
    return None


@csrf_exempt  # checked in _refusal for sessions; bearer callers need none
def codec_endpoint(request: HttpRequest, operation: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(status=204))
    if request.method != "POST":
        return _cors(request, JsonResponse({"error": "POST only"}, status=405))
    refusal = _refusal(request)
    if refusal is not None:
        return _cors(request, refusal)
    namespace = request.headers.get("X-Namespace", "")
    if namespace and namespace != settings.TEMPORAL_NAMESPACE:
        return _cors(request, JsonResponse({"error": "unknown namespace"}, status=400))
    try:
        body, count = transform_json(request.body, operation)
    except CodecBodyInvalid:
        return _cors(request, JsonResponse({"error": "body must be {payloads: [...]}"}, status=400))
    log.info(
        "codec %s of %d payload(s) by %s",
        operation,
        count,
        "token" if _bearer(request) else request.user.get_username(),
    )
    return _cors(request, HttpResponse(body, content_type="application/json"))
