"""The JSON API (django-ninja) under /api/v1/: OpenAPI 3.1 at /api/v1/openapi.json,
interactive docs at /api/v1/docs for signed-in people.

Callers authenticate with a personal access token (`Authorization: Bearer`,
made at /accounts/tokens/, scopes read/decide/submit) or, from the browser,
with their session and its CSRF token. Calls are rate-limited per token and
recorded (`calls.ApiCallLog`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET
from ninja import NinjaAPI
from ninja.parser import Parser

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


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


class ExactParser(Parser):
    """JSON with its numbers kept exact: 12.10 is Decimal("12.10"), never a float (a
    float may already be another amount), and NaN or Infinity is no body (400)."""

    def parse_body(self, request):
        return json.loads(request.body, parse_float=Decimal, parse_constant=_no_constant)


api = NinjaAPI(
    parser=ExactParser(),
    title="Approvals API",
    version="1",
    description=__doc__,
    urls_namespace="api-1",
    docs_decorator=signed_in,
    throttle=[TokenThrottle()],
)
api.add_router("", requests.router)
api.add_router("", inbox.router)
