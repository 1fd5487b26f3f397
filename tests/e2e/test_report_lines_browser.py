"""The request page of a four-line report (emma's trip, one line in GBP) on a 375 px
phone, in English as its approver and in German as its requester: every line with its
receipt image loaded, nothing scrolls sideways, the reason field appears only once a
line is ticked for rejection; axe-core checks each page (the new_page fixture)."""

from __future__ import annotations

import pytest

from tests.support.browser import login
from tests.support.lines import set_lines
from tests.support.requests import submit, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 375


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def loaded_previews(page) -> int:
    images = page.locator("[data-testid=receipt-preview]")
    count = images.count()
    for i in range(count):
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    return sum(
        1
        for i in range(count)
        if images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    )


def test_four_lines_fit_a_phone_for_the_approver_and_the_requester(live_app, new_page, demo_org):
    request = submit(demo_org["emma"], "564.40", title="Trip to Berlin, client dinner in London")
    wait_pending_level(request, 1)
    set_lines(request)

    page = new_page("en-US", width=WIDTH)
    login(page, live_app, "max")
    page.goto(f"{live_app.url}/requests/{request.pk}/", wait_until="networkidle")
    lines = page.locator("[data-testid=line]")
    assert lines.count() == 4
    assert loaded_previews(page) == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    dinner = page.locator('[data-testid=line][data-line="4"]')
    reason = dinner.locator("[data-testid=line-reason]")
    assert not reason.is_visible()
    dinner.locator("[data-testid=reject-line]").check()
    assert reason.is_visible()
    reason.fill("Client dinners are not covered")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    # The control belongs to the decision form (its form attribute): the form sees it.
    names = page.locator("[data-testid=decision-form]").evaluate(
        "form => Array.from(new FormData(form).entries()).map(e => e[0] + '=' + e[1])"
    )
    assert "reject_line=4" in names and "line_reason_4=Client dinners are not covered" in names
    assert "586.28 EUR" in page.locator("[data-testid=approved-total]").inner_text()

    german = new_page("de-DE", width=WIDTH)
    login(german, live_app, "emma")
    german.goto(f"{live_app.url}/requests/{request.pk}/", wait_until="networkidle")
    assert german.locator("[data-testid=line]").count() == 4
    assert german.locator("[data-testid=reject-line]").count() == 0
    assert loaded_previews(german) == 4
    assert "586,28 EUR" in german.locator("[data-testid=approved-total]").inner_text()
    assert german.evaluate("document.documentElement.scrollWidth") <= WIDTH
