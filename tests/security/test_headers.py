"""Security headers on every page, no inline script, and the request-size cap.

The CSP allows scripts and styles only from this site (no inline code, no
eval) and no framing; the other headers come from settings.py's one
"Security headers" block and core/middleware.py. An oversized body is
answered 413 by config.asgi before any of it is read.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from django.test import Client

from config.asgi import application
from tests.support.asgi import http_scope

from .routes import project_routes

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secure_headers(response, where: str) -> None:
    csp = csp_of(response)
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["script-src"] == ["'self'"], where  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"], where
    assert csp["default-src"] == ["'self'"], where
    assert csp["object-src"] == ["'none'"], where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert response["Cross-Origin-Resource-Policy"] == "same-origin", where
    assert "camera=()" in response["Permissions-Policy"], where


@pytest.mark.django_db(transaction=True)
def test_every_page_carries_the_csp_and_security_headers(demo_org, temporal_server):
    anonymous, admin, employee = Client(), Client(), Client()
    admin.force_login(demo_org["admin"])
    employee.force_login(demo_org["emma"])
    checked = 0
    for route in project_routes():
        path = route.path(**dict.fromkeys(route.parameters, 999999))
        for who, client in (("anonymous", anonymous), ("admin", admin), ("emma", employee)):
            response = client.get(path)
            assert_secure_headers(response, f"GET {path} as {who} ({response.status_code})")
            checked += 1
    for path in ("/no-such-page/", "/admin/login/"):
        assert_secure_headers(anonymous.get(path), path)
    # Static files (whitenoise answers before the framing middleware): CSP and nosniff.
    static = anonymous.get("/static/js/app.js")
    assert csp_of(static)["script-src"] == ["'self'"]
    assert static["X-Content-Type-Options"] == "nosniff"
    assert checked >= 3 * 20


def test_templates_hold_no_inline_script_handler_or_style():
    # A JSON data block (json_script, django-ninja's swagger settings in
    # templates/ninja/swagger.html) is never executed: the CSP does not apply to it.
    inline_script = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    style = re.compile(r"\sstyle\s*=|<style", re.I)
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        name = path.relative_to(ROOT)
        for pattern in (inline_script, handler, style):
            offenders += [f"{name}: {m.group(0)!r}" for m in pattern.finditer(text)]
        # hx-trigger filters ([...]) and hx-on need eval, which the CSP forbids.
        offenders += [
            f"{path.relative_to(ROOT)}: eval-needing htmx {m.group(0)!r}"
            for m in re.finditer(r'hx-trigger="[^"]*\[|hx-on[:-]|js:', text)
        ]
    assert not offenders, "\n".join(offenders)


# ------------------------------------------------------------- size cap
async def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes] | None = None):
    """Call the real ASGI application; return (status, body, bytes the app read)."""
    scope = http_scope("POST", "/requests/new/", *headers)
    pending = list(chunks or [])
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        if pending:
            chunk = pending.pop(0)
            read += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        if chunks is None:
            pytest.fail("the application read the body of an oversized request")
        await asyncio.sleep(3600)  # the client keeps the connection open

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(application(scope, receive, send), timeout=30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body.decode(), read


async def test_a_40_mb_body_is_refused_with_413_before_it_is_read(settings):
    assert settings.REQUEST_MAX_BYTES == 12 * MB
    status, page, read = await call([(b"content-length", str(40 * MB).encode())])
    assert status == 413 and read == 0
    assert "Upload too large" in page and "12 MB" in page
    status, page, read = await call(
        [(b"content-length", str(40 * MB).encode()), (b"accept-language", b"de-DE,de;q=0.9")]
    )
    assert status == 413 and read == 0
    assert "Upload zu groß" in page and 'lang="de"' in page


async def test_a_body_without_length_is_cut_off_at_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 3 * MB
    chunks = [b"x" * MB for _ in range(40)]
    status, page, read = await call([(b"content-type", b"application/octet-stream")], chunks)
    assert status == 413
    assert read <= 4 * MB  # stopped reading just past the limit, not 40 MB
    assert "Upload too large" in page


async def test_a_body_under_the_limit_reaches_django(settings):
    status, _page, read = await call(
        [(b"content-length", b"11"), (b"content-type", b"application/x-www-form-urlencoded")],
        [b"title=hello"],
    )
    assert status != 413 and read == 11  # Django answered (login redirect or CSRF 403)
