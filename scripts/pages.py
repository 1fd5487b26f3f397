"""Every page of the app, once: the list the 375 px browser test
(tests/e2e/test_small_screen_browser.py) and scripts/screenshots.py both walk.

Add a page here and both cover it. `path` may name values the caller provides:
`{request}` (a pending request with a multi-level chain), `{approve_link}` /
`{reject_link}` (the path of a mail decision link for that request's current
approver). `who` lists the people who open it: "anonymous" or demo usernames.
"""

from __future__ import annotations

from dataclasses import dataclass

ANONYMOUS = "anonymous"
# One person per role of the demo organisation (DESIGN.md): employee, manager,
# director, finance, administrator.
PEOPLE = ("emma", "max", "diana", "fiona", "admin")
EVERYONE = PEOPLE
AUDITORS = ("admin",)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: tuple[str, ...] = EVERYONE

    def url(self, base: str, **values: object) -> str:
        return base.rstrip("/") + self.path.format(**values)


PAGES: list[Page] = [
    Page("login", "/accounts/login/", (ANONYMOUS,)),
    Page("home", "/"),
    Page("requests", "/requests/"),
    Page("request-new", "/requests/new/"),
    Page("request-detail", "/requests/{request}/", ("emma", "max", "admin")),
    Page("inbox", "/inbox/"),
    Page("delegation", "/accounts/delegation/"),
    Page("tokens", "/accounts/tokens/"),
    Page("profile", "/accounts/profile/"),
    Page("bank-details", "/accounts/bank/"),
    Page("audit", "/audit/", AUDITORS),
    Page("audit-detail", "/audit/{request}/", AUDITORS),
    Page("ops", "/ops/", AUDITORS),
    Page("analytics", "/audit/analytics/", AUDITORS),
    Page("payouts", "/payouts/", AUDITORS),
    Page("policy-list", "/policy/", AUDITORS),
    Page("policy-detail", "/policy/1/", AUDITORS),
    Page("link-approve", "{approve_link}", ("max",)),
    Page("link-reject", "{reject_link}", ("max",)),
]


def pages_for(who: str) -> list[Page]:
    return [page for page in PAGES if who in page.who]
