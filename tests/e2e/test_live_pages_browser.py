"""Issue 32 beyond the request page, in Chromium against the live app: the home page and
the request list keep the focused link and the scroll position through a pushed
refresh (and say what changed), the inbox keeps a typed comment while rows arrive,
leave and change (today's behaviour, guarded, and the changed row now morphed), and the
policy editor keeps what an administrator types while pushes arrive.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from approvals import services
from approvals.models import ExpenseRequest
from tests.support.live import MARK, same_document, signed_in, state, type_into
from tests.support.requests import decide, submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def pending(user, amount="300.00", title="Train tickets", approver="max"):
    request = submit(user, amount, title=title)
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == [approver])
    return request


def focused_is_marked(page) -> bool:
    return page.evaluate("document.activeElement && document.activeElement.__typedHere === true")


def test_home_keeps_the_focused_link_and_the_scroll_position(live_app, new_page, demo_org):
    first = pending(demo_org["emma"], title="Hotel Hamburg")
    page = signed_in(new_page, live_app, "max", "/", width=375)
    page.set_viewport_size({"width": 375, "height": 300})
    link = page.locator(f"#waiting-row-{first.pk} a")
    link.focus()
    link.evaluate(MARK)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0

    second = pending(demo_org["emma"], title="Taxi")
    expect(page.locator("[data-testid=waiting-count]")).to_have_text(
        "2 requests wait for your decision"
    )
    expect(page.locator(f"#waiting-row-{second.pk}")).to_be_visible()
    assert focused_is_marked(page)  # the very link, still focused
    assert page.evaluate("window.scrollY") >= scrolled  # not thrown back to the top
    expect(page.locator("[data-testid=toast]").last).to_contain_text(f"Request #{second.pk} Taxi")
    assert same_document(page)
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 375


def test_request_list_keeps_the_focused_link_through_a_status_change(live_app, new_page, demo_org):
    request = pending(demo_org["emma"], title="Hotel Hamburg")
    page = signed_in(new_page, live_app, "emma", "/requests/", locale="de-DE")
    link = page.locator(f"#request-row-{request.pk} a")
    link.focus()
    link.evaluate(MARK)

    decide(request, demo_org["max"])
    status = page.locator(f"#request-row-{request.pk} [data-testid=status]")
    expect(status).to_have_attribute("data-status", "approved")
    expect(status).to_have_text("genehmigt")
    assert focused_is_marked(page)
    expect(page.locator("[data-testid=toast]").last).to_contain_text(
        f"Antrag #{request.pk} Hotel Hamburg:"
    )
    assert same_document(page)


def test_inbox_keeps_a_typed_comment_when_rows_arrive_leave_and_change(
    live_app, new_page, demo_org
):
    emma, admin = demo_org["emma"], demo_org["admin"]
    mine = pending(emma, title="Client dinner")
    leaving = pending(emma, title="Parking")
    page = signed_in(new_page, live_app, "max", "/inbox/")
    row = page.locator(f"#inbox-row-{mine.pk}")
    comment = row.locator("[name=comment]")
    type_into(comment, "Which client was it?", caret=5)

    arriving = pending(emma, title="Taxi")  # a row arrives
    expect(page.locator(f"#inbox-row-{arriving.pk}")).to_be_visible()
    services.expense_withdraw(request=leaving, actor=emma)  # a row leaves
    expect(page.locator(f"#inbox-row-{leaving.pk}")).to_have_count(0)
    due = row.locator("time:not([data-testid=line-date])").get_attribute("datetime")
    services.deadline_extend(request=mine, actor=admin, seconds=86400)  # the row itself changes
    expect(row.locator("time:not([data-testid=line-date])")).not_to_have_attribute("datetime", due)

    assert state(comment) == {
        "value": "Which client was it?",
        "same": True,
        "focused": True,
        "start": 5,
        "end": 5,
        "readOnly": False,
    }
    row.locator("[data-testid=reject]").click()
    page.locator(f"[data-testid=decision-done][data-request-id='{mine.pk}']").wait_for()
    wait_status(mine, "rejected")
    assert mine.steps.get(level=1).comment == "Which client was it?"
    assert same_document(page)


def test_policy_editor_keeps_what_the_admin_types_while_pushes_arrive(live_app, new_page, demo_org):
    page = signed_in(new_page, live_app, "admin", "/policy/")
    page.click("[data-testid=new-draft]")
    page.wait_for_url(re.compile(r"/policy/2/$"))
    page.wait_for_load_state("networkidle")
    note = page.locator("[data-testid=policy-form] [name=note]")
    note.fill("")
    type_into(note, "Raise the IT threshold", caret=9)
    seen = int(page.evaluate("Number(document.body.dataset.liveSeen || 0)"))

    submit(demo_org["admin"], "120.00", title="Own laptop bag")  # pushed to the admin
    page.wait_for_selector(f"body[data-live-seen='{seen + 1}']", state="attached")
    page.wait_for_load_state("networkidle")  # the header's inbox count refreshed too

    assert state(note) == {
        "value": "Raise the IT threshold",
        "same": True,
        "focused": True,
        "start": 9,
        "end": 9,
        "readOnly": False,
    }
    page.click("[data-testid=save-draft]")
    expect(page.locator("[data-testid=policy-form] [name=note]")).to_have_value(
        "Raise the IT threshold"
    )
