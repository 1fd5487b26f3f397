"""The inbox page rendered once per set of rows (views/inbox_pages.py, issue 28).

Real Temporal dev server and worker, real PostgreSQL. A page viewed again while it
shows the same rows is the page rendered before, made current (fresh decision ids,
the "as of" line of the current result); a row that arrives, another session, a
message to show or another language renders it anew.
"""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from approvals import inbox_feed
from tests.approvals.test_inbox import make_team
from tests.support.requests import submit
from tests.support.waiting import wait_for
from tests.support.web import client_for, inbox_ids, wait_inbox

pytestmark = pytest.mark.django_db(transaction=True)

DECISION_IDS = re.compile(r'name="decision_id" value="([0-9a-f-]{36})"')
AGE = re.compile(r'data-testid="inbox-as-of" data-source="(\w+)" data-age="(\d+)"')


def ours(queries) -> list[str]:
    return [q["sql"] for q in queries if "approvals_" in q["sql"]]


def view(client) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as seen:
        html = client.get("/inbox/").content.decode()
    return html, ours(seen.captured_queries)


def test_the_same_rows_are_rendered_once_and_served_current(worker):
    team = make_team()
    boss = client_for(team["manager"])
    first = [submit(team["employee"], "100.00", title=f"Pages {i}").pk for i in range(2)]
    wait_inbox(boss, set(first))
    inbox_feed.reset()

    rendered, rendered_queries = view(boss)  # the call, then the page rendered
    assert AGE.search(rendered).group(1) == "fetched"
    reused, reused_queries = view(boss)  # nothing changed: the same page
    # The rendered page read the rows' lines (and flags, budgets, the badge); the
    # reused one reads none of them.
    assert any("approvals_expenseline" in sql for sql in rendered_queries)
    assert reused_queries == []
    assert AGE.search(reused).group(1) == "fresh"
    assert set(inbox_ids(boss)) == set(first)
    # Every serve has its own decision ids (a double-click guard, never shared).
    ids_rendered, ids_reused = DECISION_IDS.findall(rendered), DECISION_IDS.findall(reused)
    assert len(ids_rendered) == len(ids_reused) == 2
    assert not set(ids_rendered) & set(ids_reused)
    assert AGE.sub("", DECISION_IDS.sub("", rendered)) == AGE.sub("", DECISION_IDS.sub("", reused))

    # An event for the approver (a new report) is another version: rendered anew.
    more = submit(team["employee"], "200.00", title="Pages more").pk

    def shown():
        html, queries = view(boss)
        return queries if f'data-request-id="{more}"' in html else None

    queries = wait_for(shown, timeout=15)
    assert any("approvals_expenseline" in sql for sql in queries)


def test_another_session_a_message_or_another_language_is_rendered_anew(worker):
    team = make_team()
    boss = client_for(team["manager"])
    pk = submit(team["employee"], "100.00", title="Pages other").pk
    wait_inbox(boss, {pk})
    view(boss)
    assert view(boss)[1] == []  # reused within the session

    # The same person in another browser: their own page (their own CSRF tokens).
    other = client_for(team["manager"])
    html, queries = view(other)
    assert any("approvals_expenseline" in sql for sql in queries)
    assert f'data-request-id="{pk}"' in html

    # A message to show (e.g. after a decision without htmx) is never a reused page.
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, "Pages: the message")
    cookie = storage._encode(list(storage._queued_messages))
    other.cookies["messages"] = cookie
    html, queries = view(other)
    assert "Pages: the message" in html
    assert any("approvals_expenseline" in sql for sql in queries)

    # German: its own page.
    other.cookies["django_language"] = "de"
    html, queries = view(other)
    assert 'lang="de"' in html
    assert any("approvals_expenseline" in sql for sql in queries)


def test_a_new_call_that_finds_the_same_rows_serves_the_page_with_its_own_as_of(worker, settings):
    settings.INBOX_CACHE_MAX_AGE = 0  # every view asks visibility again
    team = make_team()
    boss = client_for(team["manager"])
    pk = submit(team["employee"], "100.00", title="Pages again").pk
    wait_inbox(boss, {pk})
    first, _ = view(boss)
    stamp = re.compile(r'data-as-of="([^"]+)"')
    time.sleep(1.1)
    # Older than the safety net: served at once, the call made in the background; a view
    # after it shows the new call's "as of" on the page rendered for the same rows.

    def refreshed():
        again, queries = view(boss)
        newer = stamp.search(again).group(1) > stamp.search(first).group(1)
        return (again, queries) if newer else None

    again, queries = wait_for(refreshed, timeout=10, message="no background refresh landed")
    assert queries == []  # the same rows: not rendered again
    assert AGE.search(again).group(1) == "refreshing"
    assert f'data-request-id="{pk}"' in again


def test_a_row_that_became_overdue_since_is_another_page():
    """The same rows (the same version), one of them now past its deadline: the page
    shows it as overdue, so the page kept from before is not the one served."""
    from datetime import timedelta

    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import User
    from approvals.selectors.inbox import InboxRow
    from approvals.selectors.inbox_results import InboxResult
    from approvals.views.inbox_pages import page_key

    request = RequestFactory().get("/inbox/")
    request.user = User.objects.create_user("pages-overdue")
    request.session = SessionStore()
    request.session.create()
    request._messages = FallbackStorage(request)
    row = InboxRow(
        request_id=1,
        title="Trip",
        requester_display="Emma",
        requester="emma",
        amount_cents=100,
        currency="EUR",
        submitted_at=timezone.now().isoformat(),
        due_at=timezone.now() + timedelta(hours=1),
        pending=["pages-overdue"],
    )
    result = InboxResult(
        rows=[row], next_token=None, as_of=timezone.now(), source="fresh", version="v1"
    )
    before = page_key(request, result)
    assert before and page_key(request, result) == before
    row.due_at = timezone.now() - timedelta(seconds=1)
    assert page_key(request, result) not in ("", before)


def test_after_a_decision_the_page_is_the_last_one_without_that_row(worker, settings):
    """The approver's own decision: the next view is the page rendered before, without
    the decided row (no query for the page's lines), and it is what a render gives."""
    from approvals import metrics

    team = make_team()
    boss = client_for(team["manager"])
    first = submit(team["employee"], "100.00", title="Trim one").pk
    second = submit(team["employee"], "120.00", title="Trim two").pk
    wait_inbox(boss, {first, second})

    def settled():
        # The submissions' own events may still come (a row from an event is rendered
        # with its level): wait until a second look, a moment later, renders nothing.
        view(boss)
        time.sleep(0.5)
        return not any("approvals_expenseline" in sql for sql in view(boss)[1])

    wait_for(settled, timeout=15, message="the page kept changing")  # rendered and kept
    response = boss.post(
        f"/requests/{first}/decide/",
        {"action": "approve", "decision_id": "5b0e4f7e-3c1a-4d7e-9a51-0c8d2f3b6a10", "level": 1},
        headers={"HX-Request": "true", "HX-Target": f"row-msg-{first}"},
    )
    assert response.status_code == 200 and "decision-refused" not in response.content.decode()
    trimmed_before = metrics.INBOX_PAGES.labels(outcome="trimmed")._value.get()

    def without_first():
        html, queries = view(boss)
        ids = [int(pk) for pk in re.findall(r'data-request-id="(\d+)"', html)]
        return (html, queries) if ids == [second] else None

    trimmed, queries = wait_for(without_first, timeout=15, message="the decided row stayed")
    assert metrics.INBOX_PAGES.labels(outcome="trimmed")._value.get() == trimmed_before + 1
    assert not any("approvals_expenseline" in sql for sql in queries)
    assert f"<!--r{first}-->" not in trimmed and f"<!--r{second}-->" in trimmed
    assert 'data-testid="inbox-count">1<' in trimmed  # the badge's count read again

    # The same page as a render of the same rows gives (decision ids and "as of" aside).
    inbox_feed.reset_pages()
    rendered, queries = view(boss)
    assert any("approvals_expenseline" in sql for sql in queries)

    def same(html: str) -> str:
        html = DECISION_IDS.sub("", html)
        # The CSRF secret is the same; Django masks it anew on every render.
        html = re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", html)
        return re.sub(r'<p class="as-of".*?</p>', "", html, flags=re.DOTALL)

    assert same(trimmed) == same(rendered)
