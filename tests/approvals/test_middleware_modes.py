"""Every middleware runs in the mode of the chain around it: async under ASGI.

A sync-only middleware makes Django run the whole chain in a worker thread
(and adapt back and forth around it); ours and WhiteNoise
(approvals/static_files.py) run either way. Here: the chain Django builds for
ASGI adapts nothing, and our middlewares do in async mode what they do in sync
mode (tests/approvals/test_logs.py and tests/security/test_headers.py check the
sync mode), through Django's AsyncClient (the ASGI handler's async chain).
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.http import HttpResponse
from django.test import AsyncClient, RequestFactory
from django.utils.module_loading import import_string

from approvals.middleware import SecurityHeadersMiddleware
from approvals.models import ApiCall
from approvals.observability import RequestIdMiddleware, request_id_var
from tests.support.api import token_for


def test_every_middleware_can_run_async_and_the_asgi_chain_adapts_none(caplog):
    for path in settings.MIDDLEWARE:
        assert getattr(import_string(path), "async_capable", False), path
    caplog.set_level(logging.DEBUG, logger="django.request")
    handler = BaseHandler()
    handler.load_middleware(is_async=True)
    assert iscoroutinefunction(handler._middleware_chain)
    adapted = [r.getMessage() for r in caplog.records if "adapted for middleware" in r.getMessage()]
    assert adapted == []
    # The sync chain (the test client, a WSGI server) adapts none either.
    caplog.clear()
    BaseHandler().load_middleware(is_async=False)
    assert [r for r in caplog.records if "adapted for middleware" in r.getMessage()] == []


def test_the_request_id_in_async_mode_is_set_inside_echoed_and_reset_after():
    seen = []

    async def view(request):
        seen.append(request_id_var.get())
        return HttpResponse("ok")

    middleware = RequestIdMiddleware(view)
    assert iscoroutinefunction(middleware)
    response = asyncio.run(middleware(RequestFactory().get("/x")))
    assert seen == [response["X-Request-ID"]] and len(seen[0]) == 32
    assert request_id_var.get() == ""
    kept = asyncio.run(middleware(RequestFactory().get("/x", HTTP_X_REQUEST_ID="abc-123")))
    assert kept["X-Request-ID"] == "abc-123" and seen[-1] == "abc-123"


def test_the_security_headers_in_async_mode():
    async def view(request):
        return HttpResponse("ok")

    response = asyncio.run(SecurityHeadersMiddleware(view)(RequestFactory().get("/x")))
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_a_static_file_through_the_async_chain_is_served_with_the_headers():
    client = AsyncClient()
    response = asyncio.run(client.get("/static/js/app.js"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"htmx" in body
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert len(response["X-Request-ID"]) == 32
    missing = asyncio.run(client.get("/static/js/no-such-file.js"))
    assert missing.status_code == 404  # passed on to Django, which knows no such page


@pytest.mark.django_db(transaction=True)
def test_an_api_call_through_the_async_chain_is_recorded(demo_org):
    secret = token_for(demo_org["emma"], name="async-check")
    bearer = {"Authorization": f"Bearer {secret}"}
    response = asyncio.run(AsyncClient().get("/api/v1/requests", headers=bearer))
    assert response.status_code == 200, response.content[:300]
    assert isinstance(json.loads(response.content), dict | list)
    call = ApiCall.objects.get(token_name="async-check")
    assert (call.username, call.method, call.status_code) == ("emma", "GET", 200)
    asyncio.run(AsyncClient().get("/healthz"))
    assert ApiCall.objects.count() == 1  # outside /api/ nothing is recorded
