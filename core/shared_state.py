"""State the web processes share: Redis when `REDIS_URL` is set, else nothing
(the embedded mode runs one process, and callers keep their state in memory).

Used by the visibility budget (`temporal/visibility.py`) and the inbox's result
cache and change feed (`inbox_feed.py`). One synchronous client per URL and
process (redis-py pools its connections and is thread-safe); keys carry
`REDIS_PREFIX`, like the channel layer's.
"""

from __future__ import annotations

import threading

from django.conf import settings

_lock = threading.Lock()
_clients: dict[str, object] = {}


def redis_client():
    """The process's Redis client, or None without REDIS_URL."""
    url = getattr(settings, "REDIS_URL", "") or ""
    if not url:
        return None
    with _lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(
                url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
            )
            _clients[url] = client
        return client


def redis_key(*parts: object) -> str:
    prefix = getattr(settings, "REDIS_PREFIX", "") or "approvals"
    return ":".join([prefix, *(str(p) for p in parts)])
