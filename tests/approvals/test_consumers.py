"""The live websocket, end to end through a REAL Redis channel layer.

The worker (its own thread and loop) publishes from its activity; the
consumers run on the test's loop; Redis carries the events between them, as
between the worker process and the web process in production.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Delegation
from approvals import services
from tests.support.requests import submit, wait_pending_level
from tests.support.ws import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


async def open_socket(user=None, origin=ORIGIN) -> tuple[Socket, bool]:
    headers = [origin]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = Socket(headers)
    connected = await communicator.connect(timeout=5)
    return communicator, connected


async def until(communicator, predicate, timeout: float = 20) -> str:
    """Receive messages until one matches; fail with what arrived otherwise."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = await communicator.receive_from(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(message)
        if predicate(message):
            return message
    pytest.fail(f"no matching message within {timeout}s; got {seen!r}")


def adds_row(pk: int):
    pattern = re.compile(
        rf'<div id="inbox-rows" hx-swap-oob="beforeend">.*id="inbox-row-{pk}"', re.S
    )
    return lambda message: bool(pattern.search(message))


def deletes_row(pk: int):
    return lambda message: f'<div id="inbox-row-{pk}" hx-swap-oob="delete"></div>' in message


async def test_arrival_and_departure_reach_the_right_people_only(redis_layer, demo_org, worker):
    emma, max_, diana, maria, finn = (
        demo_org[n] for n in ("emma", "max", "diana", "maria", "finn")
    )
    sockets = {}
    for user in (max_, diana, maria, finn, emma):
        communicator, connected = await open_socket(user)
        assert connected, user.username
        sockets[user.username] = communicator
    try:
        request = await sync_to_async(submit)(emma, "5000.00", title="Offsite <script>x</script>")
        pk = request.pk
        # It arrives in max's open inbox, escaped.
        arrival = await until(sockets["max"], adds_row(pk))
        assert "Offsite &lt;script&gt;x&lt;/script&gt;" in arrival
        assert "<script>x" not in arrival
        await sync_to_async(wait_pending_level)(request, 1)

        # Maria stands in for diana from today.
        await sync_to_async(Delegation.objects.create)(
            user=diana,
            delegate=maria,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=2),
        )

        # Max approves level 1: it leaves max's inbox and arrives in diana's and maria's.
        await sync_to_async(services.decision_record)(request=request, actor=max_, action="approve")
        gone = await until(sockets["max"], deletes_row(pk))
        assert f'id="status-{pk}"' in gone and ">pending<" in gone
        await until(sockets["diana"], adds_row(pk))
        stand_in = await until(sockets["maria"], adds_row(pk))
        assert 'data-testid="on-behalf-of">for diana<' in stand_in
        # The pushed row knows its level, so a stale click is refused as such.
        assert '<input type="hidden" name="level" value="2">' in stand_in

        # Maria decides for diana: the row leaves diana's open inbox too.
        await sync_to_async(services.decision_record)(
            request=request, actor=maria, action="reject", comment="Not this quarter"
        )
        done = await until(sockets["diana"], deletes_row(pk))
        assert f'<span id="status-{pk}" class="badge s-rejected" data-testid="status"' in done
        await until(sockets["maria"], deletes_row(pk))
        # The requester's open pages learn the outcome.
        await until(sockets["emma"], lambda m: f'id="status-{pk}"' in m and ">rejected<" in m)

        # Nothing about emma's request ever reaches finn.
        assert await sockets["finn"].receive_nothing(timeout=1)
    finally:
        for communicator in sockets.values():
            await communicator.disconnect()


async def test_clients_only_listen(redis_layer, demo_org):
    communicator, connected = await open_socket(demo_org["max"])
    assert connected
    await communicator.send_to(text_data='{"type": "request.changed", "request_id": 1}')
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_escalation_moves_the_row_between_open_inboxes(
    redis_layer, demo_org, worker, settings
):
    settings.APPROVAL_SLA_SECONDS = 2
    settings.APPROVAL_REMINDER_SECONDS = 0
    emma, max_, diana = demo_org["emma"], demo_org["max"], demo_org["diana"]
    sockets = {}
    for user in (max_, diana):
        communicator, connected = await open_socket(user)
        assert connected
        sockets[user.username] = communicator
    try:
        request = await sync_to_async(submit)(emma, "300.00", title="Nobody looked")
        await until(sockets["max"], adds_row(request.pk))
        # Nobody decides within the deadline: the level goes to max's manager.
        await until(sockets["max"], deletes_row(request.pk))
        await until(sockets["diana"], adds_row(request.pk))
    finally:
        for communicator in sockets.values():
            await communicator.disconnect()


async def test_pushed_row_speaks_the_language_of_the_page(redis_layer, demo_org, worker):
    """A German browser gets German buttons in a pushed row, not the server default."""
    headers = [
        ORIGIN,
        (b"cookie", await sync_to_async(session_cookie)(demo_org["max"])),
        (b"accept-language", b"de-DE,de;q=0.9,en;q=0.5"),
    ]
    german = Socket(headers)
    connected = await german.connect(timeout=5)
    assert connected
    english, connected = await open_socket(demo_org["max"])
    assert connected
    try:
        request = await sync_to_async(submit)(demo_org["emma"], "120.00", title="Taxi")
        in_german = await until(german, adds_row(request.pk))
        in_english = await until(english, adds_row(request.pk))
        assert ">Genehmigen<" in in_german and ">Approve<" not in in_german
        assert ">Approve<" in in_english
    finally:
        await german.disconnect()
        await english.disconnect()
