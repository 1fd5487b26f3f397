"""SLA analytics in Chromium: seeded projection and audit rows with known medians, the
charts with their tables, the CSV download, German, and 375 px without sideways scroll."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import AuditEntry, ExpenseRequest
from tests.support.browser import login

pytestmark = pytest.mark.django_db(transaction=True)


def seed(users):
    """Level 1 decided by max after 1, 3 and 8 hours (median 3 h, p90 7 h); one escalation
    and one expiry yesterday; one overdue pending request."""
    now = timezone.now()
    for n, hours in enumerate((1, 3, 8)):
        request = ExpenseRequest.objects.create(
            requester=users["emma"],
            title=f"Seeded {n}",
            amount=Decimal("50.00"),
            category="travel" if n else "training",
            status="approved",
        )
        start = now - timedelta(days=2)
        AuditEntry.objects.create(request=request, key="a", at=start, kind="assigned", level=1)
        AuditEntry.objects.create(
            request=request,
            key="d",
            at=start + timedelta(hours=hours),
            kind="decided",
            level=1,
            actor_username="max",
            actor_name="Max Müller",
        )
    expired = ExpenseRequest.objects.create(
        requester=users["finn"],
        title="Old",
        amount=Decimal("9.00"),
        category="meals",
        status="expired",
    )
    AuditEntry.objects.create(request=expired, key="e", at=now, kind="escalated", level=1)
    AuditEntry.objects.create(request=expired, key="x", at=now, kind="expired", level=1)
    return ExpenseRequest.objects.create(
        requester=users["finn"],
        title="Late",
        amount=Decimal("9.00"),
        category="meals",
        status="pending",
        current_level=1,
        due_at=now - timedelta(hours=2),
    )


def test_analytics_page_with_seeded_data_and_csv(live_app, new_page, demo_org):
    late = seed(demo_org)
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 900})
    login(page, live_app, "admin")
    page.goto(f"{live_app.url}/audit/analytics/?days=30")
    level = page.locator("[data-testid=level-row][data-level='1']")
    expect(level).to_have_attribute("data-median", "10800")
    expect(level).to_have_attribute("data-p90", "25200")
    expect(level).to_contain_text("3.0 h")
    expect(level).to_contain_text("7.0 h")
    expect(page.locator("[data-testid=approver-row][data-username='max']")).to_contain_text(
        "Max Müller"
    )
    expect(page.locator("[data-testid=overdue-count]")).to_have_attribute("data-count", "1")
    expect(page.locator(f"[data-testid=overdue-row][data-request-id='{late.pk}']")).to_contain_text(
        "overdue by 2 hours"
    )
    this_week = page.locator("[data-testid=week-row]").last
    expect(this_week).to_have_attribute("data-escalations", "1")
    expect(this_week).to_have_attribute("data-expiries", "1")
    expect(page.locator("[data-testid=outcome-row][data-outcome='approved']")).to_have_attribute(
        "data-count", "3"
    )
    expect(page.locator("[data-testid=category-row][data-category='travel']")).to_have_attribute(
        "data-total", "2"
    )
    charts = page.locator("svg[data-testid=chart]")
    expect(charts).to_have_count(5)
    for i in range(5):
        chart = charts.nth(i)
        assert chart.get_attribute("role") == "img"
        labelled = chart.get_attribute("aria-labelledby")
        assert page.locator(f"#{labelled}").count() == 1
    assert page.locator("[data-testid=chart] rect").count() > 5
    # Tables become cards at 375 px: nothing reaches past the viewport.
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 375

    with page.expect_download() as download:
        page.click("[data-testid=analytics-csv]")
    body = Path(download.value.path()).read_text(encoding="utf-8")
    rows = {(r[0], r[1], r[3]): r[4] for r in csv.reader(io.StringIO(body))}
    assert rows[("time_to_decision_by_level", "1", "median_seconds")] == "10800"
    assert rows[("time_to_decision_by_approver", "max", "p90_seconds")] == "25200"
    assert rows[("overdue_now", "total", "requests")] == "1"

    # A bad period is refused in words; German shows German numbers.
    page.goto(f"{live_app.url}/audit/analytics/?days=forever")
    expect(page.locator("[data-testid=period-error]")).to_contain_text("Choose one of the listed")
    german = new_page(locale="de-DE")
    login(german, live_app, "admin")
    german.goto(f"{live_app.url}/audit/analytics/?days=30")
    expect(german.locator("h1")).to_have_text("SLA-Auswertung")
    expect(german.locator("[data-testid=level-row][data-level='1']")).to_contain_text("3,0 Std.")

    # Nobody else gets in.
    emma = new_page()
    login(emma, live_app, "emma")
    response = emma.goto(f"{live_app.url}/audit/analytics/")
    assert response.status == 403
