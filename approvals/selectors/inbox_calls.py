"""The inbox's visibility calls: one per query in flight, and refreshes in the
background (selectors/inbox_results.py decides when; this module makes them).

- **coalescing**: identical queries in flight wait for one call, in this process (a
  future) and across processes (a claim in Redis, then the stored result);
- **in the background**: a result older than the safety net is served at once and
  refreshed by one thread per process, one job per key at a time (`refresh_later`), so
  no view waits for the budget or the call (issue 28's inbox p95).
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict
from datetime import datetime

from django.conf import settings
from temporalio.service import RPCError

from .. import inbox_feed
from ..temporal.client import TemporalUnavailable
from ..temporal.visibility import Priority, Throttled
from .inbox import InboxRow, fetch_inbox_page

log = logging.getLogger(__name__)
# How long a request waits for the same query's call made by another process.
COALESCE_WAIT = 0.5


# ------------------------------------------------------------------ coalescing
_lock = threading.Lock()
_inflight: dict[str, Future] = {}


def _fetch(key, query, token, principals, username, gens, priority) -> dict:
    started = time.time()
    rows, next_token = fetch_inbox_page(
        query, token=token, principals=set(principals), username=username, priority=priority
    )
    entry = {
        "rows": [dump_row(r) for r in rows],
        "next": base64.b64encode(next_token).decode() if next_token else "",
        "started_at": started,
        "fetched_at": time.time(),
        "gens": gens,
    }
    quietly(inbox_feed.save, key, entry)
    return entry


def quietly(fn, *args, default=None):
    """A shared-store operation that may fail (Redis away) without failing the page."""
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - the page goes on without it
        log.warning("inbox results: %s failed", fn.__name__, exc_info=True)
        return default


def _wait_for_other_process(key: str, gens: list[int]) -> dict | None:
    deadline = time.monotonic() + COALESCE_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.02)
        entry = quietly(inbox_feed.load, key)
        if entry is not None and entry["gens"] == gens:
            return entry
    return None


def coalesced(key, query, token, principals, username, gens, priority) -> tuple[dict, str]:
    """One call for identical queries in flight: (entry, 'fetched' | 'coalesced')."""
    with _lock:
        future = _inflight.get(key)
        leader = future is None
        if leader:
            future = Future()
            _inflight[key] = future
    if not leader:
        return future.result(timeout=float(settings.TEMPORAL_CALL_TIMEOUT) + 1), "coalesced"
    try:
        if not quietly(inbox_feed.claim, key, float(settings.TEMPORAL_CALL_TIMEOUT), default=True):
            entry = _wait_for_other_process(key, gens)
            if entry is None:
                raise Throttled("coalesce")
            source = "coalesced"
        else:
            try:
                entry = _fetch(key, query, token, principals, username, gens, priority)
            finally:
                quietly(inbox_feed.release, key)
            source = "fetched"
        future.set_result(entry)
        return entry, source
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited
        raise
    finally:
        with _lock:
            _inflight.pop(key, None)


# ------------------------------------------------------------------ in the background
# Refreshes of results older than the safety net: one thread per process, one job per
# key at a time, so no view waits for the budget or the call (the inbox p95 of issue 28).
_jobs: queue.Queue = queue.Queue(maxsize=5000)
_queued: set[str] = set()
_unavailable: dict[str, float] = {}  # key -> when its refresh found Temporal unreachable
_worker: threading.Thread | None = None
_epoch = 0
_idle = threading.Event()
_idle.set()


def refresh_later(key: str, call: tuple, priority: Priority) -> None:
    """Ask this process's refresher for a call for `key` (once while one is queued)."""
    global _worker
    with _lock:
        if key in _queued:
            return
        _queued.add(key)
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_refresher, name="inbox-refresh", daemon=True)
            _worker.start()
    try:
        _jobs.put_nowait((_epoch, key, call, priority))
    except queue.Full:  # the next view asks again
        with _lock:
            _queued.discard(key)


def _refresher() -> None:
    while True:
        epoch, key, (query, token, principals, username, gens), priority = _jobs.get()
        with _lock:  # reset() bumps the epoch under the lock, then waits for idle
            current = epoch == _epoch
            if current:
                _idle.clear()
        try:
            if current:
                coalesced(key, query, token, principals, username, gens, priority)
                _unavailable.pop(key, None)
        except (TemporalUnavailable, RPCError):
            if len(_unavailable) > 10000:
                _unavailable.clear()
            _unavailable[key] = time.monotonic()
        except Throttled:
            pass  # the budget is spent: the next view asks again
        except Exception:  # noqa: BLE001 - a refresh must never end the refresher
            log.warning("inbox results: a background refresh failed", exc_info=True)
        finally:
            with _lock:
                _queued.discard(key)
            if _jobs.empty():
                _idle.set()


def recently_unavailable(key: str) -> bool:
    """Whether this process's last refresh of `key` found Temporal unreachable (said on
    the page) within the safety net's age."""
    at = _unavailable.get(key)
    return at is not None and time.monotonic() - at < max(inbox_feed.max_age(), 5.0)


def dump_row(row: InboxRow) -> dict:
    data = asdict(row)
    data["due_at"] = row.due_at.isoformat() if row.due_at else None
    data.pop("budget_left_cents", None)
    return data


def load_row(data: dict) -> InboxRow:
    due = data.get("due_at")
    return InboxRow(**{**data, "due_at": datetime.fromisoformat(due) if due else None})


def reset() -> None:
    """Forget in-flight calls and queued refreshes (tests): a refresh asked for before
    is not made, and one under way is waited for (at most 10 s)."""
    global _epoch
    with _lock:
        _epoch += 1
        _inflight.clear()
        _queued.clear()
    while True:
        try:
            _jobs.get_nowait()
        except queue.Empty:
            break
    _idle.wait(10)
    _idle.set()
    _unavailable.clear()
