"""Websocket security through the real ASGI application (config.asgi).

Foreign origins and a missing Origin are refused by AllowedHostsOriginValidator
before anything else; anonymous and deactivated users are closed, never
joined; a signed-in user hears only about their own group; pushed fragments
escape markup carried in the event.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tests.support.ws import Socket
from tests.support.ws import session_cookie as _session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

XSS = '<script>alert("xss")</script>'
ORIGIN = b"http://localhost"


async def connect(user=None, origin: bytes | None = ORIGIN):
    headers = [(b"host", b"localhost")]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(_session_cookie)(user)))
    communicator = Socket(headers)
    connected = await communicator.connect()
    code = communicator.close_code
    return communicator, connected, code


@pytest.fixture
def people(demo_org):
    return demo_org


async def test_signed_in_user_with_our_origin_connects(people):
    communicator, connected, _ = await connect(people["max"])
    assert connected
    await communicator.disconnect()


async def test_foreign_or_missing_origin_is_refused(people):
    for origin in (b"http://evil.example", b"null", b"http://localhost.evil.example", None):
        communicator, connected, _ = await connect(people["max"], origin=origin)
        assert not connected, origin
        await communicator.disconnect()


async def test_anonymous_socket_is_closed_not_joined():
    communicator, connected, code = await connect(None)
    assert not connected
    assert code == 4401


async def test_deactivated_user_is_closed(people):
    max_ = people["max"]
    communicator_ok, connected, _ = await connect(max_)
    assert connected
    await communicator_ok.disconnect()
    max_.is_active = False
    await database_sync_to_async(max_.save)(update_fields=["is_active"])
    communicator, connected, _ = await connect(max_)
    assert not connected


async def test_events_reach_only_their_user_and_markup_is_escaped(people):
    emma, finn = people["emma"], people["finn"]
    emma_ws, ok_emma, _ = await connect(emma)
    finn_ws, ok_finn, _ = await connect(finn)
    assert ok_emma and ok_finn
    event = {
        "type": "request.changed",
        "request_id": 4242,
        "status": "pending",
        "title": XSS,
        "requester": "emma",
        "requester_display": XSS,
        "pending": ["max"],
        "amount_cents": 1000,
        "currency": "EUR",
    }
    await get_channel_layer().group_send(f"user.{emma.pk}", event)
    html = await emma_ws.receive_from(timeout=5)
    assert "4242" in html
    assert XSS not in html
    assert await finn_ws.receive_nothing(timeout=0.5)  # finn's group heard nothing
    # What a client sends is ignored, never echoed or acted on.
    await finn_ws.send_to(text_data=XSS)
    assert await finn_ws.receive_nothing(timeout=0.5)
    await emma_ws.disconnect()
    await finn_ws.disconnect()
