"""The inbox from the keyboard in Chromium, on the live app (real ASGI app, worker,
Temporal, PostgreSQL): j/k move, a approves, r rejects through the comment, x selects,
? shows the keys (English and German); the focus goes to the next row when a row
leaves (decided here or withdrawn elsewhere); a toast says what arrived or left;
the filters work with JavaScript switched off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from approvals import services
from tests.support.browser import login, wait_ws
from tests.support.i18n import po_translation
from tests.support.requests import state_of, submit, wait_closed, wait_pending_level
from tests.support.visibility import clear_inbox, wait_visible

pytestmark = pytest.mark.django_db(transaction=True)


def pending_for_max(demo_org, *amounts: str) -> list:
    clear_inbox("max")
    requests = []
    for i, amount in enumerate(amounts):
        request = submit(demo_org["emma"], amount, title=f"Keyboard request {i + 1}")
        wait_pending_level(request, 1)
        requests.append(request)
    for request in requests:
        wait_visible(request, PendingApprovers=["max"])
    return requests


def open_inbox(new_page, app, username: str, count: int, locale: str = "en-US"):
    page = new_page(locale)
    login(page, app, username)
    page.goto(f"{app.url}/inbox/")
    expect(page.locator("[data-testid=inbox-row]")).to_have_count(count)
    wait_ws(page)
    return page


def focused_request(page) -> str | None:
    return page.evaluate(
        "(() => { const r = document.activeElement.closest('[data-testid=inbox-row]');"
        " return r ? r.dataset.requestId : null; })()"
    )


def test_j_k_move_a_approves_r_rejects_x_selects_and_the_focus_moves_on(
    live_app, new_page, demo_org
):
    first, second, third = pending_for_max(demo_org, "300.00", "400.00", "500.00")
    page = open_inbox(new_page, live_app, "max", 3)
    order = page.eval_on_selector_all(
        "[data-testid=inbox-row]", "rows => rows.map(r => r.dataset.requestId)"
    )
    by_pk = {str(r.pk): r for r in (first, second, third)}
    assert sorted(order) == sorted(by_pk)

    page.keyboard.press("j")
    assert focused_request(page) == order[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_request(page) == order[2]
    page.keyboard.press("j")  # stays on the last row
    assert focused_request(page) == order[2]
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert focused_request(page) == order[0]

    # a: approves the focused row; the focus goes to the next row.
    page.keyboard.press("a")
    page.locator(f"[data-testid=decision-done][data-request-id='{order[0]}']").wait_for()
    expect(page.locator(f"[data-testid=inbox-row][data-request-id='{order[0]}']")).to_have_count(0)
    assert focused_request(page) == order[1]
    approved = wait_closed(by_pk[order[0]], "approved")
    assert [(d.actor, d.action) for d in approved.decisions] == [("max", "approve")]

    # r: moves to the row's comment; typing and Enter reject (not approve).
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "comment"
    assert focused_request(page) == order[1]
    page.keyboard.type("Not in this quarter")  # letters typed here are no shortcuts
    page.keyboard.press("Enter")
    page.locator(f"[data-testid=decision-done][data-request-id='{order[1]}']").wait_for()
    assert focused_request(page) == order[2]
    rejected = wait_closed(by_pk[order[1]], "rejected")
    assert [(d.actor, d.action, d.comment) for d in rejected.decisions] == [
        ("max", "reject", "Not in this quarter")
    ]

    # x: selects the focused row for "Approve selected", x again unselects.
    last = page.locator(f"[data-testid=inbox-row][data-request-id='{order[2]}']")
    box = last.locator("[data-testid=select]")
    page.keyboard.press("x")
    expect(box).to_be_checked()
    page.keyboard.press("x")
    expect(box).not_to_be_checked()
    assert state_of(by_pk[order[2]]).status == "pending"


def test_a_row_withdrawn_elsewhere_leaves_with_a_toast_and_the_focus_moves_on(
    live_app, new_page, demo_org
):
    first, second = pending_for_max(demo_org, "300.00", "400.00")
    page = open_inbox(new_page, live_app, "max", 2)
    order = page.eval_on_selector_all(
        "[data-testid=inbox-row]", "rows => rows.map(r => r.dataset.requestId)"
    )
    page.keyboard.press("j")
    assert focused_request(page) == order[0]
    leaving = first if str(first.pk) == order[0] else second

    services.expense_withdraw(request=leaving, actor=demo_org["emma"], reason="Not needed")
    expect(page.locator(f"[data-testid=inbox-row][data-request-id='{leaving.pk}']")).to_have_count(
        0
    )
    toasts = page.locator("#toasts[role=status][aria-live=polite] [data-testid=toast]")
    expect(toasts.last).to_have_text(f"Left your inbox: #{leaving.pk} {leaving.title}")
    assert focused_request(page) == order[1]

    # Something new arrives: a toast names it, the row joins the list.
    arriving = submit(demo_org["emma"], "250.00", title="Arrives while open")
    row = page.locator(f"[data-testid=inbox-row][data-request-id='{arriving.pk}']")
    row.wait_for()
    expect(toasts.last).to_have_text(f"New in your inbox: #{arriving.pk} Arrives while open")
    assert focused_request(page) == order[1]  # an arrival never takes the focus


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_question_mark_shows_the_keys_in_a_dialog(live_app, new_page, demo_org, locale):
    pending_for_max(demo_org, "300.00")
    page = open_inbox(new_page, live_app, "max", 1, locale=locale)
    dialog = page.locator("[data-testid=keys-dialog]")
    expect(dialog).to_be_hidden()
    page.keyboard.press("j")
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    keys = dialog.locator("kbd").all_inner_texts()
    assert keys[:5] == ["j", "k", "a", "r", "x"] and "?" in keys
    text = dialog.inner_text()
    for msgid in ("Keyboard shortcuts", "Next request", "Approve the current request"):
        expected = msgid if locale == "en-US" else po_translation(msgid)
        assert expected and expected in text, (locale, msgid)
    page.keyboard.press("a")  # no shortcut acts behind the open dialog
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused_request(page) is not None  # back on the row it was opened from
    assert page.locator("[data-testid=decision-done]").count() == 0
    # The button opens the same dialog (for people who do not know the key).
    page.click("[data-testid=keys-help]")
    expect(dialog).to_be_visible()
    page.click("[data-testid=keys-close]")
    expect(dialog).to_be_hidden()


def test_inbox_filters_work_without_javascript(live_app, new_page, demo_org):
    small, large = pending_for_max(demo_org, "300.00", "800.00")
    page = new_page(javascript=False)
    login(page, live_app, "max")
    page.goto(f"{live_app.url}/inbox/")
    rows = page.locator("[data-testid=inbox-row]")
    expect(rows).to_have_count(2)
    page.fill("[name=min_amount]", "500")
    page.click("[data-testid=filter]")
    page.wait_for_url(re.compile(r"/inbox/\?.*min_amount=500"))
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-request-id") == str(large.pk)
    page.fill("[name=min_amount]", "")
    page.fill("[name=max_amount]", "500")
    page.click("[data-testid=filter]")
    page.wait_for_url(re.compile(r"max_amount=500"))
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-request-id") == str(small.pk)
    # Bad input: a clear error on the page, never a 500.
    response = page.goto(f"{live_app.url}/inbox/?min_amount=lots")
    assert response.status == 200
    expect(page.locator("[data-testid=filter-errors]")).to_be_visible()
