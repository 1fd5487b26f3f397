"""The inbox row expands to the report's lines (issue 26): the total, the number of lines,
a <details> with each line, its receipt preview and the per-line reject controls inside
the row's decision form; the lines of the whole page come from ONE query."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals import inbox_feed
from tests.support.lines import set_lines
from tests.support.requests import submit, wait_pending_level
from tests.support.web import client_for, wait_inbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def row_of(html: str, pk: int) -> str:
    start = html.index(f'id="inbox-row-{pk}"')
    return html[start : html.index('class="row-msg"', start)]


def test_rows_expand_to_their_lines_with_previews_and_reject_controls(demo_org, worker):
    first = submit(demo_org["emma"], "564.40", title="Trip to Berlin")
    second = submit(demo_org["emma"], "38.50", title="Taxi")
    third = submit(demo_org["emma"], "12.00", title="Coffee")
    for request in (first, second, third):
        wait_pending_level(request, 1)
    set_lines(first)  # emma's trip: four lines, one in GBP
    set_lines(second, [{"merchant": "Taxi Berlin", "amount": "38.50"}])
    set_lines(
        third, [{"merchant": "Kiosk", "amount": "4.00"}, {"merchant": "Bar", "amount": "8.00"}]
    )
    max_ = client_for(demo_org["max"])
    wait_inbox(max_, {first.pk, second.pk, third.pk}, exact=False)
    inbox_feed.reset()  # the page rendered, not the one kept from the views above
    with CaptureQueriesContext(connection) as queries:
        html = max_.get("/inbox/").content.decode()
    line_queries = [q["sql"] for q in queries if '"approvals_expenseline"' in q["sql"]]
    assert len(line_queries) == 1, line_queries  # one query for the page, not one per row

    row = row_of(html, first.pk)
    assert 'data-testid="row-line-count">4 lines<' in row
    form = row[row.index("<form") : row.index("</form>")]
    details = form[form.index('<details class="row-lines"') : form.index("</details>")]
    assert details.count('data-testid="line"') == 4
    assert details.count('data-testid="receipt-preview"') == 4
    assert f'src="/requests/{first.pk}/lines/4/receipt/preview.png"' in details
    assert "124.00 GBP" in details and "The Ivy" in details
    for n in (1, 2, 3, 4):
        # Inside the row's own form: no form attribute needed, none pointing elsewhere.
        assert re.search(
            rf'name="reject_line" value="{n}" id="reject-line-{first.pk}-{n}"', details
        )
        assert f'name="line_reason_{n}"' in details
    assert ' form="' not in details
    assert "586.28 EUR" in details  # the approved total: every line still open
    # The row's contract is untouched.
    assert f'data-testid="inbox-row" data-request-id="{first.pk}"' in html
    assert 'data-testid="approve"' in form and 'data-testid="reject"' in form
    assert 'data-testid="row-line-count">1 line<' in row_of(html, second.pk)
    assert 'data-testid="row-line-count">2 lines<' in row_of(html, third.pk)


def test_the_expanded_row_reads_in_german(demo_org, worker):
    request = submit(demo_org["emma"], "564.40", title="Trip to Berlin")
    wait_pending_level(request, 1)
    set_lines(request)
    max_ = client_for(demo_org["max"], HTTP_ACCEPT_LANGUAGE="de")
    wait_inbox(max_, {request.pk}, exact=False)
    row = row_of(max_.get("/inbox/").content.decode(), request.pk)
    assert "4 Positionen" in row and "Positionen und Belege" in row
    assert "312,00 EUR" in row and "Diese Position ablehnen" in row
    assert "Genehmigter Gesamtbetrag" in row and "586,28 EUR" in row
