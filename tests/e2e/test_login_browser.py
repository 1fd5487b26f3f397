"""Signing in and out, and the language, in a real browser."""

import pytest

from tests.support.browser import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_emma_logs_in_and_sees_her_name_and_role(live_app, new_page):
    page = new_page()
    login(page, live_app, "emma")
    assert page.text_content("[data-testid=user-name]").strip() == "Emma Engel"
    assert page.text_content("[data-testid=user-role]").strip() == "Employee"


def test_german_browser_gets_german_pages_and_the_switcher_changes_language(live_app, new_page):
    page = new_page(locale="de-DE")
    page.goto(f"{live_app.url}/accounts/login/")
    assert page.get_attribute("html", "lang") == "de"
    assert page.text_content("[data-testid=login]").strip() == "Anmelden"
    login(page, live_app, "max")
    assert page.text_content("[data-testid=user-role]").strip() == "Manager:in"
    assert page.text_content("[data-testid=logout]").strip() == "Abmelden"
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("[data-testid=logout]").strip() == "Log out"


def test_logout_button_ends_the_session(live_app, new_page):
    page = new_page()
    login(page, live_app, "finn")
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{live_app.url}/accounts/login/")
    page.goto(f"{live_app.url}/requests/")
    assert page.url.startswith(f"{live_app.url}/accounts/login/")
    assert page.locator("[data-testid=user-name]").count() == 0
