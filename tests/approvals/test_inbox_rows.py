"""The inbox row template: labels translated once per page, one CSRF token per page.

The row is rendered many times per page, so it translates its fixed words once
and prints the page's one token in each decision form (templates/approvals/
_inbox_row.html). These tests pin what that must not change: every row's words in
the user's language, a token in every form of a page (the same one) that the
decide POST accepts, and no token in a pushed row (rendered without a request).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from approvals.selectors.inbox import InboxRow, row_from_event
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.web import client_for, wait_inbox

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def rows(n: int = 3) -> list[InboxRow]:
    return [
        InboxRow(
            request_id=1000 + i,
            title=f"Trip {i}",
            requester_display="Emma Engel",
            requester="emma",
            amount_cents=123456 + i,
            currency="EUR",
            submitted_at="",
            due_at=datetime(2030, 3, 4, 15, 30, tzinfo=UTC),
            pending=["max"],
            budget_left_cents=-5000 if i == 0 else 123456,
        )
        for i in range(n)
    ]


def page_of(rows_: list[InboxRow]) -> str:
    request = RequestFactory().get("/inbox/")
    request.session = {}
    return render_to_string(
        "approvals/_inbox_row.html#rows",
        {"rows": rows_, "new_decision_id": lambda: "d"},
        request=request,
    )


def test_every_row_of_a_german_page_is_in_german():
    with translation.override("de"):
        html = page_of(rows())
    for pk in (1000, 1001, 1002):
        assert f'aria-label="Antrag {pk} auswählen"' in html
        assert f'aria-label="Kommentar zu Antrag {pk}"' in html
    assert html.count(">Genehmigen</button>") == 3
    assert html.count('placeholder="Kommentar (zum Ablehnen erforderlich)"') == 3, html
    assert html.count("fällig <time") == 3
    assert "1.234,57 EUR" in html and "04.03.2030" in html
    assert html.count("Restbudget danach: 1.234,56 EUR") == 2
    assert "Restbudget danach: -50,00 EUR" in html
    with translation.override("en"):
        english = page_of(rows())
    assert 'aria-label="Select request 1002"' in english
    assert 'aria-label="Comment on request 1002"' in english
    assert english.count(">Approve</button>") == 3
    assert "budget left after this: -50.00 EUR" in english


def test_a_value_in_a_label_is_escaped():
    from approvals.templatetags.rows import fill

    assert fill("Antrag %(id)s auswählen", "<b>") == "Antrag &lt;b&gt; auswählen"
    assert fill("no placeholder", 7) == "no placeholder"


def test_every_form_of_a_page_carries_the_same_token_and_a_pushed_row_none():
    html = page_of(rows())
    tokens = TOKEN.findall(html)
    assert len(tokens) == 3 and len(set(tokens)) == 1
    event = {"request_id": 7, "title": "t", "requester": "emma", "pending": ["max"]}
    pushed = render_to_string("approvals/_inbox_row.html", {"row": row_from_event(event)})
    assert 'data-testid="approve"' in pushed
    assert "csrfmiddlewaretoken" not in pushed


@pytest.mark.django_db(transaction=True)
def test_the_rows_token_is_accepted_by_the_decide_post(demo_org, worker):
    """A browser without JavaScript posts a row's form as it is: CSRF checks on."""
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"], enforce_csrf_checks=True)
    wait_inbox(max_, {request.pk}, exact=False)
    html = max_.get("/inbox/").content.decode()
    row = html.split(f'id="inbox-row-{request.pk}"', 1)[1].split('class="row-msg"', 1)[0]
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', row))
    assert set(TOKEN.findall(html)) == {form["csrfmiddlewaretoken"]}
    refused = max_.post(f"/requests/{request.pk}/decide/", {"action": "approve"})
    assert refused.status_code == 403  # the check is on: no token, no decision
    response = max_.post(f"/requests/{request.pk}/decide/", {**form, "action": "approve"})
    assert response.status_code == 302, response.content[:500]
    wait_status(request, "approved")


@pytest.mark.django_db(transaction=True)
def test_the_page_decodes_every_memo_in_one_call_as_memo_does(demo_org, worker):
    from approvals.selectors import inbox as selectors
    from approvals.temporal.client import call

    first, second = submit(demo_org["emma"], "300.00"), submit(demo_org["emma"], "120.00")
    for request in (first, second):
        wait_pending_level(request, 1)
    wait_inbox(client_for(demo_org["max"]), {first.pk, second.pk}, exact=False)
    query = selectors.inbox_query(["max"], me="max")

    async def both(client):
        iterator = client.list_workflows(query, page_size=25)
        await iterator.fetch_next_page()
        executions = list(iterator.current_page)
        return [await e.memo() for e in executions], await selectors._memos(client, executions)

    one_by_one, batched = call(both)
    assert len(one_by_one) >= 2 and batched == one_by_one
    assert {"title", "amount_cents", "currency"} <= set(batched[0])
