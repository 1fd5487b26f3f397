"""Every page of scripts/pages.py, as each role, read the way people read: words, not
codes; one date style per language; display names, not usernames (issue 30).

The German pass sets German on each person's profile while the browser asks for English:
the profile wins once signed in. The English pass leaves the profile empty.
"""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from scripts.pages import ANONYMOUS, PEOPLE, pages_for
from tests.e2e.test_small_screen_browser import page_values
from tests.support.browser import goto_settled, login

pytestmark = pytest.mark.django_db(transaction=True)

# Codes of statuses, payments and decisions: never shown as text, in either language.
CODES = re.compile(
    r"\b(changes_requested|on_hold|request_changes|needs_approver|auto_approved|"
    r"deadline_extended|signal_ignored)\b"
)
# English status words a German page must not show (their German words are different).
ENGLISH_STATUS = re.compile(
    r"\b(pending|approved|rejected|withdrawn|expired|changes requested|paid|scheduled|"
    r"on hold|failed|processing|queued)\b",
    re.IGNORECASE,
)
DATE_STYLES = {
    "de": re.compile(r"\b\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}\b|\b\d{2}\.\d{2}\.\d{4}\b"),
    "en": re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b|\b\d{2}/\d{2}/\d{4}\b"),
}
# Anything that looks like a date in another style: US or ISO order, a.m./p.m., month names.
OTHER_DATES = {
    "de": re.compile(
        r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b|\b[ap]\.m\.|\d{2}:\d{2}:\d{2}"
    ),
    "en": re.compile(
        r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{4}-\d{2}-\d{2}\b|\b[ap]\.m\.|\d{2}:\d{2}:\d{2}|"
        r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\.? \d"
    ),
}
# The profile says "Signed in as Max Müller (max)" on purpose: the one place a person
# sees their sign-in name. Tokens belong to a username too (the API's owner field).
SHOWS_USERNAMES = {"profile"}


def visible_text(page) -> str:
    return page.evaluate("document.body.innerText")


def named_people() -> dict[str, str]:
    return {u.username: u.display_name for u in User.objects.all() if u.display_name != u.username}


# Whose pages show dates (their requests, the inbox, the audit): each sees some.
DATE_READERS = set(PEOPLE) - {"fiona"}  # finance: payouts and budgets, no dated rows here


# One test per person and language (each its own browser and data): parallel runs
# (TEST_WORKERS) share them out.
@pytest.mark.parametrize("who", (ANONYMOUS, *PEOPLE))
@pytest.mark.parametrize("language", ["de", "en"])
def test_every_page_shows_words_dates_and_names_as_people_read_them(
    live_app, new_page, demo_org, settings, language, who
):
    settings.APP_BASE_URL = live_app.url
    values = page_values(demo_org, live_app.url)
    if language == "de":
        User.objects.update(language="de")
    people = named_people()
    problems: list[str] = []
    dates_seen = 0
    # The browser asks for English: for the German pass, the profile wins.
    page = new_page("de-DE" if who == ANONYMOUS and language == "de" else "en-US")
    if who != ANONYMOUS:
        login(page, live_app, who)
    for spec in pages_for(who):
        response = goto_settled(page, spec.url(live_app.url, **values))
        assert response is not None and response.status == 200, (who, spec.name)
        assert page.evaluate("document.documentElement.lang") == language, spec.name
        text = visible_text(page)
        where = f"{spec.name} as {who} ({language})"
        for match in CODES.finditer(text):
            problems.append(f"{where}: code {match.group(0)!r}")
        if language == "de":
            # Titles are what people typed ("Already approved" is a title, in any
            # language), and the session's dev server still holds other tests'
            # workflows pending on the same usernames: the check reads our words only.
            ours = text
            for title in page.locator("[data-testid=open]").all_inner_texts():
                ours = ours.replace(title, "")
            for match in ENGLISH_STATUS.finditer(ours):
                problems.append(f"{where}: English word {match.group(0)!r}")
        for match in OTHER_DATES[language].finditer(text):
            problems.append(f"{where}: date {match.group(0)!r}")
        dates_seen += len(DATE_STYLES[language].findall(text))
        if spec.name not in SHOWS_USERNAMES:
            for username in people:
                if re.search(rf"(?<![\w@.-]){re.escape(username)}(?![\w@.-])", text):
                    problems.append(f"{where}: username {username!r}")
    page.context.close()
    assert not problems, "\n".join(problems)
    if who in DATE_READERS:  # the pages do show dates, in the language's one style
        assert dates_seen > 0, f"no date in the {language} style on {who}'s pages"
