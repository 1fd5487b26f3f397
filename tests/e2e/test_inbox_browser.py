"""The inbox in Chromium: max approves emma's 4,000 EUR request, diana's open
inbox shows it arrive without a reload, diana rejects it with a comment, and
emma's open page shows `rejected` without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import login, wait_ws

pytestmark = pytest.mark.django_db(transaction=True)


def open_live(new_page, app, username: str, path: str):
    page = new_page()
    login(page, app, username)
    page.goto(f"{app.url}{path}")
    wait_ws(page)
    # Survives only as long as the document does: proves no reload happened.
    page.evaluate("window.__sameDocument = true")
    return page


def test_approval_travels_from_max_to_diana_and_back_to_emma_live(live_app, new_page):
    max_page = open_live(new_page, live_app, "max", "/inbox/")
    diana_page = open_live(new_page, live_app, "diana", "/inbox/")

    emma_page = new_page()
    login(emma_page, live_app, "emma")
    emma_page.goto(f"{live_app.url}/requests/new/")
    emma_page.fill("[name=title]", "Team offsite")
    emma_page.fill("[name=lines-0-amount]", "4000.00")
    emma_page.select_option("[name=lines-0-currency]", "EUR")
    emma_page.select_option("[name=lines-0-category]", "travel")
    emma_page.click("[data-testid=submit]")
    emma_page.wait_for_url(re.compile(r"/requests/\d+/$"))
    pk = int(emma_page.url.rstrip("/").rsplit("/", 1)[1])
    wait_ws(emma_page)
    emma_page.evaluate("window.__sameDocument = true")

    # It arrives in max's open inbox; he approves from the row.
    row = max_page.locator(f"[data-testid=inbox-row][data-request-id='{pk}']")
    row.wait_for()
    assert "4,000.00 EUR" in row.inner_text()
    row.locator("[data-testid=approve]").click()
    max_page.locator(f"[data-testid=decision-done][data-request-id='{pk}']").wait_for()
    assert row.count() == 0
    done = max_page.locator("[data-testid=decision-done]").inner_text()
    assert "now waiting for Diana Dietrich" in done  # her name, not "diana"

    # Diana's inbox shows it arrive, without a reload.
    diana_row = diana_page.locator(f"[data-testid=inbox-row][data-request-id='{pk}']")
    diana_row.wait_for()
    assert diana_page.evaluate("window.__sameDocument === true")
    assert "Team offsite" in diana_row.inner_text()
    # The navigation badge (count_workflows) refreshes on the live event too.
    diana_page.locator("#inbox-count [data-testid=inbox-count]").wait_for()

    # Rejecting needs a comment: the refusal shows on the row in words.
    diana_row.locator("[data-testid=reject]").click()
    refusal = diana_row.locator("[data-testid=decision-refused]")
    refusal.wait_for()
    assert "A comment is required" in refusal.inner_text()
    diana_row.locator("[name=comment]").fill("Please use the framework contract")
    diana_row.locator("[data-testid=reject]").click()
    diana_page.locator(f"[data-testid=decision-done][data-request-id='{pk}']").wait_for()
    assert diana_row.count() == 0

    # Emma's open request page shows the outcome, without a reload.
    expect(emma_page.locator("[data-testid=status]")).to_have_text("rejected", timeout=15_000)
    assert emma_page.evaluate("window.__sameDocument === true")
    assert max_page.evaluate("window.__sameDocument === true")
