"""An inbox result the workflow's events maintain (issue 28): where the events since a
stored result say all a visibility call would, the page is served from them without a
call (source "events"); where they cannot, a call is asked for.

The budget is spent before each view (one token an hour), so "a call was asked for"
shows as the last good result (`stale`), or, older than the safety net, as the stored
result served while the call is asked for in the background (`refreshing`): no
Temporal is needed to tell them apart.
Both stores: this process's (embedded mode) and Redis (own key prefix).
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role, User
from approvals import inbox_feed, metrics
from approvals.selectors import inbox_results
from approvals.selectors.inbox import PAGE_SIZE, InboxRow, inbox_query
from approvals.temporal import visibility
from approvals.workflow.contract import Status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db

DUE = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["process", "redis"])
def store(request, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/5" if request.param == "redis" else ""
    settings.REDIS_PREFIX = f"events-{uuid.uuid4().hex[:8]}"
    settings.INBOX_CACHE_MAX_AGE = 600
    settings.TEMPORAL_VISIBILITY_RPS = 1 / 3600
    settings.TEMPORAL_VISIBILITY_BURST = 1
    visibility.reset()
    visibility.acquire(visibility.Priority.INBOX)  # the hour's one token: no call now
    return request.param


@pytest.fixture
def boss() -> User:
    return User.objects.create_user(f"eb-{uuid.uuid4().hex[:8]}", role=Role.MANAGER)


def row(pk: int, approver: str, *, hours: int = 0) -> InboxRow:
    return InboxRow(
        request_id=pk,
        title=f"Trip {pk}",
        requester_display="Emma",
        requester="emma-x",
        amount_cents=12_000,
        currency="EUR",
        submitted_at="2029-12-01T09:00:00+00:00",
        due_at=DUE + timedelta(hours=hours or pk),
        pending=[approver],
        base_amount_cents=12_000,
    )


def stored(user: User, rows: list[InboxRow], *, next_token: bytes | None = None, token=None):
    """A result as a visibility call would have stored it, a second ago."""
    principals = [user.username]
    key = inbox_feed.entry_key(inbox_query(principals, me=user.username), token)
    started = time.time() - 1
    inbox_feed.save(
        key,
        {
            "rows": [inbox_results.dump_row(r) for r in rows],
            "next": base64.b64encode(next_token).decode() if next_token else "",
            "started_at": started,
            "fetched_at": started,
            "gens": inbox_feed.generations(principals),
        },
    )


def event(pk: int, *, pending: list[str], previous: list[str], hours: int = 0) -> dict:
    return {
        "request_id": pk,
        "seq": int(time.time() * 1000),
        "status": Status.PENDING if pending else Status.APPROVED,
        "pending": pending,
        "previous_pending": previous,
        "requester": "emma-x",
        "requester_display": "Emma",
        "title": f"Trip {pk}",
        "amount_cents": 12_000,
        "base_amount_cents": 12_000,
        "currency": "EUR",
        "submitted_at": "2029-12-01T09:00:00+00:00",
        "due_at": (DUE + timedelta(hours=hours or pk)).isoformat(),
        "current_level": 1,
    }


def view(user: User, token=None) -> tuple[str, list[int]]:
    result = inbox_results.inbox_result(user=user, token=token)
    return result.source, [r.request_id for r in result.rows]


def test_unchanged_is_fresh_and_a_decision_is_served_from_its_event(store, boss):
    me = boss.username
    stored(boss, [row(1, me), row(2, me)])
    assert view(boss) == ("fresh", [1, 2])
    inbox_feed.note_change(event(1, pending=[], previous=[me]))  # decided: leaves
    assert view(boss) == ("events", [2])
    inbox_feed.note_change(event(3, pending=[me], previous=["someone"]))  # escalated here
    assert view(boss) == ("events", [2, 3])


def test_a_full_page_after_arrivals_asks_for_a_call(store, boss):
    me = boss.username
    stored(boss, [row(pk, me) for pk in range(1, PAGE_SIZE + 1)])
    inbox_feed.note_change(event(999, pending=[me], previous=["someone"], hours=1))
    source, ids = view(boss)
    # Over one page: only a call says what page one holds now (the budget is spent, so
    # the last good result with the arrival laid over it, and the page refreshes itself).
    assert source == "stale" and 999 in ids


def test_a_longer_listing_asks_for_a_call_when_a_row_leaves_or_arrives(store, boss):
    me = boss.username
    stored(boss, [row(1, me), row(2, me)], next_token=b"more")
    # A row that only changed (still waiting here, a new deadline) stays as it is.
    inbox_feed.note_change(event(2, pending=[me], previous=[me], hours=30))
    assert view(boss) == ("events", [1, 2])
    # One that left would pull a row up from page two: a call.
    inbox_feed.note_change(event(1, pending=[], previous=[me]))
    assert view(boss) == ("stale", [2])


def test_an_arrival_on_a_longer_listing_asks_for_a_call(store, boss):
    me = boss.username
    stored(boss, [row(1, me), row(2, me)], next_token=b"more")
    inbox_feed.note_change(event(7, pending=[me], previous=["someone"]))
    # It may belong on any page: only a call places it.
    assert view(boss)[0] == "stale"


def test_an_event_for_someone_else_changes_nothing_here(store, boss):
    me = boss.username
    stored(boss, [row(1, me)])
    inbox_feed.note_change(event(5, pending=["other"], previous=["someone"]))
    assert view(boss) == ("fresh", [1])


def test_older_than_the_safety_net_is_served_at_once_and_refreshed_in_the_background(
    store, boss, settings
):
    me = boss.username
    stored(boss, [row(1, me), row(2, me)])
    inbox_feed.note_change(event(1, pending=[], previous=[me]))
    settings.INBOX_CACHE_MAX_AGE = 0.5
    before = metrics.VISIBILITY_THROTTLED.labels(priority="inbox", reason="budget")._value.get()
    assert view(boss) == ("refreshing", [2])
    # The call was asked for in the background (an event changed this inbox: priority
    # "inbox"); the budget is spent, so it was not made, and the next view asks again.
    wait_for(
        lambda: (
            metrics.VISIBILITY_THROTTLED.labels(priority="inbox", reason="budget")._value.get()
            > before
        ),
        timeout=5,
        message="no background refresh was asked for",
    )
    assert view(boss) == ("refreshing", [2])


def test_more_events_than_a_feed_keeps_asks_for_a_call(store, boss, monkeypatch):
    me = boss.username
    stored(boss, [row(1, me), row(2, me)])
    monkeypatch.setattr(inbox_feed, "FEED_MAX_PER_PRINCIPAL", 3)
    for _ in range(4):  # the same request, four times: the feed may have lost others
        inbox_feed.note_change(event(2, pending=[me], previous=[me], hours=40))
    assert view(boss)[0] == "stale"
