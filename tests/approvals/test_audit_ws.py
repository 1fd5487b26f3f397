"""Nothing about someone else's request reaches a non-admin over the websocket.

Real Redis channel layer, real worker publishing from its own thread and
loop, real ASGI application with session authentication.
"""

from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from tests.support.requests import submit
from tests.support.ws import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_finn_receives_nothing_about_emmas_request(demo_org, worker, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": ["redis://127.0.0.1:6379/0"],
                "prefix": f"test-audit-{uuid.uuid4().hex[:8]}",
            },
        }
    }

    emma, finn = demo_org["emma"], demo_org["finn"]
    cookies = {name: session_cookie(demo_org[name]) for name in ("emma", "finn")}

    async def scenario() -> tuple[str, bool, int]:
        sockets = {}
        for name, cookie in cookies.items():
            socket = Socket([(b"cookie", cookie), (b"origin", b"http://127.0.0.1")])
            assert await socket.connect(), name
            sockets[name] = socket
        try:
            request = await sync_to_async(submit)(emma, "500.00", title="Secret offsite")
            # Emma hears about her own request: the pipeline works...
            seen = await sockets["emma"].receive_from(timeout=30)
            # ...and by then the same events have gone to every group addressed.
            quiet = await sockets["finn"].receive_nothing(timeout=1.5)
            return seen, quiet, request.pk
        finally:
            for socket in sockets.values():
                await socket.disconnect()

    seen, quiet, request_id = async_to_sync(scenario)()
    assert str(request_id) in seen
    assert quiet, "finn must not receive anything about emma's request"
    assert finn.username not in json.dumps(seen)
