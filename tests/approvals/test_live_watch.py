"""A request page's socket watches its request (`/ws/events/?watch=<pk>`), through a real
Redis layer and the real worker: whoever may see the request and has its page open hears
of its changes (badge and marker, never an inbox row), nobody else does, and nobody who
is told through their own group hears it twice. Also the request page's hidden words for
a form that a change made impossible (templates/approvals/_moved_on.html).
"""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async

from approvals import services
from approvals.consumers import watched_request
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for
from tests.support.web import client_for
from tests.support.ws import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


async def watching(user, pk) -> Socket:
    cookie = await sync_to_async(session_cookie)(user)
    socket = Socket([ORIGIN, (b"cookie", cookie)], query=f"watch={pk}".encode())
    assert await socket.connect()
    return socket


async def messages_until(socket: Socket, text: str, timeout: float = 20) -> list[str]:
    seen: list[str] = []
    while True:
        try:
            seen.append(await socket.receive_from(timeout=timeout))
        except TimeoutError:
            pytest.fail(f"no message with {text!r}; got {seen!r}")
        if text in seen[-1]:
            return seen


def badge(pk: int, status: str) -> str:
    return (
        f'<span id="status-{pk}" class="badge s-{status}" data-testid="status" '
        f'data-status="{status}" hx-swap-oob="true">{status}</span>'
    )


def test_watch_parameter_is_read_strictly():
    assert watched_request(b"watch=12") == 12
    assert watched_request(b"") is None
    assert watched_request(b"watch=-1") is None
    assert watched_request(b"watch=1%200") is None
    assert watched_request(b"watch=" + b"9" * 20) is None


async def test_an_admin_with_the_page_open_hears_a_change_she_is_not_told_of(
    redis_layer, demo_org, worker
):
    request = await sync_to_async(submit)(demo_org["emma"], "300.00", title="Dinner")
    await sync_to_async(wait_pending_level)(request, 1)
    admin = await watching(demo_org["admin"], request.pk)
    finn = await watching(demo_org["finn"], request.pk)  # may not see it: joins nothing
    try:
        await sync_to_async(services.decision_record)(
            request=request, actor=demo_org["max"], action="approve"
        )
        seen = await messages_until(admin, badge(request.pk, "approved"))
        last = seen[-1].replace("&quot;", '"')
        assert f'"request_id": {request.pk}' in last
        assert "inbox-row" not in "".join(seen)  # a watcher gets no inbox row
        assert 'data-announce="Request #' in seen[-1]
        assert await finn.receive_nothing(timeout=1)
    finally:
        await admin.disconnect()
        await finn.disconnect()


async def test_the_requester_watching_her_own_request_hears_each_change_once(
    redis_layer, demo_org, worker
):
    request = await sync_to_async(submit)(demo_org["emma"], "300.00", title="Dinner")
    await sync_to_async(wait_pending_level)(request, 1)
    emma = await watching(demo_org["emma"], request.pk)
    try:
        await sync_to_async(services.expense_withdraw)(request=request, actor=demo_org["emma"])
        seen = await messages_until(emma, badge(request.pk, "withdrawn"))
        assert sum(badge(request.pk, "withdrawn") in m for m in seen) == 1
        assert await emma.receive_nothing(timeout=1.5)  # not a second time via the watch
    finally:
        await emma.disconnect()


def test_request_page_carries_what_happened_and_the_way_on(demo_org, worker):
    emma, max_ = demo_org["emma"], demo_org["max"]
    first = submit(emma, "300.00", title="Dinner")
    other = submit(emma, "80.00", title="Taxi")
    for request in (first, other):
        wait_pending_level(request, 1)
    wait_for(lambda: all(r.pending_approvers == ["max"] for r in _fresh(first, other)))
    services.expense_withdraw(request=first, actor=emma)
    wait_status(first, "withdrawn")

    html = client_for(max_).get(f"/requests/{first.pk}/").content.decode()
    words = re.search(r'<div id="live-words" hidden>(.*?)</div>', html, re.S).group(1)
    assert "<span data-request>Emma Engel withdrew the request.</span>" in words
    assert f'href="/requests/{other.pk}/" data-testid="next-request"' in html
    assert f"Open the next request: #{other.pk} Taxi" in html

    services.decision_record(request=other, actor=max_, action="approve")
    wait_status(other, "approved")
    german_client = client_for(emma, HTTP_ACCEPT_LANGUAGE="de")
    german = german_client.get(f"/requests/{other.pk}/").content.decode()
    assert '<span data-level="1">Stufe 1 wurde von Max Müller genehmigt.</span>' in german
    assert 'href="/requests/" data-testid="next-request"' in german  # the requester's way on


def _fresh(*requests):
    for request in requests:
        request.refresh_from_db()
    return requests
