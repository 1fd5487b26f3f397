"""Names of the channel-layer groups a page's websocket joins (approvals/consumers.py).

A leaf: the consumer joins them, activities and signals send to them, and neither
needs the other for it.
"""

from __future__ import annotations

import hashlib


def session_group(session_key: str) -> str:
    """The group of one session's sockets (hashed: the key is a credential)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:48]


def request_group(request_id: int) -> str:
    """The group of the sockets of pages showing request `request_id`."""
    return f"request.{int(request_id)}"
