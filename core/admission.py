"""Admission in front of Django: a bounded number of requests in flight per web process.

Under overload (issue 28: 500 approvers opening the inbox within a minute on one web
process) every request used to enter Django at once, each in its own thread; they
queued for the CPU while holding database connections, and the pool's timeout turned
the queue into HTTP 500s. Here, at most `WEB_MAX_INFLIGHT` requests run in Django at a
time, fewer than the pool has connections, so no request ever waits for the pool into
its timeout. The others wait here, on the event loop, where waiting costs nothing:

- what a person sent (a decision, a form: not GET) first, then pages, each in arrival
  order, for at most `WEB_QUEUE_WAIT` seconds; one that waited that long is answered
  `503` with `Retry-After` (and words, in the reader's language: a page retries by
  itself, a form says nothing was saved) rather than queued further;
- the navigation badge (`/inbox/count/`, asked by every page on load and on every
  pushed event) after them, for at most `WEB_BADGE_WAIT`: a badge that would wait
  longer is answered `503` with `Retry-After` at once. htmx keeps the badge it has
  (it does not swap an error response) and the next event asks again.

`/healthz`, `/metrics` and static files pass without a slot (cheap, and a load
balancer must see a busy process as alive). Websockets are not HTTP and pass too.
Counted in `approvals_web_shed_total{kind}` and `approvals_web_queue_seconds{kind}`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from . import metrics
from .language import request_language

RETRY_AFTER_S = 5
# Queue order, lower first: what a person sent (a decision, a form) before pages, pages
# before the badge.
ORDER = {"form": 0, "page": 1, "badge": 2}
PASS_PREFIXES = ("/healthz", "/metrics")


_pages: dict[tuple[str, bool], bytes] = {}


def _busy_page(language: str, refresh: bool) -> bytes:
    """The words of a 503, rendered once per language (a shed request costs ~nothing);
    a GET tries again by itself, a form says that nothing was saved."""
    page = _pages.get((language, refresh))
    if page is None:
        with translation.override(language):
            context = {"retry_after": RETRY_AFTER_S, "refresh": refresh}
            page = render_to_string("503.html", context).encode()
        _pages[(language, refresh)] = page
    return page


async def _answer_503(scope, send, kind: str) -> None:
    metrics.WEB_SHED.labels(kind=kind).inc()
    if kind == "badge":
        body = b""  # htmx does not swap it; the badge stays as it was
    else:
        refresh = scope.get("method") in ("GET", "HEAD")
        language = request_language(scope)
        body = await sync_to_async(_busy_page, thread_sensitive=False)(language, refresh)
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
                (b"cache-control", b"no-store"),
                (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Admission:
    """ASGI middleware: see the module docstring. One instance per process (one event
    loop), so the counters need no lock."""

    def __init__(self, application) -> None:
        self.application = application
        self.inflight = 0
        self._waiting: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()
        self._badge_path: str | None = None
        self._static = None

    # -------------------------------------------------------------- which kind
    def _kind(self, scope) -> str | None:
        """'form' (not GET/HEAD), 'page', 'badge', or None for a request that needs no slot."""
        path = scope.get("path", "")
        if self._badge_path is None:
            self._badge_path = reverse("inbox-count")
            self._static = settings.STATIC_URL or "/static/"
        if path.startswith(PASS_PREFIXES) or path.startswith(self._static):
            return None
        if path == self._badge_path:
            return "badge"
        return "page" if scope.get("method") in ("GET", "HEAD") else "form"

    # ------------------------------------------------------------------- slots
    def _release(self) -> None:
        """Hand the slot to the first waiter still waiting, else free it."""
        while self._waiting:
            _prio, _n, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(True)  # the slot moves on; inflight stays the same
                return
        self.inflight -= 1

    async def _admit(self, kind: str, limit: int) -> bool:
        while self._waiting and self._waiting[0][2].done():  # gave up waiting
            heapq.heappop(self._waiting)
        if self.inflight < limit and not self._waiting:
            self.inflight += 1
            return True
        wait = float(settings.WEB_BADGE_WAIT if kind == "badge" else settings.WEB_QUEUE_WAIT)
        if wait <= 0:
            return False
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (ORDER[kind], next(self._order), future))
        started = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout=wait)
        except TimeoutError:
            if future.done() and not future.cancelled():
                return True  # handed over just as the wait ended: it is ours
            future.cancel()
            return False
        except asyncio.CancelledError:  # the client went away while waiting
            if future.done() and not future.cancelled():
                self._release()
            else:
                future.cancel()
            raise
        finally:
            metrics.WEB_QUEUED.labels(kind=kind).observe(time.monotonic() - started)
        return True

    async def __call__(self, scope, receive, send):
        limit = int(settings.WEB_MAX_INFLIGHT)
        if scope["type"] != "http" or limit <= 0:
            return await self.application(scope, receive, send)
        kind = self._kind(scope)
        if kind is None:
            return await self.application(scope, receive, send)
        if not await self._admit(kind, limit):
            return await _answer_503(scope, send, kind)
        try:
            return await self.application(scope, receive, send)
        finally:
            self._release()
