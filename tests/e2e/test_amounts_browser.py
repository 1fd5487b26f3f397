"""Amounts typed with the keyboard in Chromium, in German and in English, as a person
does (key by key, not `fill`): the saved request carries exactly the typed amount,
the live hint says how it was understood, and an entry that could be read two ways
is refused at the field and saves nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.support.browser import login

pytestmark = pytest.mark.django_db(transaction=True)


def open_form(page, live_app):
    page.goto(f"{live_app.url}/requests/new/")
    amount = page.locator("[name=lines-0-amount]")
    # A text field with the decimal keypad: a number field would drop a German comma.
    expect(amount).to_have_attribute("type", "text")
    expect(amount).to_have_attribute("inputmode", "decimal")
    return amount


def type_request(page, live_app, title: str, typed: str):
    """Fill the form from the keyboard: click into a field, type key by key, Tab on."""
    amount = open_form(page, live_app)
    page.locator("[name=title]").click()
    page.keyboard.type(title)
    amount.click()
    page.keyboard.type(typed, delay=20)
    page.select_option("[name=lines-0-category]", "travel")
    return amount


def submit_and_read(page) -> ExpenseRequest:
    page.locator("[data-testid=submit]").click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    return ExpenseRequest.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


@pytest.mark.parametrize(
    ("locale", "cases", "refused", "words", "corrected"),
    [
        (
            "de-DE",
            [("38,50", "38.50", "38,50 EUR"), ("1.450,00", "1450.00", "1.450,00 EUR")],
            "1.450",
            "Schreiben Sie 1.450,00 oder 1,45.",
            "1.450,00",
        ),
        (
            "en-US",
            [("1,450.00", "1450.00", "1,450.00 EUR"), ("38.50", "38.50", "38.50 EUR")],
            "1,450",
            "Write 1,450.00 or 1.45.",
            "1,450.00",
        ),
    ],
)
def test_typed_amounts_are_saved_exactly_or_refused(
    live_app, new_page, locale, cases, refused, words, corrected
):
    page = new_page(locale=locale)
    login(page, live_app, "emma")
    for typed, saved, shown in cases:
        type_request(page, live_app, f"Hotel {typed}", typed)
        # As the person types, the page says how it reads the amount.
        hint = page.locator("[data-testid=amount-understood]")
        expect(hint).to_have_attribute("data-state", "read")
        expect(hint).to_have_attribute("data-amount", saved)
        expect(hint).to_contain_text(shown)
        request = submit_and_read(page)
        assert request.amount == Decimal(saved) and request.currency == "EUR"
        assert request.title == f"Hotel {typed}"
        expect(page.locator("[data-testid=amount]")).to_contain_text(shown)

    before = ExpenseRequest.objects.count()
    amount = type_request(page, live_app, "Ambiguous", refused)
    expect(page.locator("[data-testid=amount-understood]")).to_have_attribute(
        "data-state", "refused"
    )
    page.locator("[data-testid=submit]").click()
    expect(page.locator("[data-testid=error-amount]")).to_contain_text(words)
    expect(amount).to_have_value(refused)  # kept as typed, to be corrected
    assert ExpenseRequest.objects.count() == before

    # Corrected as the message says, from the keyboard: saved as meant.
    amount = page.locator("[name=lines-0-amount]")
    amount.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    page.keyboard.type(corrected)
    assert submit_and_read(page).amount == Decimal("1450.00")
