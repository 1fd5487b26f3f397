"""An expense report on a phone (375 px, German): several receipts chosen at once make
one line each, a line added and removed in the page, a GBP line, amounts typed the
German way; axe-core checks every page this test loads (the new_page fixture)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.approvals.test_views_requests import real_png
from tests.support.browser import login

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 375


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_three_line_report_from_three_receipts_on_a_phone_in_german(
    live_app, new_page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path  # the live app runs in this process
    page = new_page("de-DE", width=WIDTH)
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/new/", wait_until="networkidle")
    fits(page)
    lines = page.locator("#lines [data-line-form]:visible")
    expect(lines).to_have_count(1)
    # A phone offers its camera on every line.
    expect(page.locator("[name=lines-0-photo]")).to_have_attribute("capture", "environment")
    page.fill("[name=title]", "Kundenbesuch London")

    # Three receipts chosen at once: one line each, each file in its own line.
    receipts = [
        {"name": f"beleg-{i}.png", "mimeType": "image/png", "buffer": real_png()} for i in range(3)
    ]
    page.locator("[data-testid=receipts]").set_input_files(receipts)
    expect(lines).to_have_count(3)
    for n in range(3):  # the file is in its line, or already uploaded for reading (stashed)
        page.wait_for_function(
            """(n) => document.querySelector(`[name=lines-${n}-receipt]`).files.length === 1
                || !!(document.querySelector(`[name=lines-${n}-stashed]`) || {}).value""",
            arg=n,
        )
    assert page.locator("[data-testid=receipts]").evaluate("(el) => el.files.length") == 0

    page.fill("[name=lines-0-merchant]", "Taxi Berlin")
    page.fill("[name=lines-0-amount]", "38,50")
    page.fill("[name=lines-1-merchant]", "Hotel am Markt")
    page.fill("[name=lines-1-amount]", "1.312,00")
    page.fill("[name=lines-2-merchant]", "The Ivy")
    page.select_option("[name=lines-2-currency]", "GBP")
    attendees = page.locator("[name=lines-2-attendees]")
    expect(attendees).to_be_hidden()
    page.select_option("[name=lines-2-category]", "meals")
    expect(attendees).to_be_visible()  # asked for meals only
    attendees.fill("Ms Smith (ACME)")
    amount = page.locator("[name=lines-2-amount]")
    amount.fill("124,00")
    # The hint reads the line's own currency, in German.
    expect(page.locator("#lines-2-amount-hint")).to_contain_text("124,00 GBP")

    # A line added in the page, then removed again.
    page.locator("[data-testid=add-line]").click()
    expect(lines).to_have_count(4)
    expect(page.locator("[name=lines-3-currency]")).to_have_value("EUR")
    page.locator("[name=lines-3-DELETE]").check()
    expect(lines).to_have_count(3)
    fits(page)

    page.locator("[data-testid=submit]").click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    fits(page)
    request = ExpenseRequest.objects.get()
    saved = list(request.lines.order_by("position"))
    assert [(x.merchant, x.amount, x.currency) for x in saved] == [
        ("Taxi Berlin", Decimal("38.50"), "EUR"),
        ("Hotel am Markt", Decimal("1312.00"), "EUR"),
        ("The Ivy", Decimal("124.00"), "GBP"),
    ]
    assert all(x.receipt and x.receipt_sha256 for x in saved)
    assert saved[2].attendees == "Ms Smith (ACME)"
    assert request.currency == "EUR"
    assert request.base_amount_cents == sum(x.base_amount_cents for x in saved)


def test_add_line_without_javascript_posts_and_keeps_what_was_typed(
    live_app, new_page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    page = new_page("de-DE", javascript=False, width=WIDTH)
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/new/")
    page.fill("[name=title]", "Workshop")
    page.fill("[name=lines-0-amount]", "46,20")
    page.locator("[data-testid=add-line]").click()
    expect(page.locator("[name=lines-1-amount]")).to_be_visible()
    expect(page.locator("[name=lines-0-amount]")).to_have_value("46,20")
    expect(page.locator("[name=title]")).to_have_value("Workshop")
    page.fill("[name=lines-1-amount]", "18,75")
    page.locator("[data-testid=submit]").click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    request = ExpenseRequest.objects.get()
    assert [x.amount for x in request.lines.order_by("position")] == [
        Decimal("46.20"),
        Decimal("18.75"),
    ]
    assert request.amount == Decimal("64.95")
