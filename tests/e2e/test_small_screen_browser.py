"""Every page at 375 px wide, as each role, in English and German (scripts/pages.py is
the one page list): nothing scrolls sideways (document.documentElement.scrollWidth
<= 375). The axe-core check of the new_page fixture runs on each of these pages too."""

from __future__ import annotations

import pytest

from approvals.links import LinkClaim, link_url, new_decision_id
from scripts.pages import ANONYMOUS, PAGES, PEOPLE, pages_for
from tests.support.browser import goto_settled, login
from tests.support.requests import decide, submit, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 375


def page_values(demo_org, base_url: str) -> dict[str, object]:
    """A request with a long chain (three managers and finance), waiting on diana with
    a comment from max, and max's mail links for a second one."""
    request = submit(
        demo_org["emma"], "20000.00", title="Cluster hardware for the data platform team"
    )
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], comment="Needed for the launch; quotes attached.")
    wait_pending_level(request, 2)
    linked = submit(demo_org["emma"], "300.00", title="Printer toner")
    wait_pending_level(linked, 1)

    def link(action: str) -> str:
        claim = LinkClaim("max", linked.pk, 1, 1, action, new_decision_id())
        return link_url(claim).removeprefix(base_url)

    return {"request": request.pk, "approve_link": link("approve"), "reject_link": link("reject")}


# One test per person (each its own browser and data): parallel runs (TEST_WORKERS)
# share them out. Both languages without doubling the time: every other person reads
# German (its words are longer).
@pytest.mark.parametrize(
    ("who", "locale"),
    [(who, "de-DE" if i % 2 else "en-US") for i, who in enumerate((ANONYMOUS, *PEOPLE))],
)
def test_every_page_fits_375_px_for_every_role(live_app, new_page, demo_org, settings, who, locale):
    settings.APP_BASE_URL = live_app.url
    values = page_values(demo_org, live_app.url)
    too_wide: list[str] = []
    page = new_page(locale, width=WIDTH)
    if who != ANONYMOUS:
        login(page, live_app, who)
    for spec in pages_for(who):
        response = goto_settled(page, spec.url(live_app.url, **values))
        assert response is not None and response.status == 200, (who, spec.name)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            too_wide.append(f"{spec.name} as {who} ({locale}): {width} px")
    page.context.close()
    assert not too_wide, "wider than 375 px:\n" + "\n".join(too_wide)


def test_the_people_above_see_every_page_between_them():
    seen = {spec.name for who in (ANONYMOUS, *PEOPLE) for spec in pages_for(who)}
    assert seen == {spec.name for spec in PAGES}
    assert all(pages_for(who) for who in (ANONYMOUS, *PEOPLE))
