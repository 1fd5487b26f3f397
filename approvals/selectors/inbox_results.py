"""What an inbox page shows, spending visibility only when something changed.

The order of preference for one page (the query and page token are the key):

1. **fresh**: a stored result whose principals have had no event since its call
   and that is younger than INBOX_CACHE_MAX_AGE (the safety net for a missed
   event): no call;
   **events**: the same, where principals had events since and those events say
   all a call would (`_maintained`): the result they maintain, no call;
   **refreshing**: either of those, older than the safety net: served at once, and
   the call is made in the background (`refresh_later`): no view waits for it; the
   page says its age (it does not refresh itself: the events keep its rows current,
   and 500 open inboxes asking every few seconds would be load for nothing);
2. **fetched** / **coalesced**: one visibility call through the budget
   (`temporal/visibility.py`, priority INBOX); identical queries in flight wait
   for that one call, in this process (a future) and across processes (a claim
   in Redis, then the stored result);
   (a cold inbox, or a change only a call can place: a longer listing's row that
   left or arrived);
3. **stale**: that call could not be made (the budget is spent, Temporal throttles
   or is unreachable): the last good result, with its age, and the page refreshes
   itself;
4. **record**: nothing stored for this query yet (a cold inbox on Monday
   morning): the first page from the projection (written by the activities
   before they push), stated on the page, which refreshes itself.

Whatever the source, the events since the result's call (`inbox_feed`) are laid
over it: a row whose request no longer waits on these principals leaves, one
that newly does arrives (first page only, when it matches the filters). So a
decision shows everywhere as soon as its event is out, whatever visibility's lag
and whether or not a call could be made. Visibility is never used to decide
who may do what: the workflow's validator does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone
from temporalio.service import RPCError, RPCStatusCode

from accounts.models import User

from .. import inbox_feed, metrics
from ..models import ExpenseRequest
from ..temporal.client import TemporalUnavailable
from ..temporal.visibility import Priority, Throttled
from ..workflow.contract import Status, eur_cents_of
from . import inbox_calls
from .home import waiting_queryset
from .inbox import (
    PAGE_SIZE,
    InboxRow,
    eur_cents,
    fetch_inbox_page,
    inbox_query,
    principals_of,
    row_from_event,
    sort_by_deadline,
)
from .inbox_calls import coalesced, dump_row, load_row, quietly, recently_unavailable, refresh_later

log = logging.getLogger(__name__)
# Visibility may lag the event that announced a change by this much: events this
# much older than a call are still laid over its result.
VISIBILITY_LAG = 5.0


class PageExpired(Exception):
    """A page token the server no longer accepts (an older listing)."""


@dataclass
class Filters:
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    overdue: bool = False

    @property
    def any(self) -> bool:
        return self.overdue or self.min_amount is not None or self.max_amount is not None


@dataclass
class InboxResult:
    rows: list[InboxRow]
    next_token: bytes | None
    as_of: datetime  # when visibility (or the record) last answered for this page
    source: str  # fresh | fetched | coalesced | stale | record
    unavailable: bool = False  # Temporal unreachable (the page says so, with the rows)
    changes: list[int] = field(default_factory=list)  # request ids the feed changed
    # A digest of the rows it shows, so a page rendered from the same rows can be served
    # again (views/inbox_pages.py); "" where there is none (Redis away).
    version: str = ""
    principals: list[str] = field(default_factory=list)  # the user and whom they stand in for

    @property
    def age_seconds(self) -> int:
        return max(0, int((timezone.now() - self.as_of).total_seconds()))

    @property
    def behind(self) -> bool:
        """Served from an older result or the record: the page refreshes itself."""
        return self.source in ("stale", "record")


# ------------------------------------------------------------------ the result
def inbox_result(*, user: User, token: bytes | None, filters: Filters | None = None) -> InboxResult:
    """The page of what `user` may decide (see the module docstring). Raises
    PageExpired for a page token the server no longer accepts; never Temporal's errors."""
    filters = filters or Filters()
    principals = principals_of(user)
    result = _result(user, token, filters, principals)
    result.principals = principals
    return result


def _result(user: User, token: bytes | None, filters: Filters, principals) -> InboxResult:
    query = inbox_query(
        principals,
        me=user.username,
        min_cents=eur_cents(filters.min_amount),
        max_cents=eur_cents(filters.max_amount),
        overdue=filters.overdue,
    )
    key = inbox_feed.entry_key(query, token)
    try:
        gens = inbox_feed.generations(principals)
        entry = inbox_feed.load(key)
    except Exception:  # noqa: BLE001 - Redis unreachable: no stored results, still a page
        log.warning("inbox results: the shared store is unreachable", exc_info=True)
        return _without_store(user, query, token, principals, filters)
    now = time.time()
    if entry is not None and now - entry["fetched_at"] < _max_age():
        if entry["gens"] == gens:
            return _served(entry, "fresh", principals, user, filters, token)
        # Something changed: the events say what. Where they say all of it, the result
        # they maintain is served without a call (see `_maintained`).
        maintained = _maintained(entry, gens, principals, user, filters, token)
        if maintained is not None:
            return maintained
    elif entry is not None:
        # Older than the safety net: the call is made in the background (nothing changed:
        # from above a reserve, so inboxes an event changed go first) and this view gets
        # the stored result with the events since, saying its age.
        late = _maintained(entry, gens, principals, user, filters, token, source="refreshing")
        if late is not None:
            unchanged = entry["gens"] == gens
            refresh_later(
                key,
                (query, token, principals, user.username, gens),
                Priority.REFRESH if unchanged else Priority.INBOX,
            )
            late.unavailable = recently_unavailable(key)
            return late
    # A cold inbox, or a change only a call can place: the call now, if the budget allows.
    unavailable = False
    # The budget's wait, the call (up to TEMPORAL_CALL_TIMEOUT) or another request's
    # call: none of it needs the database, so its connection goes back to the pool.
    release_connection()
    try:
        fetched, source = coalesced(
            key, query, token, principals, user.username, gens, Priority.INBOX
        )
        return _served(fetched, source, principals, user, filters, token)
    except Throttled:
        pass
    except TemporalUnavailable:
        unavailable = True
    except RPCError as exc:
        if token is not None and exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise PageExpired(str(exc)) from exc
        unavailable = True
    if entry is not None:
        result = _served(entry, "stale", principals, user, filters, token)
    else:
        result = _from_record(user, principals, filters)
    result.unavailable = unavailable
    return result


def release_connection() -> None:
    """Give this thread's database connection back to the pool before waiting on
    Temporal (with the pool, `close()` returns it; the next query takes one again).
    Not inside a transaction, and not without a pool (a plain connection would be
    reopened for the queries after the call)."""
    from django.db import connection

    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


def _without_store(user, query, token, principals, filters) -> InboxResult:
    """Redis down: one budgeted call, else the record (nothing to reuse, nothing kept)."""
    release_connection()
    try:
        rows, next_token = fetch_inbox_page(
            query, token=token, principals=set(principals), username=user.username
        )
    except RPCError as exc:
        if token is not None and exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise PageExpired(str(exc)) from exc
        return _from_record(user, principals, filters, unavailable=True)
    except (Throttled, TemporalUnavailable) as exc:
        return _from_record(user, principals, filters, unavailable=not isinstance(exc, Throttled))
    metrics.INBOX_RESULTS.labels(source="fetched").inc()
    return InboxResult(rows=rows, next_token=next_token, as_of=timezone.now(), source="fetched")


def _max_age() -> float:
    return inbox_feed.max_age()


def _maintained(
    entry, gens, principals, user, filters, token, *, source: str = "events"
) -> InboxResult | None:
    """The stored result with the events since laid over it, when that is the whole
    answer a call would give (as `source`: "events", no call; "refreshing", older than
    the safety net); None when only a call can say.

    The events are the workflow's own (`inbox_feed.note_change`, written before any
    push), so they are what visibility will say once it has caught up. They are the
    whole answer when the stored result is the complete listing (the first page, no
    next one) and stays within one page, or, on a longer listing, when no row left or
    arrived on this page (a row leaving would pull one up from the next page; an
    arrival may belong on any page). Not when more events came than a principal's feed
    keeps."""
    events = sum(now - then for now, then in zip(gens, entry["gens"], strict=False))
    if len(gens) != len(entry["gens"]) or events > inbox_feed.FEED_MAX_PER_PRINCIPAL:
        return None
    result, changes, stored_ids = _overlaid(entry, principals, user, filters, token)
    if len(result.rows) > PAGE_SIZE:
        return None
    if token is not None or entry["next"]:
        arrived = any(
            rid not in stored_ids
            and belongs(event, principals=principals, me=user.username, filters=filters)
            for rid, event in changes.items()
        )
        if arrived or {r.request_id for r in result.rows} != stored_ids:
            return None
    metrics.INBOX_RESULTS.labels(source=source).inc()
    result.source = source
    return result


def _served(entry, source, principals, user, filters, token) -> InboxResult:
    metrics.INBOX_RESULTS.labels(source=source).inc()
    result, _, _ = _overlaid(entry, principals, user, filters, token)
    result.source = source
    return result


def _overlaid(entry, principals, user, filters, token) -> tuple[InboxResult, dict, set[int]]:
    """The stored result with the events since its call laid over it, those events (by
    request id) and the ids the result stored."""
    rows = [load_row(r) for r in entry["rows"]]
    stored_ids = {r.request_id for r in rows}
    since = entry["started_at"] - VISIBILITY_LAG
    changes = quietly(inbox_feed.changes_since, principals, since, default={})
    # Arrivals only where the result is the whole listing: in a longer one the row may
    # already be on a later page (the next call places it).
    rows = overlay(
        rows,
        changes,
        principals=principals,
        me=user.username,
        filters=filters,
        arrivals=token is None and not entry["next"],
    )
    result = InboxResult(
        rows=rows,
        next_token=base64.b64decode(entry["next"]) if entry["next"] else None,
        as_of=datetime.fromtimestamp(entry["fetched_at"], tz=UTC),
        source="",
        changes=sorted(changes),
        version=rows_version(principals, rows, entry["next"]),
    )
    return result, changes, stored_ids


def rows_version(principals, rows, next_token: str) -> str:
    """What the page shows of the rows: a refresh (or a late result, or the record) that
    finds the same rows is the same version (views/inbox_pages.py serves the page
    rendered from it, with the "as of" line and the list's refresh made current)."""
    stamp = [principals, [dump_row(r) for r in rows], next_token]
    return hashlib.sha256(json.dumps(stamp, default=str).encode()).hexdigest()[:32]


def row_digest(row: InboxRow) -> str:
    """What the page shows of one row, as a digest (views/inbox_pages.py)."""
    return hashlib.sha256(json.dumps(dump_row(row), default=str).encode()).hexdigest()[:24]


def belongs(event: dict, *, principals: list[str], me: str, filters: Filters) -> bool:
    """Whether the request of `event` waits on these principals and matches the filters
    (what the visibility query says, from the event's own data)."""
    if event.get("status") != Status.PENDING or event.get("requester") == me:
        return False
    if not set(principals) & set(event.get("pending", [])):
        return False
    cents = int(event.get("base_amount_cents") or event.get("amount_cents") or 0)
    low, high = eur_cents(filters.min_amount), eur_cents(filters.max_amount)
    if (low is not None and cents < low) or (high is not None and cents > high):
        return False
    if filters.overdue:
        due = event.get("due_at")
        return bool(due) and datetime.fromisoformat(due) < timezone.now()
    return True


def overlay(rows, changes: dict[int, dict], *, principals, me, filters, arrivals) -> list:
    """`rows` as the events in `changes` left them: rows that left are dropped, rows
    still there take the event's state, new rows are added when `arrivals`."""
    if not changes:
        return rows
    mine = set(principals)
    out = [r for r in rows if r.request_id not in changes]
    for rid, event in changes.items():
        if not belongs(event, principals=principals, me=me, filters=filters):
            continue
        if not arrivals and not any(r.request_id == rid for r in rows):
            continue
        pending = list(event.get("pending", []))
        on_behalf = "" if me in pending else next((p for p in pending if p in mine), "")
        out.append(row_from_event(event, on_behalf_of=on_behalf))
    return sort_by_deadline(out)


def _from_record(
    user: User, principals: list[str], filters: Filters, *, unavailable: bool = False
) -> InboxResult:
    """The first page from the projection (nothing stored for this query yet)."""
    metrics.INBOX_RESULTS.labels(source="record").inc()
    qs, in_python = waiting_queryset(principals)
    qs = qs.exclude(requester=user).select_related("requester")
    if filters.overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    qs = qs.order_by("due_at", "pk")
    limited = in_python is None and filters.min_amount is None and filters.max_amount is None
    found = list(qs[:PAGE_SIZE] if limited else qs)
    if in_python is not None:
        found = [r for r in found if in_python & set(r.pending_approvers)]
    low, high = eur_cents(filters.min_amount), eur_cents(filters.max_amount)
    rows = []
    for r in found:
        row = _record_row(r, set(principals), user.username)
        cents = eur_cents_of(row)
        if (low is not None and cents < low) or (high is not None and cents > high):
            continue
        rows.append(row)
    rows = sort_by_deadline(rows)[:PAGE_SIZE]
    return InboxResult(
        rows=rows,
        next_token=None,
        as_of=timezone.now(),
        source="record",
        unavailable=unavailable,
        version=rows_version(principals, rows, ""),
    )


def _record_row(r: ExpenseRequest, principals: set[str], me: str) -> InboxRow:
    pending = list(r.pending_approvers)
    mine = [p for p in pending if p in principals]
    return InboxRow(
        request_id=r.pk,
        title=r.title,
        requester_display=r.requester.display_name,
        requester=r.requester.username,
        amount_cents=r.amount_cents,
        currency=r.currency,
        submitted_at=r.created_at.isoformat(),
        due_at=r.due_at,
        pending=pending,
        on_behalf_of="" if me in mine or not mine else mine[0],
        base_amount_cents=r.base_amount_cents or 0,
        fx_rate=str(r.fx_rate) if r.fx_rate is not None else "",
        fx_rate_date=r.fx_rate_date.isoformat() if r.fx_rate_date else "",
    )


def reset() -> None:
    """Forget in-flight calls and queued refreshes (tests)."""
    inbox_calls.reset()
