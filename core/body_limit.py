"""A request-size cap in front of Django, before any of the body is read.

Django's ASGI handler reads the whole body (spooling it to disk) before any
Django middleware runs, so a 40 MB upload was received in full before the
10 MB receipt check. This ASGI middleware answers 413 at once when
Content-Length exceeds REQUEST_MAX_BYTES, without calling `receive`; a body
without Content-Length (chunked) is counted as it arrives and cut off at the
limit, then answered 413 the same way. The page is rendered in the
browser's language (EN/DE).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .language import request_language


def _page(scope, limit: int) -> bytes:
    with translation.override(request_language(scope)):
        return render_to_string("413.html", {"limit_mb": max(1, limit // (1024 * 1024))}).encode()


async def _answer_413(scope, send, limit: int) -> None:
    body = await sync_to_async(_page, thread_sensitive=False)(scope, limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        limit = int(settings.REQUEST_MAX_BYTES)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = limit + 1  # unparseable: refuse rather than guess
            if declared > limit:
                return await _answer_413(scope, send, limit)
            return await self.application(scope, receive, send)

        # No Content-Length: count what arrives, stop reading past the limit.
        received = 0
        over = False
        started = False

        async def counting_receive():
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}  # Django stops reading (aborted)
            return message

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.application(scope, counting_receive, watching_send)
        if over and not started:
            await _answer_413(scope, send, limit)
