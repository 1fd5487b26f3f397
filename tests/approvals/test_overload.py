"""Overload never answers a 5xx the person cannot use (issue 28, core/admission.py).

- A real `manage.py serve` process (database pool of 3 connections with a 2 s timeout,
  at most 2 requests in Django) against a dev server at one visibility call a second,
  flooded by 24 browsers at once: every inbox page is a 200 with the approver's row and
  no error banner, every badge a 200 or a 503 with Retry-After, never a 500; the
  process shed badges (so it was overloaded) and its pool never timed out.
- The admission queue itself (an ASGI app in front of a slow one, no network): pages
  go before badges, a badge that would wait is answered 503 with Retry-After at once,
  a page that waited WEB_QUEUE_WAIT gets 503 with words in the reader's language.
"""

from __future__ import annotations

import asyncio
import re
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection

from core.admission import Admission
from scripts.run import free_port
from tests.support.processes import ManagedProcess, process_env
from tests.support.requests import submit
from tests.support.servers import DevServer, visibility_limit
from tests.support.waiting import wait_for
from tests.support.web import ROW_ID, WebUser

REDIS = "redis://127.0.0.1:6379/5"
AS_OF = re.compile(r'data-testid="inbox-as-of" data-source="(\w+)" data-age="(\d+)"')


def lower(headers) -> dict:
    return {k.lower(): v for k, v in headers.items()}


def fetch(user: WebUser, path: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(user.base_url + path)
    try:
        with user.opener.open(request, timeout=60) as response:
            return response.status, lower(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, lower(exc.headers), exc.read().decode(errors="replace")


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("heavy")  # 24 clients at once: never beside a crash test
def test_a_flooded_web_process_answers_pages_and_sheds_badges_never_a_500(
    tmp_path, demo_org, settings, request
):
    server = DevServer(extra_args=visibility_limit(1)).start()
    queue = f"flood-{uuid.uuid4().hex[:8]}"
    settings.TEMPORAL_ADDRESS, settings.TEMPORAL_TASK_QUEUE = server.address, queue
    from approvals.temporal import client as temporal_client

    temporal_client.reset_client()
    env = process_env(
        database_name=connection.settings_dict["NAME"], temporal=server.address, task_queue=queue
    )
    port = free_port()
    env.update(
        REDIS_URL=REDIS,
        REDIS_PREFIX=f"flood-{uuid.uuid4().hex[:8]}",
        TEMPORAL_VISIBILITY_RPS="1",
        INBOX_CACHE_MAX_AGE="0",  # every view wants a visibility call: the slow path
        DATABASE_POOL="1",  # production's pool, small, with a short timeout
        DATABASE_POOL_MIN="1",
        DATABASE_POOL_MAX="3",
        DATABASE_POOL_TIMEOUT="2",
        WEB_MAX_INFLIGHT="2",
        WEB_QUEUE_WAIT="60",
        WEB_BADGE_WAIT="0.05",
        WEB_CONCURRENCY="1",
    )
    procs = [
        ManagedProcess(["run_worker"], env, tmp_path / "worker.log"),
        ManagedProcess(
            ["serve", "--no-worker", "--port", str(port)], env, tmp_path / "web.log", port
        ),
    ]

    def stop_all() -> None:
        for p in procs:
            p.stop()
        server.stop()
        temporal_client.reset_client()

    request.addfinalizer(stop_all)
    for p in procs:
        p.start()
    expense = submit(demo_org["emma"], "120.00")  # waits on max

    def routed():  # the worker process may start slowly on a loaded machine
        expense.refresh_from_db()
        return expense.pending_approvers == ["max"]

    wait_for(routed, timeout=120, interval=0.5, message="never routed to max")
    base = f"http://127.0.0.1:{port}"
    browsers = [WebUser(base, "max") for _ in range(24)]
    for b in browsers:
        b.sign_in()

    pages: list[tuple[int, str]] = []
    badges: list[tuple[int, dict]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(browsers))

    def browse(user: WebUser) -> None:
        try:
            start.wait(30)
            for _ in range(4):
                status, _headers, html = fetch(user, "/inbox/")
                pages.append((status, html))
                status, headers, _ = fetch(user, "/inbox/count/")
                badges.append((status, headers))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=browse, args=(b,)) for b in browsers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures, failures[:3]
    assert len(pages) == len(badges) == 24 * 4

    missing = [
        AS_OF.search(html).groups() if AS_OF.search(html) else html[:300]
        for status, html in pages
        if status == 200 and expense.pk not in [int(pk) for pk in ROW_ID.findall(html)]
    ]
    assert not missing, missing
    for status, html in pages:
        assert status == 200, html[:500]
        assert 'data-testid="inbox-error"' not in html
    shed = [h for status, h in badges if status == 503]
    assert all(status in (200, 503) for status, _ in badges), [s for s, _ in badges]
    assert shed, "24 browsers on 2 slots: some badge should have been shed"
    assert all(h.get("retry-after") == "5" for h in shed)
    # The metrics say the same, and the pool never ran out into its timeout.
    metrics_text = urllib.request.urlopen(f"{base}/metrics", timeout=30).read().decode()
    counted = re.search(r'approvals_web_shed_total\{kind="badge"\} ([\d.]+)', metrics_text)
    assert counted and float(counted.group(1)) == len(shed)
    log = (tmp_path / "web.log").read_text()
    assert "couldn't get a connection" not in log
    assert "Internal Server Error" not in log


# ------------------------------------------------------------- the queue itself
class Slow:
    """An ASGI app that answers after `seconds`, noting the order it started requests."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: list[str] = []

    async def __call__(self, scope, receive, send):
        self.started.append(scope["path"])
        await asyncio.sleep(self.seconds)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(
    app, path: str, language: str = "en", method: str = "GET"
) -> tuple[int, dict, bytes]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"accept-language", language.encode())],
    }
    out: dict = {}

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            out["body"] = message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def test_pages_queue_before_badges_and_a_badge_that_would_wait_is_shed(settings):
    settings.WEB_MAX_INFLIGHT = 1
    settings.WEB_QUEUE_WAIT = 5
    settings.WEB_BADGE_WAIT = 0.5
    inner = Slow(0.2)
    app = Admission(inner)

    async def scenario():
        first = asyncio.ensure_future(call(app, "/inbox/"))
        await asyncio.sleep(0.05)  # the slot is taken
        badge = asyncio.ensure_future(call(app, "/inbox/count/"))
        await asyncio.sleep(0.01)
        page = asyncio.ensure_future(call(app, "/requests/"))
        return await asyncio.gather(first, badge, page)

    (s1, _, _), (s2, _, _), (s3, _, _) = asyncio.run(scenario())
    assert (s1, s2, s3) == (200, 200, 200)
    # The page that came after the badge went in before it.
    assert inner.started == ["/inbox/", "/requests/", "/inbox/count/"]
    assert app.inflight == 0

    inner.started.clear()

    async def decision_first():
        first = asyncio.ensure_future(call(app, "/inbox/"))
        await asyncio.sleep(0.05)
        page = asyncio.ensure_future(call(app, "/requests/"))
        await asyncio.sleep(0.01)
        form = asyncio.ensure_future(call(app, "/requests/7/decide/", method="POST"))
        return await asyncio.gather(first, page, form)

    assert [s for s, _, _ in asyncio.run(decision_first())] == [200, 200, 200]
    # A decision someone sent goes before a page asked for earlier.
    assert inner.started == ["/inbox/", "/requests/7/decide/", "/requests/"]
    assert app.inflight == 0

    settings.WEB_BADGE_WAIT = 0.05
    inner.started.clear()

    async def shed():
        first = asyncio.ensure_future(call(app, "/inbox/"))
        await asyncio.sleep(0.05)
        badge = await call(app, "/inbox/count/")
        await first
        return badge

    status, headers, body = asyncio.run(shed())
    assert status == 503 and headers["retry-after"] == "5" and body == b""
    assert inner.started == ["/inbox/"]  # the shed badge never reached Django
    assert app.inflight == 0


def test_a_page_that_waited_too_long_gets_503_in_the_readers_language(settings):
    settings.WEB_MAX_INFLIGHT = 1
    settings.WEB_QUEUE_WAIT = 0.1
    app = Admission(Slow(0.5))

    async def scenario(language, method):
        first = asyncio.ensure_future(call(app, "/inbox/"))
        await asyncio.sleep(0.05)
        second = await call(app, "/inbox/", language, method)
        await first
        return second

    status, headers, body = asyncio.run(scenario("de", "GET"))
    html = body.decode()
    assert status == 503 and headers["retry-after"] == "5"
    assert 'lang="de"' in html and 'data-testid="busy"' in html
    assert "versucht es in 5 Sekunden von selbst erneut" in html
    assert 'http-equiv="refresh"' in html

    status, _, body = asyncio.run(scenario("en", "POST"))
    html = body.decode()
    assert status == 503
    assert "Nothing was saved" in html and 'http-equiv="refresh"' not in html
    assert app.inflight == 0


def test_health_metrics_and_static_files_need_no_slot(settings):
    settings.WEB_MAX_INFLIGHT = 1
    settings.WEB_QUEUE_WAIT = 0.05
    inner = Slow(0.3)
    app = Admission(inner)

    async def scenario():
        first = asyncio.ensure_future(call(app, "/inbox/"))
        await asyncio.sleep(0.05)
        rest = await asyncio.gather(
            call(app, "/healthz"), call(app, "/metrics"), call(app, settings.STATIC_URL + "x.css")
        )
        await first
        return rest

    assert [s for s, _, _ in asyncio.run(scenario())] == [200, 200, 200]


def test_web_concurrency_from_the_environment(monkeypatch):
    """WEB_CONCURRENCY web processes; one with the worker in process; words for bad values."""
    import os

    from django.core.management.base import CommandError

    from approvals.management.commands.serve import web_concurrency

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert web_concurrency(with_worker=False) == max(1, min(2, os.cpu_count() or 1))
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert web_concurrency(with_worker=False) == 3
    assert web_concurrency(with_worker=True) == 1  # embedded: one process keeps it all
    for bad in ("two", "0"):
        monkeypatch.setenv("WEB_CONCURRENCY", bad)
        with pytest.raises(CommandError, match="WEB_CONCURRENCY"):
            web_concurrency(with_worker=False)
