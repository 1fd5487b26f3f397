"""The approver inbox: one visibility call per page, sorting, overdue, filters, pages, badge.

Real Temporal dev server and worker, real PostgreSQL. The visibility store is
shared by every test of the session, so tests that count rows use their own
people (`make_team`), whose inboxes hold only this test's requests.
"""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from approvals import inbox_feed
from approvals.selectors import inbox as inbox_selectors
from approvals.temporal import client as temporal_client
from tests.support.requests import submit, wait_pending_level
from tests.support.servers import WorkerThread, temporal_unreachable
from tests.support.waiting import wait_for
from tests.support.web import ROW_ID, client_for, inbox_ids, wait_inbox

pytestmark = pytest.mark.django_db(transaction=True)


# ------------------------------------------------------------------ helpers
def make_team(prefix: str = "") -> dict[str, User]:
    """employee -> manager -> director with fresh usernames (an inbox of their own)."""
    tag = prefix or uuid.uuid4().hex[:8]
    director = User.objects.create_user(
        f"dir-{tag}", password="demo", role=Role.DIRECTOR, first_name="Dora"
    )
    manager = User.objects.create_user(
        f"mgr-{tag}", password="demo", role=Role.MANAGER, reports_to=director, first_name="Mo"
    )
    employee = User.objects.create_user(
        f"emp-{tag}", password="demo", role=Role.EMPLOYEE, reports_to=manager, first_name="Eve"
    )
    return {"employee": employee, "manager": manager, "director": director}


def web_client():
    async def same(client):
        return client

    return temporal_client.call(same)


class RpcSpy:
    """Counts every RPC of the web process's Temporal client and still calls through."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        service = web_client().service_client
        original = service._rpc_call

        async def spy(rpc, *args, **kwargs):
            self.calls.append(rpc)
            return await original(rpc, *args, **kwargs)

        monkeypatch.setattr(service, "_rpc_call", spy)


# -------------------------------------------------------------------- tests
def test_inbox_makes_one_visibility_call_and_no_per_row_calls_or_queries(worker, monkeypatch):
    team = make_team()
    boss = client_for(team["manager"])
    first = [submit(team["employee"], "100.00", title=f"Small {i}").pk for i in range(2)]
    wait_inbox(boss, set(first))

    spy = RpcSpy(monkeypatch)
    inbox_feed.reset()  # nothing stored: this view calls
    with CaptureQueriesContext(connection) as few:
        assert set(inbox_ids(boss)) == set(first)
    assert spy.calls == ["list_workflow_executions"]
    # Nothing changed since: the next view reuses that result, no call at all.
    spy.calls.clear()
    assert set(inbox_ids(boss)) == set(first)
    assert spy.calls == []

    more = [submit(team["employee"], "200.00", title=f"More {i}").pk for i in range(5)]
    wait_inbox(boss, set(first + more))
    spy.calls.clear()
    inbox_feed.reset()
    with CaptureQueriesContext(connection) as many:
        assert set(inbox_ids(boss)) == set(first + more)
    # Seven rows cost what two rows cost: one ListWorkflowExecutions, no
    # workflow query or describe per row, and the same database queries.
    assert spy.calls == ["list_workflow_executions"]
    assert len(many.captured_queries) == len(few.captured_queries)
    # The report's lines and flags for the whole page (one query each, whatever the rows)
    # and the navigation badge's one count (it comes with the page): no other table of ours.
    ours = [q["sql"] for q in many.captured_queries if "approvals_" in q["sql"]]
    badge = [sql for sql in ours if sql.startswith("SELECT COUNT(*)")]
    assert len(badge) == 1 and "pending_approvers" in badge[0], ours
    rest = [sql for sql in ours if sql not in badge]
    assert all(re.search(r"approvals_(expenseline|lineflag)", sql) for sql in rest), ours


def test_rows_come_from_search_attributes_and_memo(worker):
    team = make_team()
    boss = client_for(team["manager"])
    request = submit(team["employee"], "1234.50", title="Conference <b>ticket</b>")
    wait_inbox(boss, {request.pk})
    html = boss.get("/inbox/").content.decode()
    row = html[html.index(f'id="inbox-row-{request.pk}"') :]
    assert "Conference &lt;b&gt;ticket&lt;/b&gt;" in row  # escaped, from the memo
    assert "1,234.50 EUR" in row
    assert team["employee"].display_name in row
    assert 'data-testid="overdue"' not in row.split('id="row-msg-')[0]


def test_rows_sorted_by_deadline_overdue_marked_and_filters_apply(settings, task_queue):
    """The worker stops after the last submission, so the short deadline passes
    with nobody to escalate it: the row stays in the inbox, overdue."""
    team = make_team()
    boss = client_for(team["manager"])
    thread = WorkerThread(task_queue).start()
    try:
        settings.APPROVAL_SLA_SECONDS = 3600
        late = submit(team["employee"], "900.00", title="Due in an hour")
        settings.APPROVAL_SLA_SECONDS = 7200
        later = submit(team["employee"], "500.00", title="Due in two hours")
        settings.APPROVAL_SLA_SECONDS = 3
        soon = submit(team["employee"], "100.00", title="Due at once")
        for request in (late, later, soon):
            wait_pending_level(request, 1)
    finally:
        thread.stop()
    expected = {late.pk, later.pk, soon.pk}

    def overdue_listed():
        ids = inbox_ids(boss, "?overdue=on")
        return ids if ids == [soon.pk] else None

    wait_for(overdue_listed, timeout=30, message="the short deadline never showed as overdue")
    # Newest first from the server ([soon, later, late]); by deadline on the page.
    assert wait_inbox(boss, expected) == [soon.pk, late.pk, later.pk]
    html = boss.get("/inbox/").content.decode()
    rows = {
        pk: html[html.index(f'id="inbox-row-{pk}"') :].split('id="row-msg-')[0] for pk in expected
    }
    assert 'data-testid="overdue"' in rows[soon.pk]
    assert 'data-testid="overdue"' not in rows[late.pk]
    assert 'data-testid="overdue"' not in rows[later.pk]

    assert inbox_ids(boss, "?min_amount=200&max_amount=800") == [later.pk]
    assert inbox_ids(boss, "?min_amount=600") == [late.pk]
    assert inbox_ids(boss, "?max_amount=100") == [soon.pk]


def test_invalid_filter_is_explained_not_a_500(worker):
    team = make_team()
    boss = client_for(team["manager"])
    response = boss.get("/inbox/?min_amount=900&max_amount=100")
    assert response.status_code == 200
    assert "The maximum must not be below the minimum." in response.content.decode()
    response = boss.get("/inbox/?min_amount=lots")
    assert response.status_code == 200
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_pagination_walks_past_the_first_page(worker, monkeypatch):
    monkeypatch.setattr(inbox_selectors, "PAGE_SIZE", 3)
    team = make_team()
    boss = client_for(team["manager"])
    pks = {submit(team["employee"], f"{100 + i}.00", title=f"Item {i}").pk for i in range(7)}
    # The listing is complete once the last page has no successor and all are seen.
    wait_for(lambda: len(inbox_ids(boss)) == 3 and _all_pages(boss) == pks, timeout=30)

    seen: list[int] = []
    query, pages = "", 0
    while True:
        html = boss.get(f"/inbox/{query}").content.decode()
        ids = [int(pk) for pk in ROW_ID.findall(html)]
        assert len(ids) <= 3
        seen += ids
        pages += 1
        match = re.search(r'href="\?([^"]+)" data-testid="next-page"', html)
        if not match:
            break
        query = "?" + match.group(1).replace("&amp;", "&")
        assert 'data-testid="first-page"' in boss.get(f"/inbox/{query}").content.decode()
    assert pages == 3
    assert sorted(seen) == sorted(pks)  # every row once, none twice


def _all_pages(client: Client) -> set[int]:
    ids: set[int] = set()
    query = ""
    for _ in range(10):
        html = client.get(f"/inbox/{query}").content.decode()
        ids.update(int(pk) for pk in ROW_ID.findall(html))
        match = re.search(r'href="\?([^"]+)" data-testid="next-page"', html)
        if not match:
            return ids
        query = "?" + match.group(1).replace("&amp;", "&")
    return ids


def test_a_garbled_or_foreign_page_token_falls_back_to_the_first_page(worker):
    team = make_team()
    boss = client_for(team["manager"])
    request = submit(team["employee"], "100.00")
    wait_inbox(boss, {request.pk})
    assert inbox_ids(boss, "?page=%%%not-base64") == [request.pk]
    forged = base64.urlsafe_b64encode(b"not a token from this server").decode()
    response = boss.get(f"/inbox/?page={forged}")
    assert response.status_code == 200
    html = response.content.decode()
    assert [int(pk) for pk in ROW_ID.findall(html)] == [request.pk]
    assert "That page link is not valid here; showing the first page." in html


def test_navigation_badge_counts_pending_decisions(worker):
    team = make_team()
    boss = client_for(team["manager"])
    assert 'data-testid="inbox-count"' not in boss.get("/inbox/count/").content.decode()
    for i in range(3):
        submit(team["employee"], "100.00", title=f"Badge {i}")

    def badge():
        html = boss.get("/inbox/count/").content.decode()
        return (
            html if '<span class="badge count" data-testid="inbox-count">3</span>' in html else None
        )

    wait_for(badge, message="badge never showed 3")
    # The requester has nothing to decide.
    assert "inbox-count" not in client_for(team["employee"]).get("/inbox/count/").content.decode()


def test_empty_inbox_says_so(worker):
    team = make_team()
    html = client_for(team["director"]).get("/inbox/").content.decode()
    assert 'data-testid="inbox-empty"' in html
    assert ROW_ID.findall(html) == []


@pytest.mark.parametrize("path", ["/inbox/", "/inbox/count/", "/requests/1/live/"])
def test_inbox_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_inbox_query_quotes_names_and_excludes_own_requests():
    query = inbox_selectors.inbox_query(
        ["o'neil", "max"], me="o'neil", min_cents=100, overdue=False
    )
    assert "PendingApprovers IN ('o\\'neil', 'max')" in query
    assert "Requester != 'o\\'neil'" in query
    assert "AmountCents >= 100" in query


def test_dev_server_visibility_cannot_order_by_deadline(temporal_server):
    """Why each page is sorted in Python (see inbox_selectors): ORDER BY is refused here."""
    from temporalio.service import RPCError

    async def ordered(client):
        iterator = client.list_workflows(
            "ExecutionStatus = 'Running' ORDER BY DecisionDueAt", page_size=1
        )
        await iterator.fetch_next_page()

    with pytest.raises(RPCError, match="not supported"):
        temporal_client.call(ordered)


def test_inbox_says_plainly_when_temporal_is_unreachable(worker, settings):
    team = make_team()
    request = submit(team["employee"], "100.00")
    wait_pending_level(request, 1)
    boss = client_for(team["manager"])
    with temporal_unreachable(settings, call_timeout=2):
        response = boss.get("/inbox/")
        assert response.status_code == 200
        assert 'data-testid="inbox-error"' in response.content.decode()
        assert "not reachable" in response.content.decode()
        assert boss.get("/inbox/count/").status_code == 200
        response = boss.post(
            f"/requests/{request.pk}/decide/",
            {"action": "approve"},
            headers={"HX-Request": "true", "HX-Target": f"row-msg-{request.pk}"},
        )
        assert response.status_code == 200
        assert "Nothing was changed" in response.content.decode()
        live = boss.get(f"/requests/{request.pk}/live/")
        assert live.status_code == 200
        assert 'data-testid="live-unavailable"' in live.content.decode()


def test_rows_pre_format_amount_and_deadline_as_the_template_filters_do(settings):
    """InboxRow.amount_text / due_iso / due_text (for a template that does less per row)
    read exactly like the `money` and `date` filters of the row partial, per language."""
    from datetime import UTC, datetime

    from django.template import engines
    from django.utils import translation

    due = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)
    fields = {
        "request_id": 7,
        "title": "t",
        "requester_display": "E",
        "requester": "emma",
        "amount_cents": 123456789,
        "currency": "JPY",
        "submitted_at": "",
        "due_at": due,
        "pending": ["max"],
    }
    row = inbox_selectors.InboxRow(**fields)
    filters = engines["django"].from_string(
        "{% load amounts %}{{ row.amount|money:row.currency }}|{{ row.due_at|date:'c' }}|"
        "{{ row.due_at|date:'SHORT_DATETIME_FORMAT' }}"
    )
    for lang in ("en", "de"):
        with translation.override(lang):
            fresh = inbox_selectors.InboxRow(**fields)  # cached per row: fresh per language
            expected = filters.render({"row": fresh}).split("|")
            assert [fresh.amount_text, fresh.due_iso, fresh.due_text] == expected, lang
    assert row.amount_text.endswith(" JPY")
    no_due = inbox_selectors.InboxRow(**{**fields, "due_at": None})
    assert (no_due.due_iso, no_due.due_text) == ("", "")
