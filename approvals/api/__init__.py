"""The JSON API (django-ninja) under /api/v1/: OpenAPI 3.1 at /api/v1/openapi.json,
interactive docs at /api/v1/docs for signed-in people.

Callers authenticate with a personal access token (`Authorization: Bearer`,
made at /accounts/tokens/, scopes read/decide/submit) or, from the browser,
with their session and its CSRF token. Calls are rate-limited per token and
recorded (`calls.ApiCallLog`).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET
from ninja import NinjaAPI

from accounts.services import token_authenticate

from . import inbox, requests
from .auth import TokenThrottle


def signed_in(view):
    """The docs and the schema (GET only): a session, or any usable token (scripts read
    the schema)."""

    @require_GET
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token_authenticate(secret.strip()) is not None:
            return view(request, *args, **kwargs)
        return login_required(view)(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="Approvals API",
    version="1",
    description=__doc__,
    urls_namespace="api-1",
    docs_decorator=signed_in,
    throttle=[TokenThrottle()],
)
api.add_router("", requests.router)
api.add_router("", inbox.router)
