"""A decision from the mail in Chromium: the live app sends its mails with the console
backend, the test reads max's approve link from the app's stdout, opens it signed out,
signs in, lands back on the confirmation page and confirms."""

from __future__ import annotations

import re

import pytest

from tests.support.requests import submit, wait_closed
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_max_approves_from_the_mail_link_printed_by_the_console_backend(
    live_app, new_page, demo_org, settings, capfd
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.APP_BASE_URL = live_app.url
    request = submit(demo_org["emma"], "300.00", title="Printer toner")
    pattern = re.compile(r"Approve level 1: (" + re.escape(live_app.url) + r"/links/\S+/)")
    printed: list[str] = []

    def link() -> str | None:
        printed.append(capfd.readouterr().out)
        found = pattern.findall("".join(printed))
        return found[0] if found else None

    url = wait_for(link, message="the console backend never printed max's approve link")
    output = "".join(printed)
    assert "To: max@example.com" in output and "Content-Type: text/html" in output

    page = new_page()
    page.goto(url)  # signed out: the login page, then back to the link
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    page.fill("input[name=username]", "max")
    page.fill("input[name=password]", "demo")
    page.click("[data-testid=login]")
    page.wait_for_url(url)
    assert "Printer toner" in page.inner_text("[data-testid=decision-link]")
    assert page.locator("[data-testid=link-outcome]").count() == 0

    page.click("[data-testid=confirm]")
    outcome = page.locator("[data-testid=link-outcome]")
    outcome.wait_for()
    assert outcome.get_attribute("data-kind") == "applied"
    assert "Your approval of level 1 was recorded." in outcome.inner_text()
    state = wait_closed(request, "approved")
    assert [(d.actor, d.channel) for d in state.decisions] == [("max", "signal")]

    page.goto(f"{live_app.url}/requests/{request.pk}/")
    assert page.inner_text("[data-testid=status]") == "approved"
