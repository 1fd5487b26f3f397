"""Every visibility call of the web processes, under one budget (DESIGN.md §1).

Visibility (List/CountWorkflowExecutions) is the scarcest thing a Temporal
deployment has: a self-hosted frontend allows 10 calls a second per namespace
by default, Temporal Cloud 30. All of the product's visibility calls go through
`list_page` and `count` here, which first take a token from a bucket refilled
at `TEMPORAL_VISIBILITY_RPS` a second:

- shared by every web process through Redis when `REDIS_URL` is set (one Lua
  script, Redis' own clock), in process otherwise (the embedded mode has one
  process);
- with priorities: a lower priority may only take a token while a reserve is
  left for the higher ones, and waits less (an inbox page an event changed waits
  a few tens of milliseconds; the safety-net refresh of an unchanged one and a
  badge not at all; /ops/ and digests longer, from above their reserve);
- with no silent retries: the SDK retries RESOURCE_EXHAUSTED for seconds, so
  the RPCs are made with `retry=False` and a throttle from the server is a
  `Throttled` like an empty bucket. The caller then serves what it has (the
  inbox: the last good result with its age), never an error.

Metrics: `approvals_visibility_calls_total{call,priority,outcome}`,
`approvals_visibility_wait_seconds{priority}`,
`approvals_visibility_throttled_total{priority,reason}`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import IntEnum
from typing import Any

from django.conf import settings
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    ListWorkflowExecutionsRequest,
)
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError, RPCStatusCode

from core.shared_state import redis_client, redis_key

from .. import metrics
from .client import call

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Who spends the budget first (lower value first)."""

    INBOX = 0  # an inbox page or the API inbox that an event made stale
    REFRESH = 1  # a stored result only older than INBOX_CACHE_MAX_AGE (nothing changed)
    BADGE = 2
    OPS = 3
    DIGEST = 4


# Share of the bucket a priority must leave for the ones above it, and how long it
# may wait for a token (seconds; the inbox's comes from the settings).
RESERVE = {
    Priority.INBOX: 0.0,
    Priority.REFRESH: 0.2,
    Priority.BADGE: 0.3,
    Priority.OPS: 0.5,
    Priority.DIGEST: 0.75,
}
MAX_WAIT = {Priority.REFRESH: 0.0, Priority.BADGE: 0.0, Priority.OPS: 1.0, Priority.DIGEST: 10.0}


class Throttled(Exception):
    """No visibility call now: the budget is spent (`reason="budget"`) or Temporal
    answered RESOURCE_EXHAUSTED (`reason="server"`)."""

    def __init__(self, reason: str, wait: float = 0.0) -> None:
        super().__init__(f"visibility throttled ({reason})")
        self.reason = reason
        self.wait = wait


def rate() -> float:
    return max(0.01, float(settings.TEMPORAL_VISIBILITY_RPS))


def capacity() -> float:
    burst = float(getattr(settings, "TEMPORAL_VISIBILITY_BURST", 0) or 0)
    return max(1.0, burst or rate())


def max_wait(priority: Priority) -> float:
    if priority == Priority.INBOX:
        return float(settings.TEMPORAL_VISIBILITY_PAGE_WAIT)
    return MAX_WAIT[priority]


class LocalBucket:
    """The bucket of one process (embedded mode, tests without Redis)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: float | None = None
        self._at = 0.0

    def take(self, reserve: float) -> float:
        """0 when a token was taken, else the seconds until one may be."""
        cap, per_s = capacity(), rate()
        with self._lock:
            now = time.monotonic()
            if self._tokens is None:
                self._tokens = cap
            else:
                self._tokens = min(cap, self._tokens + (now - self._at) * per_s)
            self._at = now
            if self._tokens >= 1 + reserve:
                self._tokens -= 1
                return 0.0
            return (1 + reserve - self._tokens) / per_s

    def reset(self) -> None:
        with self._lock:
            self._tokens = None


# Refill and take in one step on Redis' clock, so processes on several hosts agree.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_ms = tonumber(ARGV[1]) / 1000
local cap = tonumber(ARGV[2])
local need = 1 + tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then tokens = cap; at = now end
tokens = math.min(cap, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if tokens >= need then tokens = tokens - 1 else wait = math.ceil((need - tokens) / per_ms) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 600000)
return wait
"""


class RedisBucket:
    """The bucket every web process on one Redis shares."""

    def __init__(self, client) -> None:
        self._script = client.register_script(_TAKE)

    def take(self, reserve: float) -> float:
        key = redis_key("visibility:bucket", settings.TEMPORAL_NAMESPACE)
        wait_ms = self._script(keys=[key], args=[rate(), capacity(), reserve])
        return int(wait_ms) / 1000

    def reset(self) -> None:
        client = redis_client()
        if client is not None:
            client.delete(redis_key("visibility:bucket", settings.TEMPORAL_NAMESPACE))


_local = LocalBucket()
_buckets: dict[int, RedisBucket] = {}


def bucket() -> LocalBucket | RedisBucket:
    client = redis_client()
    if client is None:
        return _local
    if id(client) not in _buckets:
        _buckets[id(client)] = RedisBucket(client)
    return _buckets[id(client)]


def acquire(priority: Priority, *, wait: float | None = None) -> float:
    """Take one token, waiting at most `wait` (the priority's default); returns the
    seconds waited, raises Throttled when none comes in time."""
    limit = max_wait(priority) if wait is None else wait
    reserve = RESERVE[priority] * capacity()  # in tokens
    started = time.monotonic()
    label = priority.name.lower()
    while True:
        try:
            needed = bucket().take(reserve)
        except Exception:  # noqa: BLE001 - Redis down: this process's own bucket meanwhile
            log.warning("visibility budget: Redis unreachable, using this process's bucket")
            needed = _local.take(reserve)
        waited = time.monotonic() - started
        if needed <= 0:
            metrics.VISIBILITY_WAIT.labels(priority=label).observe(waited)
            return waited
        if waited + needed > limit:
            metrics.VISIBILITY_THROTTLED.labels(priority=label, reason="budget").inc()
            raise Throttled("budget", wait=needed)
        time.sleep(needed)


def reset() -> None:
    """Forget the bucket's state (tests)."""
    _local.reset()
    b = bucket()
    if not isinstance(b, LocalBucket):
        b.reset()


def _rpc_timeout() -> timedelta:
    return timedelta(seconds=float(settings.TEMPORAL_CALL_TIMEOUT))


def _spend(
    call_name: str,
    priority: Priority,
    fn: Callable[[Client], Awaitable[Any]],
    wait: float | None = None,
) -> Any:
    label = priority.name.lower()
    acquire(priority, wait=wait)
    calls = metrics.VISIBILITY_CALLS
    try:
        result = call(fn)
    except RPCError as exc:
        if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            calls.labels(call=call_name, priority=label, outcome="throttled").inc()
            metrics.VISIBILITY_THROTTLED.labels(priority=label, reason="server").inc()
            raise Throttled("server") from exc
        calls.labels(call=call_name, priority=label, outcome="error").inc()
        raise
    except Exception:
        calls.labels(call=call_name, priority=label, outcome="error").inc()
        raise
    calls.labels(call=call_name, priority=label, outcome="ok").inc()
    return result


def list_page(
    query: str,
    *,
    page_size: int,
    token: bytes | None,
    priority: Priority,
    then: Callable[[Client, list[WorkflowExecution]], Awaitable[Any]] | None = None,
    wait: float | None = None,
) -> tuple[Any, bytes | None]:
    """One ListWorkflowExecutions page: (executions, or `then(client, executions)`,
    the next page token). Raises Throttled, TemporalUnavailable or RPCError."""

    async def fn(client: Client):
        response = await client.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(
                namespace=client.namespace,
                page_size=page_size,
                next_page_token=token or b"",
                query=query,
            ),
            retry=False,
            timeout=_rpc_timeout(),
        )
        executions = [
            WorkflowExecution._from_raw_info(info, client.namespace, client.data_converter)
            for info in response.executions
        ]
        out = await then(client, executions) if then is not None else executions
        return out, response.next_page_token or None

    return _spend("list", priority, fn, wait)


def count(query: str, *, priority: Priority, wait: float | None = None) -> int:
    """One CountWorkflowExecutions. Raises Throttled, TemporalUnavailable or RPCError."""

    async def fn(client: Client) -> int:
        response = await client.workflow_service.count_workflow_executions(
            CountWorkflowExecutionsRequest(namespace=client.namespace, query=query),
            retry=False,
            timeout=_rpc_timeout(),
        )
        return int(response.count)

    return _spend("count", priority, fn, wait)
