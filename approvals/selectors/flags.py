"""Reads of the spend checks' flags, worded in the reader's language (`flag_labels`):
for one request (its page, mail, API) and for a page of inbox rows.

The inbox reads no table per view (its rows come from visibility; tests/approvals/
test_inbox.py holds it to that): a page's flags come from the cache, where submission
(`services.flags.store`) puts every request's flags, none included; what the cache
misses (another process, evicted, a note changed them) is read in one query for the
page and put back.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.core.cache import cache

from ..flag_labels import worded
from ..models import ExpenseRequest, LineFlag

CACHE_SECONDS = 7 * 24 * 3600
FIELDS = ("position", "code", "severity", "params", "note")


def cache_key(request_id: int) -> str:
    return f"flags:v1:{request_id}"


def remember(request_id: int, flags: list[dict]) -> None:
    """Cache a request's flags as plain data (`FIELDS`); [] for none."""
    cache.set(cache_key(request_id), flags, CACHE_SECONDS)


def forget(request_id: int) -> None:
    cache.delete(cache_key(request_id))


def flags_of(request: ExpenseRequest) -> list[dict]:
    return [worded(f) for f in request.flags.all()]


def flags_of_id(request_id: int) -> list[dict]:
    return [worded(f) for f in LineFlag.objects.filter(request_id=request_id)]


def by_line(flags: list[dict]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for flag in flags:
        found.setdefault(flag["line"], []).append(flag)
    return found


def attach(rows: list) -> list:
    """Set `row.flags` (worded) on each inbox row, from the cache (misses: one query)."""
    ids = [row.request_id for row in rows]
    cached = cache.get_many([cache_key(pk) for pk in ids]) if ids else {}
    raw = {pk: cached[cache_key(pk)] for pk in ids if cache_key(pk) in cached}
    missing = [pk for pk in ids if pk not in raw]
    if missing:
        read: dict[int, list[dict]] = {pk: [] for pk in missing}
        for flag in LineFlag.objects.filter(request_id__in=missing).order_by("position", "pk"):
            read[flag.request_id].append({f: getattr(flag, f) for f in FIELDS})
        cache.set_many({cache_key(pk): v for pk, v in read.items()}, CACHE_SECONDS)
        raw |= read
    for row in rows:
        row.flags = [worded(SimpleNamespace(**f)) for f in raw.get(row.request_id, [])]
    return rows
