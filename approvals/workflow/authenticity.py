"""What the payload codec tells the workflow about a payload (Django-free).

The codec (approvals/temporal/codec.py) decrypts payloads before the workflow
sees them and marks each one in its metadata:

- `approvals-authenticated: b"1"`: it was encrypted with one of our keys, so a
  holder of TEMPORAL_PAYLOAD_KEYS (the web app or worker) made it;
- `approvals-undecodable: <reason>`: it claimed our encryption but no key
  opened it (unknown key id, failed authentication); the data is JSON `null`;
- neither: it came unencrypted (a history from before the codec, or the
  `temporal` CLI / UI), and may say anything.

Only the codec sets these flags; it strips them from anything that arrives
unencrypted. A handler that must trust its input takes a
`temporalio.common.RawValue` and asks `is_authenticated(raw.payload)`.
"""

from __future__ import annotations

from temporalio.api.common.v1 import Payload

META_AUTHENTICATED = "approvals-authenticated"
META_UNDECODABLE = "approvals-undecodable"


def is_authenticated(payload: Payload) -> bool:
    return payload.metadata.get(META_AUTHENTICATED) == b"1"


def undecodable_reason(payload: Payload) -> str:
    """Why the codec could not open the payload, or "" when it could (or it was plain)."""
    return payload.metadata.get(META_UNDECODABLE, b"").decode("utf-8", "replace")
