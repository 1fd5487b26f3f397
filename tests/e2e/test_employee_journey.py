"""Emma's journey in Chromium: submit, then watch approvals arrive live, without reloading."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.support.browser import login, wait_ws
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def awaiting(pk: int, username: str) -> None:
    """Wait until the projection says `username` decides now (their page shows the buttons)."""
    wait_for(
        lambda: ExpenseRequest.objects.filter(
            pk=pk, status="pending", pending_approvers=[username]
        ).exists(),
        message=f"request {pk} never awaited {username}",
    )


def approve_as(new_page, live_app, username: str, pk: int) -> None:
    page = new_page()
    login(page, live_app, username)
    page.goto(f"{live_app.url}/requests/{pk}/")
    page.click("[data-testid=approve]")
    expect(page.locator("#messages")).to_contain_text("Approved")


def test_emma_sees_max_and_diana_approve_live(live_app, new_page):
    emma = new_page()
    login(emma, live_app, "emma")
    emma.goto(f"{live_app.url}/requests/new/")
    emma.fill("[name=title]", "Team offsite <venue>")
    emma.fill("[name=lines-0-amount]", "4000")
    expect(emma.locator("[name=lines-0-currency]")).to_have_value("EUR")
    emma.select_option("[name=lines-0-category]", "travel")
    emma.click("[data-testid=submit]")
    emma.wait_for_url(re.compile(r"/requests/\d+/$"))
    pk = int(emma.url.rstrip("/").rsplit("/", 1)[1])
    expect(emma.locator("h1")).to_contain_text("Team offsite <venue>")  # shown as text

    # A second tab of Emma's on her list: it must follow along too.
    listing = emma.context.new_page()
    listing.goto(f"{live_app.url}/requests/")
    for page in (emma, listing):
        wait_ws(page)
        page.evaluate("window.__noReload = 1")

    detail_badge = emma.locator(f"#status-{pk}")
    list_badge = listing.locator(f"#status-{pk}")
    level_one = emma.locator('[data-testid=chain-level][data-level="1"]')
    level_two = emma.locator('[data-testid=chain-level][data-level="2"]')
    expect(detail_badge).to_have_text("pending")
    expect(level_one).to_have_attribute("data-status", "pending")

    awaiting(pk, "max")
    approve_as(new_page, live_app, "max", pk)
    expect(level_one).to_have_attribute("data-status", "approved")
    expect(level_one.locator("[data-testid=step-decision]")).to_contain_text("Max Müller")
    expect(level_two).to_have_attribute("data-status", "pending")
    expect(detail_badge).to_have_text("pending")  # two levels: diana decides next

    awaiting(pk, "diana")
    approve_as(new_page, live_app, "diana", pk)
    expect(detail_badge).to_have_text("approved")
    expect(list_badge).to_have_text("approved")
    expect(level_two).to_have_attribute("data-status", "approved")
    expect(emma.locator("[data-testid=withdraw]")).to_have_count(0)

    for page in (emma, listing):
        assert page.evaluate("window.__noReload") == 1  # the same document all along
    assert ExpenseRequest.objects.get(pk=pk).status == "approved"


def test_inline_errors_keep_what_emma_typed(live_app, new_page):
    page = new_page()
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/new/")
    page.evaluate("window.__noReload = 1")
    page.fill("[name=title]", "Hotel")
    page.fill("[name=lines-0-amount]", "12.3456")  # ("12.345" could be 12345: refused as such)
    page.fill("[name=description]", "Two nights")
    # The browser's own checks would stop this first; the server's must hold anyway.
    page.evaluate("document.getElementById('expense-form').noValidate = true")
    page.click("[data-testid=submit]")
    expect(page.locator("[data-testid=error-amount]")).to_contain_text("two decimals")
    expect(page.locator("[name=title]")).to_have_value("Hotel")
    expect(page.locator("[name=description]")).to_have_value("Two nights")
    assert page.evaluate("window.__noReload") == 1  # swapped in by htmx
    assert not ExpenseRequest.objects.exists()
