"""The phone (375 × 812): a compact header with a menu (a <details>, no script needed),
a prominent "New report", and the primary action of the request page and of an inbox
item on the first screen, without scrolling (issue 30). Wide, the bar shows it all."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import login
from tests.support.requests import submit, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 812}


def on_first_screen(page, locator) -> bool:
    """Visible and inside the viewport as loaded (the page is not scrolled)."""
    assert page.evaluate("window.scrollY") == 0
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def phone(new_page, locale: str = "en-US"):
    page = new_page(locale, width=PHONE["width"])
    page.set_viewport_size(PHONE)
    return page


def test_the_primary_actions_are_on_the_first_phone_screen(live_app, new_page, demo_org):
    request = submit(
        demo_org["emma"],
        "2000.00",
        title="Cluster hardware for the data platform team",
        description="Quotes attached.\n" * 12,  # a long page: the form is far below
    )
    wait_pending_level(request, 1)
    for _i in range(3):
        wait_pending_level(submit(demo_org["emma"], "120.00", title="Printer toner"), 1)

    page = phone(new_page, "de-DE")
    login(page, live_app, "max")
    page.goto(f"{live_app.url}/requests/{request.pk}/", wait_until="networkidle")
    approve = page.locator("[data-testid=decision-form] [data-testid=approve]")
    reject = page.locator("[data-testid=decision-form] [data-testid=reject]")
    assert on_first_screen(page, approve) and on_first_screen(page, reject)
    # The chain and the history are still there, above the bar.
    assert page.locator("[data-testid=chain-level]").count() == 2

    page.goto(f"{live_app.url}/inbox/", wait_until="networkidle")
    first = page.locator("[data-testid=inbox-row]").first
    assert on_first_screen(page, first.locator("[data-testid=approve]"))
    assert on_first_screen(page, first.locator("[data-testid=open]"))


def test_the_phone_header_is_one_line_with_new_report_and_a_menu(live_app, new_page, demo_org):
    page = phone(new_page)
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/", wait_until="networkidle")
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] <= 72, header
    new_report = page.locator("[data-testid=new-report]")
    assert on_first_screen(page, new_report)
    inbox_link = page.get_by_role("link", name="Inbox")
    expect(inbox_link).to_be_hidden()  # folded into the menu
    page.locator("[data-testid=menu-toggle]").click()
    expect(inbox_link).to_be_visible()
    expect(page.locator("[data-testid=logout]")).to_be_visible()
    # Really there to tap (painted on top, not clipped): the click reaches the link.
    inbox_link.click()
    expect(page).to_have_url(f"{live_app.url}/inbox/")
    page.locator("[data-testid=new-report]").click()
    expect(page).to_have_url(f"{live_app.url}/requests/new/")


def test_the_menu_works_without_javascript(live_app, new_page, demo_org):
    page = new_page(javascript=False, width=PHONE["width"])
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/")
    profile = page.locator("[data-testid=nav-profile]")
    expect(profile).to_be_hidden()
    page.locator("[data-testid=menu-toggle]").click()
    expect(profile).to_be_visible()


def test_wide_the_bar_shows_everything_and_no_menu_button(live_app, new_page, demo_org):
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/", wait_until="networkidle")
    expect(page.locator("[data-testid=menu-toggle]")).to_be_hidden()
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()
    expect(page.locator("[data-testid=nav-profile]")).to_be_visible()
    expect(page.locator("[data-testid=new-report]")).to_be_visible()
    # "API tokens" is for people who use them: under the profile for emma.
    expect(page.locator("header").get_by_role("link", name="API tokens")).to_have_count(0)
    page.locator("[data-testid=nav-profile]").click()
    expect(page.locator("[data-testid=nav-tokens]")).to_be_visible()
