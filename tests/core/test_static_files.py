"""Static files under ASGI (core/static_files.py): Django's own ASGI handler serves
WhiteNoise's answer from an async iterator (a block at a time from the file, or the empty
body of a 304), so it never warns that it "must consume synchronous iterators" (it would
read the whole file into memory first)."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

from asgiref.sync import async_to_sync
from django.core.asgi import get_asgi_application
from django.test import Client

from tests.support.asgi import http_scope

ROOT = Path(__file__).resolve().parents[2]
APP_JS = "/static/js/app.js"


def asgi_get(path: str, *headers: tuple[bytes, bytes]) -> tuple[int, dict, bytes]:
    """GET `path` through Django's ASGI handler, as uvicorn calls it; status, headers, body.
    The handler's warning about a synchronous iterator fails the call."""
    app = get_asgi_application()
    sent: list[dict] = []
    scope = http_scope("GET", path, *headers)

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # no disconnect: the handler stops listening when done

    async def send(message):
        sent.append(message)

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="StreamingHttpResponse must consume")
        async_to_sync(app)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    head = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], head, body


def test_a_static_file_streams_through_an_async_iterator_under_asgi():
    status, head, body = asgi_get(APP_JS)
    assert status == 200
    assert body == (ROOT / "static" / APP_JS.removeprefix("/static/")).read_bytes()
    assert head["content-length"] == str(len(body))
    assert head["content-type"].startswith("text/javascript")
    assert head["x-content-type-options"] == "nosniff"


def test_a_not_modified_static_file_answers_304_without_a_body():
    _, head, _ = asgi_get(APP_JS)
    status, _, body = asgi_get(APP_JS, (b"if-none-match", head["etag"].encode()))
    assert status == 304 and body == b""


def test_under_wsgi_the_file_is_served_as_whitenoise_does():
    response = Client().get(APP_JS)
    assert response.status_code == 200 and not response.is_async
    assert b"".join(response.streaming_content) == (ROOT / "static/js/app.js").read_bytes()
