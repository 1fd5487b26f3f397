"""Which Origin may open a websocket: scheme, host and port, not the host alone.

Channels' AllowedHostsOriginValidator compares only the host with
ALLOWED_HOSTS, so `http://127.0.0.1:9999` (another program on this machine)
was accepted for a site on port 8000. Here an Origin is accepted when it is
one of CSRF_TRUSTED_ORIGINS exactly, or when it is this very site: its host
and port equal the socket's Host header, that host is in ALLOWED_HOSTS and
the scheme fits the socket's (http for ws, https for wss).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
HTTP_SCHEME = {"ws": "http", "wss": "https"}


def _origin_tuple(value: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.path not in ("", "/"):
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def origin_allowed(origin: str, host_header: str, socket_scheme: str = "ws") -> bool:
    parsed = _origin_tuple(origin)
    if parsed is None:
        return False
    trusted = {_origin_tuple(o) for o in settings.CSRF_TRUSTED_ORIGINS} - {None}
    if parsed in trusted:
        return True
    scheme = HTTP_SCHEME.get(socket_scheme, "http")
    host, port = split_domain_port(host_header.lower())
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    port_number = int(port) if port else DEFAULT_PORTS[scheme]
    return parsed == (scheme, host.strip("[]"), port_number)


class SameOriginValidator:
    """ASGI middleware: refuse a websocket whose Origin is not ours (see module doc)."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        if origin_allowed(origin, host, scope.get("scheme", "ws")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
