"""Live updates of a requester's pages through a real websocket and a real Redis layer.

The worker's activities (their own thread and event loop) publish to the
channel layer; the test's socket, in another loop, must receive the rendered
fragment. Only Redis connects the two, as between processes in production.
"""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from approvals import services
from tests.support.requests import submit, wait_pending_level
from tests.support.ws import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


def socket(cookie: bytes | None = None, origin=ORIGIN) -> Socket:
    headers = [origin, (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    return Socket(headers)


async def receive_until(communicator, predicate, timeout: float = 30) -> list[str]:
    """Messages until one satisfies `predicate` (fails the test on timeout)."""
    seen: list[str] = []
    while True:
        try:
            message = await communicator.receive_from(timeout=timeout)
        except TimeoutError:
            pytest.fail(f"no matching live message; got {len(seen)}: {seen[-3:]}")
        seen.append(message)
        if predicate(message):
            return seen


def badge(request_id: int, status: str):
    # The request's badge, swapped out of band, carrying the new status.
    pattern = re.compile(
        rf'<span id="status-{request_id}"(?=[^>]*data-testid="status")'
        rf'(?=[^>]*hx-swap-oob="true")[^>]*>{status}</span>'
    )
    return lambda html: bool(pattern.search(html))


def test_requester_socket_receives_each_new_status_badge(redis_layer, demo_org, worker):
    emma, finn = demo_org["emma"], demo_org["finn"]
    emma_cookie, finn_cookie = session_cookie(emma), session_cookie(finn)

    async def scenario():
        mine, other = socket(emma_cookie), socket(finn_cookie)
        assert await mine.connect()
        assert await other.connect()
        try:
            request = await sync_to_async(submit)(emma, "4000.00", title="Offsite <b>bold</b>")
            await receive_until(mine, badge(request.pk, "pending"))
            await sync_to_async(wait_pending_level)(request, 1)
            await sync_to_async(services.decision_record)(
                request=request, actor=demo_org["max"], action="approve"
            )
            await sync_to_async(wait_pending_level)(request, 2)
            await sync_to_async(services.decision_record)(
                request=request, actor=demo_org["diana"], action="approve"
            )
            seen = await receive_until(mine, badge(request.pk, "approved"))
            last = seen[-1]
            assert f'"request_id": {request.pk}' in last.replace("&quot;", '"')
            assert "<b>bold</b>" not in "".join(seen)  # nothing typed is sent unescaped
            # Finn is neither requester nor approver: not a word about Emma's request.
            assert await other.receive_nothing(timeout=1)
        finally:
            await mine.disconnect()
            await other.disconnect()

    async_to_sync(scenario)()


def test_approver_socket_hears_of_a_request_awaiting_them(redis_layer, demo_org, worker):
    cookie = session_cookie(demo_org["max"])

    async def scenario():
        communicator = socket(cookie)
        assert await communicator.connect()
        try:
            request = await sync_to_async(submit)(demo_org["emma"], "80.00")
            await receive_until(communicator, badge(request.pk, "pending"))
        finally:
            await communicator.disconnect()

    async_to_sync(scenario)()
