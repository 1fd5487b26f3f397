"""Spend in money on /audit/analytics/ and its CSV (issue 27): EUR by category, cost
centre and month from the lines (rejected lines and withdrawn reports out), the flagged
lines' share and how they were decided; admins only."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from approvals.models import ExpenseLine, ExpenseRequest, LineFlag
from tests.support.web import client_for

pytestmark = pytest.mark.django_db


def report(user, status: str, lines: list[tuple[str, str, date, str]]):
    """lines: (category, EUR, date, line status)."""
    total = sum(Decimal(e) for _c, e, _d, _s in lines)
    request = ExpenseRequest.objects.create(
        requester=user,
        title="r",
        amount=total,
        currency="EUR",
        category=lines[0][0],
        status=status,
        base_amount_cents=int(total * 100),
    )
    for n, (category, euros, day, line_status) in enumerate(lines, start=1):
        ExpenseLine.objects.create(
            request=request,
            position=n,
            date=day,
            category=category,
            amount=Decimal(euros),
            currency="EUR",
            base_amount_cents=int(Decimal(euros) * 100),
            status=line_status,
        )
    return request


@pytest.fixture
def spendings(demo_org):
    emma, max_ = demo_org["emma"], demo_org["max"]
    a = report(
        emma,
        "approved",
        [
            ("travel", "240.00", date(2026, 11, 3), "open"),
            ("meals", "80.50", date(2026, 11, 4), "rejected"),  # rejected line: out
            ("meals", "19.50", date(2026, 12, 1), "open"),
        ],
    )
    b = report(max_, "pending", [("travel", "1000.00", date(2026, 12, 2), "open")])
    report(emma, "withdrawn", [("travel", "5000.00", date(2026, 12, 2), "open")])  # out
    LineFlag.objects.create(request=a, position=2, code="receipt_missing")
    LineFlag.objects.create(request=b, position=0, code="split")  # the report: its line
    return a, b


def test_spend_by_category_cost_centre_and_month(demo_org, spendings):
    admin = client_for(demo_org["admin"])
    html = admin.get("/audit/analytics/?days=0", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="spend-total" data-cents="125950"' in html
    assert 'data-category="travel" data-cents="124000"' in html
    assert 'data-category="meals" data-cents="1950"' in html
    assert 'data-month="2026-11" data-cents="24000"' in html
    assert 'data-month="2026-12" data-cents="101950"' in html
    centres = dict(re.findall(r'data-cost-centre="([^"]*)" data-cents="(\d+)"', html))
    assert sum(map(int, centres.values())) == 125950
    emma_centre = getattr(demo_org["emma"].cost_centre, "code", "")
    max_centre = getattr(demo_org["max"].cost_centre, "code", "")
    if emma_centre != max_centre:
        assert centres[emma_centre] == "25950" and centres[max_centre] == "100000"
    assert 'data-flagged="2" data-lines="5"' in html
    assert "2 of 5 lines were flagged (40.0 %)." in html
    assert 'data-outcome="line_rejected" data-count="1"' in html
    assert 'data-outcome="pending" data-count="1"' in html
    german = admin.get("/audit/analytics/?days=0", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ausgaben in EUR" in german and "1.259,50" in german
    assert "2 von 5 Positionen wurden markiert (40,0 %)." in german


def test_the_csv_has_the_spend_with_iso_months(demo_org, spendings):
    response = client_for(demo_org["admin"]).get("/audit/analytics.csv?days=0")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    spend = {(r[0], r[1]): r[4] for r in rows if r[0].startswith(("spend", "flagged"))}
    assert spend[("spend_by_category", "travel")] == "124000"
    assert spend[("spend_by_month", "2026-11-01")] == "24000"
    assert spend[("spend_by_month", "2026-12-01")] == "101950"
    assert spend[("flagged_lines", "flagged")] == "2"
    assert spend[("flagged_lines_decided", "line_rejected")] == "1"


@pytest.mark.parametrize("who", ["emma", "max", "fiona"])
def test_only_admins_see_the_spend(demo_org, spendings, who):
    client = client_for(demo_org[who])
    assert client.get("/audit/analytics/").status_code == 403
    assert client.get("/audit/analytics.csv").status_code == 403
