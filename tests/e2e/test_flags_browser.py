"""Issue 27 in Chromium: emma submits two hotel reports with the same receipt file and
two 999.99 EUR laptop bags; max sees the duplicate flag on the second hotel and the split
flag on the second bag (inbox row and request page), and none on the first of each."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.support.browser import login
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

RECEIPT = b"%PDF-1.4\n% Hotel Adlon, 1 night, 240.00 EUR\n%%EOF\n"
BAG = b"%PDF-1.4\n% Laptop bag, 999.99 EUR\n%%EOF\n"


def submit(page, live_app, title: str, amount: str, category: str, receipt: bytes) -> int:
    page.goto(f"{live_app.url}/requests/new/")
    page.fill("[name=title]", title)
    page.fill("[name=lines-0-merchant]", title)
    page.fill("[name=lines-0-amount]", amount)
    page.select_option("[name=lines-0-category]", category)
    page.fill("[name=lines-0-description]", "1 night" if category == "travel" else "")
    if receipt:
        page.set_input_files(
            "[name=lines-0-receipt]",
            files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": receipt}],
        )
    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def test_max_sees_the_duplicate_and_the_split(live_app, new_page):
    emma = new_page()
    login(emma, live_app, "emma")
    hotel_one = submit(emma, live_app, "Hotel Adlon", "240.00", "travel", receipt=RECEIPT)
    hotel_two = submit(emma, live_app, "Hotel Adlon again", "240.00", "travel", receipt=RECEIPT)
    bag_one = submit(emma, live_app, "Laptop bag", "999.99", "other", receipt=BAG)
    bag_two = submit(emma, live_app, "Laptop bag", "999.99", "other", receipt=b"")
    ids = [hotel_one, hotel_two, bag_one, bag_two]
    wait_for(
        lambda: (
            ExpenseRequest.objects.filter(
                pk__in=ids, status="pending", pending_approvers=["max"]
            ).count()
            == 4
        ),
        message="the four reports never waited on max",
    )
    max_ = new_page()
    login(max_, live_app, "max")
    max_.goto(f"{live_app.url}/inbox/")

    def flags(pk: int):
        return max_.locator(f"#inbox-row-{pk} [data-testid=flag]")

    for pk in ids:
        expect(max_.locator(f"#inbox-row-{pk}")).to_be_visible(timeout=30_000)
    expect(flags(hotel_two).and_(max_.locator("[data-code=duplicate]"))).to_have_count(1)
    expect(max_.locator(f"#inbox-row-{hotel_one} [data-code=duplicate]")).to_have_count(0)
    expect(max_.locator(f"#inbox-row-{bag_two} [data-code=split]")).to_have_count(1)
    expect(max_.locator(f"#inbox-row-{bag_one} [data-code=split]")).to_have_count(0)
    # One-line reports over the hotel limit are flagged too (240 EUR for a night).
    expect(max_.locator(f"#inbox-row-{hotel_one} [data-code=over_limit]")).to_have_count(1)

    max_.goto(f"{live_app.url}/requests/{hotel_two}/")
    duplicate = max_.locator("[data-testid=flag][data-code=duplicate]")
    expect(duplicate).to_contain_text(f"The same receipt file is on request #{hotel_one}")
    max_.goto(f"{live_app.url}/requests/{bag_two}/")
    split = max_.locator("[data-testid=flag][data-code=split]")
    expect(split).to_contain_text("1,999.98 EUR")
    expect(split).to_contain_text(f"#{bag_one}")
