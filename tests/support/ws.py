"""A websocket client for tests, speaking ASGI straight to the real application.

Channels' own WebsocketCommunicator lives in `channels.testing`, which imports
daphne (not a dependency here); this is the same thing on asgiref's communicator.
"""

from __future__ import annotations

import contextlib

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application


class Socket(ApplicationCommunicator):
    def __init__(
        self, headers: list[tuple[bytes, bytes]], path: str = "/ws/events/", query: bytes = b""
    ) -> None:
        names = {name for name, _ in headers}
        origin = dict(headers).get(b"origin", b"")
        if b"host" not in names and b"://" in origin:
            # A browser on the page sends its site as Host (the origin check compares them).
            headers = [*headers, (b"host", origin.split(b"://", 1)[1])]
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": query,
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(application, scope)
        self.close_code: int | None = None

    async def connect(self, timeout: float = 5) -> bool:
        """True when accepted; when refused, `close_code` says how."""
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout)
        if answer["type"] == "websocket.close":
            self.close_code = answer.get("code", 1000)
            return False
        assert answer["type"] == "websocket.accept", answer
        return True

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def receive_from(self, timeout: float = 5) -> str:
        answer = await self.receive_output(timeout)
        assert answer["type"] == "websocket.send", answer
        return answer["text"]

    async def disconnect(self, code: int = 1000) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        with contextlib.suppress(TimeoutError):  # already closed by the application
            await self.wait(1)


def session_cookie(user) -> bytes:
    """The Cookie header value of a signed-in session for `user`."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()
