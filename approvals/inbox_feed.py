"""The inbox's shared memory: cached visibility results and the feed of changes.

Written from two sides:

- the worker's activities call `note_change(event)` with every `request.changed`
  event, just before they push it to the people concerned
  (worker/activities.py). It bumps a generation per principal named in the event
  (the request's pending approvers, before and after) and keeps the newest event
  per request (by `seq`) in a short feed per principal;
- the web processes store inbox results (`save`), keyed by the visibility query
  and page, with the generations of the query's principals at the time of the
  call. A result is reused while those generations are unchanged
  (`generations`), and the events since its call are laid over it
  (`changes_since`) so a row that left or reached an inbox does so at once,
  whatever visibility's lag.

With `REDIS_URL` all of it lives in Redis (every web process and the worker
share it; entries expire after FEED_WINDOW); without it, in this process (the
embedded mode, where the worker runs inside the web process).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict

from django.conf import settings

from core.shared_state import redis_client, redis_key

# How long events and results are kept: results older than this are served only
# when there is nothing better, and then without an overlay.
FEED_WINDOW = 15 * 60.0
FEED_MAX_PER_PRINCIPAL = 500


def principals_of_event(event: dict) -> set[str]:
    """Whose inbox queries an event can change: whom it waited on, and waits on now."""
    return {*event.get("pending", []), *event.get("previous_pending", [])} - {""}


def entry_key(query: str, token: bytes | None) -> str:
    digest = hashlib.sha256(query.encode() + b"|" + (token or b"")).hexdigest()[:40]
    return digest


# ------------------------------------------------------------------ in process
class _Local:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gens: dict[str, int] = defaultdict(int)
        self.feed: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.rows: dict[int, dict] = {}
        self.entries: dict[str, dict] = {}
        self.claims: dict[str, float] = {}

    def note(self, event: dict, now: float) -> None:
        rid = int(event["request_id"])
        with self.lock:
            old = self.rows.get(rid)
            if old is None or int(old.get("seq", 0)) <= int(event.get("seq", 0)):
                self.rows[rid] = event
            for name in principals_of_event(event):
                self.gens[name] += 1
                feed = self.feed[name]
                feed.append((now, rid))
                cutoff = now - FEED_WINDOW
                while feed and (feed[0][0] < cutoff or len(feed) > FEED_MAX_PER_PRINCIPAL):
                    feed.pop(0)

    def generations(self, names: list[str]) -> list[int]:
        with self.lock:
            return [self.gens.get(n, 0) for n in names]

    def changes_since(self, names: list[str], since: float) -> dict[int, dict]:
        with self.lock:
            ids = {rid for n in names for at, rid in self.feed.get(n, []) if at >= since}
            return {rid: self.rows[rid] for rid in ids if rid in self.rows}

    def load(self, key: str) -> dict | None:
        with self.lock:
            return self.entries.get(key)

    def save(self, key: str, entry: dict) -> None:
        with self.lock:
            if len(self.entries) > 20000:  # a bound on memory; results are cheap to lose
                self.entries.clear()
            self.entries[key] = entry

    def claim(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        with self.lock:
            if self.claims.get(key, 0) > now:
                return False
            self.claims[key] = now + ttl
            return True

    def release(self, key: str) -> None:
        with self.lock:
            self.claims.pop(key, None)


_local = _Local()

# Keep the newest event of a request (by seq), then bump and feed every principal.
_NOTE = """
local rid = ARGV[1]
local seq = tonumber(ARGV[2])
local now = tonumber(ARGV[4])
local cutoff = now - tonumber(ARGV[5])
local cur = redis.call('HGET', KEYS[1], rid)
local keep = true
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and old['seq'] and tonumber(old['seq']) > seq then keep = false end
end
if keep then redis.call('HSET', KEYS[1], rid, ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
for i = 2, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[5]) * 4)
  redis.call('ZADD', KEYS[i + 1], now, rid)
  redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', cutoff)
  redis.call('ZREMRANGEBYRANK', KEYS[i + 1], 0, -tonumber(ARGV[6]) - 1)
  redis.call('PEXPIRE', KEYS[i + 1], tonumber(ARGV[5]))
end
return 1
"""
_scripts: dict[int, object] = {}


def _k(*parts: object) -> str:
    return redis_key("inbox", *parts)


def _note_script(client):
    if id(client) not in _scripts:
        _scripts[id(client)] = client.register_script(_NOTE)
    return _scripts[id(client)]


# ------------------------------------------------------------------ interface
def note_change(event: dict, *, now: float | None = None) -> None:
    """Record a `request.changed` event (the worker, before pushing it)."""
    now = time.time() if now is None else now
    client = redis_client()
    if client is None:
        _local.note(event, now)
        return
    names = sorted(principals_of_event(event))
    keys = [_k("rows")]
    for name in names:
        keys += [_k("gen", name), _k("feed", name)]
    _note_script(client)(
        keys=keys,
        args=[
            int(event["request_id"]),
            int(event.get("seq", 0)),
            json.dumps(event, default=str),
            int(now * 1000),
            int(FEED_WINDOW * 1000),
            FEED_MAX_PER_PRINCIPAL,
        ],
    )


def generations(names: list[str]) -> list[int]:
    client = redis_client()
    if client is None:
        return _local.generations(names)
    values = client.mget([_k("gen", n) for n in names]) if names else []
    return [int(v or 0) for v in values]


def changes_since(names: list[str], since: float) -> dict[int, dict]:
    """The newest event of each request that changed for `names` since `since`."""
    client = redis_client()
    if client is None:
        return _local.changes_since(names, since)
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.zrangebyscore(_k("feed", name), int(since * 1000), "+inf")
    ids = sorted({int(rid) for found in pipe.execute() for rid in found})
    if not ids:
        return {}
    rows = client.hmget(_k("rows"), ids)
    return {rid: json.loads(raw) for rid, raw in zip(ids, rows, strict=True) if raw}


def load(key: str) -> dict | None:
    client = redis_client()
    if client is None:
        return _local.load(key)
    raw = client.get(_k("entry", key))
    return json.loads(raw) if raw else None


def save(key: str, entry: dict) -> None:
    client = redis_client()
    if client is None:
        _local.save(key, entry)
        return
    client.set(_k("entry", key), json.dumps(entry, default=str), px=int(FEED_WINDOW * 1000))


def claim(key: str, ttl: float) -> bool:
    """True for the one caller (across processes) that makes the call for `key`."""
    client = redis_client()
    if client is None:
        return _local.claim(key, ttl)
    return bool(client.set(_k("claim", key), "1", nx=True, px=max(1, int(ttl * 1000))))


def release(key: str) -> None:
    client = redis_client()
    if client is None:
        _local.release(key)
        return
    client.delete(_k("claim", key))


# ------------------------------------------------------------------ rendered pages
# The inbox page as rendered from a fresh result (views/inbox_pages.py), kept only as
# long as that result stays fresh: the same result is not rendered twice.
_pages: dict[str, tuple[float, bytes]] = {}
_pages_lock = threading.Lock()
PAGES_IN_PROCESS = 2000


def load_page(key: str) -> bytes | None:
    client = redis_client()
    if client is None:
        with _pages_lock:
            found = _pages.get(key)
        return found[1] if found and found[0] > time.monotonic() else None
    return client.get(_k("page", key))


def save_page(key: str, html: bytes, ttl: float) -> None:
    if ttl <= 0:
        return
    client = redis_client()
    if client is None:
        with _pages_lock:
            if len(_pages) >= PAGES_IN_PROCESS:  # a bound on memory: drop the expired
                now = time.monotonic()
                for k in [k for k, (until, _) in _pages.items() if until <= now] or list(_pages):
                    _pages.pop(k, None)
            _pages[key] = (time.monotonic() + ttl, html)
        return
    client.set(_k("page", key), html, px=max(1, int(ttl * 1000)))


def reset() -> None:
    """Forget everything of this process (tests; Redis keys expire on their own)."""
    global _local
    _local = _Local()
    reset_pages()


def reset_pages() -> None:
    """Forget this process's kept pages (tests)."""
    with _pages_lock:
        _pages.clear()


def max_age() -> float:
    return float(settings.INBOX_CACHE_MAX_AGE)
