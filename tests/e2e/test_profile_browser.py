"""The profile page in a real browser: from the header, the digest opt-out and back."""

import pytest

from accounts.models import User
from tests.support.browser import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_max_turns_the_daily_digest_off_and_on_from_his_profile(live_app, new_page):
    page = new_page()
    login(page, live_app, "max")
    page.click("[data-testid=nav-profile]")
    page.wait_for_url(f"{live_app.url}/accounts/profile/")
    box = page.locator("input[name=receives_digest]")
    assert box.is_checked()
    box.uncheck()
    with page.expect_navigation():
        page.click("[data-testid=save-profile]")
    assert "Your profile was saved." in page.text_content("#messages")
    assert not page.locator("input[name=receives_digest]").is_checked()
    assert User.objects.get(username="max").receives_digest is False
    page.locator("input[name=receives_digest]").check()
    with page.expect_navigation():
        page.click("[data-testid=save-profile]")
    assert User.objects.get(username="max").receives_digest is True


def test_the_profile_page_speaks_german(live_app, new_page):
    page = new_page(locale="de-DE")
    login(page, live_app, "emma")
    page.click("[data-testid=nav-profile]")
    assert page.text_content("h1").strip() == "Profil"
    assert "Die tägliche Übersicht per Mail erhalten" in page.text_content(
        "[data-testid=profile-form]"
    )
