"""SCIM 2.0 plumbing (RFC 7643/7644) as identity providers call it: bearer auth,
errors, the filter subset Entra ID and Okta send, pagination, PATCH operations.

Why not django-scim2: it wants its own columns on the user model, turns filters
into raw SQL, and its PATCH handling would need overriding for what Entra ID
sends anyway (capitalised ops, "False" as a string, the manager as a bare id).
What is needed here is small: people and three groups, so it is written out and
tested with the requests the providers document (tests/accounts/test_scim_*.py).
"""

from __future__ import annotations

import functools
import hmac
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

CONTENT_TYPE = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_COUNT = 200


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type

    def response(self) -> JsonResponse:
        body = {"schemas": [ERROR], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return respond(body, status=self.status)


def respond(body: dict | None, status: int = 200) -> HttpResponse:
    if body is None:
        return HttpResponse(status=status)
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def _authorised(request: HttpRequest) -> bool:
    token = settings.SCIM_TOKEN
    header = request.headers.get("Authorization", "")
    scheme, _sep, given = header.partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    )


def endpoint(methods: tuple[str, ...]):
    """A SCIM view: bearer SCIM_TOKEN (never a session), JSON in, SCIM errors out."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def inner(request: HttpRequest, *args, **kwargs):
            if not _authorised(request):
                response = ScimError(401, "A valid bearer token is required.").response()
                response["WWW-Authenticate"] = 'Bearer realm="scim"'
                return response
            if request.method not in methods:
                return ScimError(405, f"{request.method} is not supported here.").response()
            try:
                return view(request, *args, **kwargs)
            except ScimError as exc:
                return exc.response()

        return inner

    return wrap


def body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScimError(400, "The body is not JSON.", "invalidSyntax") from exc
    if not isinstance(data, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    return data


def as_bool(value) -> bool:
    """Entra ID sends "True"/"False" strings; others real booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ScimError(400, f"{value!r} is not a boolean.", "invalidValue")


@dataclass(frozen=True)
class Clause:
    attribute: str  # lower case, e.g. "username", 'emails[type eq "work"].value'
    value: str


_CLAUSE = re.compile(r'^\s*(?P<attr>[\w.:\[\]" -]+?)\s+eq\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*$', re.I)


def parse_filter(text: str) -> list[Clause]:
    """`attr eq "value"` clauses joined by `and` (what Entra ID and Okta send)."""
    if not text.strip():
        return []
    clauses = []
    for part in re.split(r'\s+and\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', text, flags=re.I):
        match = _CLAUSE.match(part)
        if match is None:
            raise ScimError(400, f"Unsupported filter: {text!r}", "invalidFilter")
        value = re.sub(r"\\(.)", r"\1", match["value"])
        clauses.append(Clause(match["attr"].strip().lower(), value))
    return clauses


def page(request: HttpRequest) -> tuple[int, int]:
    """(startIndex, count) from the query: 1-based, count capped at MAX_COUNT."""
    try:
        start = max(1, int(request.GET.get("startIndex", "1")))
        count = min(MAX_COUNT, max(0, int(request.GET.get("count", str(MAX_COUNT)))))
    except ValueError as exc:
        raise ScimError(400, "startIndex and count must be integers.", "invalidValue") from exc
    return start, count


def list_response(resources: list[dict], *, total: int, start: int) -> HttpResponse:
    return respond(
        {
            "schemas": [LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def operations(data: dict) -> list[tuple[str, str, object]]:
    """A PatchOp's operations as (op in lower case, path, value)."""
    ops = data.get("Operations")
    if not isinstance(ops, list) or not ops:
        raise ScimError(400, "A PATCH needs Operations.", "invalidSyntax")
    result = []
    for op in ops:
        if not isinstance(op, dict):
            raise ScimError(400, "Each operation must be an object.", "invalidSyntax")
        name = str(op.get("op", "")).lower()
        if name not in {"add", "replace", "remove"}:
            raise ScimError(400, f"Unknown op {op.get('op')!r}.", "invalidSyntax")
        result.append((name, str(op.get("path") or ""), op.get("value")))
    return result


def location(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)
