"""Bank details in a real browser: emma changes her IBAN with the keyboard, the password
prompt (data-testid step-up) stops a wrong password, her approved payment shows on hold,
and fiona confirms the change on /payouts/ (data-testid confirm-bank-change)."""

import pytest

from accounts.bank import make_iban
from payouts.models import Payment
from tests.support.browser import login
from tests.support.payouts import approved, wait_payment

pytestmark = pytest.mark.django_db(transaction=True)

NEW_IBAN = make_iban("DE", "370400440532015555")


def test_emma_changes_her_iban_and_fiona_confirms_it(live_app, new_page, demo_org):
    request = approved(demo_org, "75.00", title="Before the change")
    wait_payment(request, "scheduled")
    page = new_page()
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/accounts/bank/")
    page.fill("input[name=iban]", "")
    page.locator("input[name=iban]").press_sequentially(NEW_IBAN)
    prompt = page.locator("[data-testid=step-up]")
    prompt.locator("input[name=password]").press_sequentially("not-it")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "The password is not correct" in page.text_content("[data-testid=error-password]")
    assert Payment.objects.get(request_id=request.pk).status == "scheduled"
    page.locator("[data-testid=step-up] input[name=password]").press_sequentially("demo")
    with page.expect_navigation():
        page.click("[data-testid=save-bank]")
    assert "1 payment waits" in page.text_content("#messages")
    page.goto(f"{live_app.url}/requests/{request.pk}/")
    status = page.locator("[data-testid=payment-status]")
    assert status.get_attribute("data-status") == "on_hold"

    finance = new_page(locale="de-DE")
    login(finance, live_app, "fiona")
    finance.click("[data-testid=nav-payouts]")
    row = finance.locator("[data-testid=bank-change]")
    assert NEW_IBAN in row.text_content()
    with finance.expect_navigation():
        row.locator("[data-testid=confirm-bank-change]").click()
    assert "wieder eingeplant" in finance.text_content("#messages")
    assert Payment.objects.get(request_id=request.pk).status == "scheduled"
