"""Issue 32 on the request page, in Chromium against the live app (real Temporal, worker,
PostgreSQL, websockets): a person types into a form, someone else changes the request in
another browser, the pushed refresh lands, and what they typed, the focus and the caret
are still there and the form still sends; when the change made the action impossible,
the text stays, read-only, with what happened in words and an announcement.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.support.live import same_document, signed_in, state, type_into
from tests.support.requests import decide, submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "Please attach the itemised invoice"


def pending(user, amount="300.00", title="Team dinner", approver="max", level=1):
    request = submit(user, amount, title=title)
    wait_pending_level(request, level)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == [approver])
    return request


def deadline(page, level=1):
    return page.locator(
        f"[data-testid=chain-level][data-level='{level}'] [data-testid=step-deadline] time"
    )


def extend_from(page, reason: str, amount: str = "2") -> None:
    form = page.locator("[data-testid=extend-deadline]")
    form.locator("[name=amount]").fill(amount)
    form.locator("[name=reason]").fill(reason)
    form.locator("[data-testid=extend-submit]").click()
    expect(page.locator("#messages")).to_contain_text("The deadline is now", timeout=20_000)


def moved_after_push(page, before: str, level: int = 1) -> None:
    """Wait until the pushed refresh has moved the level's deadline on this page."""
    expect(deadline(page, level)).not_to_have_attribute("datetime", before, timeout=20_000)


def test_decision_comment_and_extend_reason_survive_an_extension_and_still_send(
    live_app, new_page, demo_org
):
    request = pending(demo_org["emma"])
    max_ = signed_in(new_page, live_app, "max", f"/requests/{request.pk}/")
    before = deadline(max_).get_attribute("datetime")

    # max writes an extension reason, then starts his rejection comment (the caret mid-text).
    reason = max_.locator("[data-testid=extend-deadline] [name=reason]")
    type_into(reason, "Waiting for the invoice")
    comment = max_.locator("[data-testid=decision-form] [name=comment]")
    type_into(comment, COMMENT, caret=6)

    # Meanwhile the administrator extends the deadline in another browser.
    admin = signed_in(new_page, live_app, "admin", f"/requests/{request.pk}/")
    extend_from(admin, "Max is travelling")
    moved_after_push(max_, before)

    # Pushed and morphed: the same elements, the text, the focus and the caret stay.
    typed = state(comment)
    assert typed == {
        "value": COMMENT,
        "same": True,
        "focused": True,
        "start": 6,
        "end": 6,
        "readOnly": False,
    }
    assert state(reason)["value"] == "Waiting for the invoice" and state(reason)["same"]
    # The change is said, not only shown (the page's aria-live region).
    expect(max_.locator("[data-testid=toast]").last).to_contain_text("deadline extended")
    assert same_document(max_)

    # Both forms still send: his own extension first (the comment survives that swap too) ...
    moved = deadline(max_).get_attribute("datetime")
    max_.locator("[data-testid=extend-deadline] [data-testid=extend-submit]").click()
    expect(deadline(max_)).not_to_have_attribute("datetime", moved)
    expect(max_.locator("[data-testid=history]")).to_contain_text("Waiting for the invoice")
    assert state(comment)["value"] == COMMENT
    # ... the extend form then shows the server's fresh form, its reason sent and emptied.
    assert max_.locator("[data-testid=extend-deadline] [name=reason]").input_value() == ""

    # ... then the rejection with the comment he typed before the push.
    max_.locator("[data-testid=decision-form] [data-testid=reject]").click()
    wait_status(request, "rejected")
    level = max_.locator("[data-testid=chain-level][data-level='1']")
    expect(level.locator("[data-testid=step-comment]")).to_have_text(COMMENT)


def test_override_reason_survives_a_change_then_moves_on_when_the_level_is_decided(
    live_app, new_page, demo_org
):
    request = pending(demo_org["emma"], "2000.00", title="Conference")  # max, then diana
    admin = signed_in(new_page, live_app, "admin", f"/requests/{request.pk}/", width=375)
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app.url)
    before = deadline(admin).get_attribute("datetime")
    reason = admin.locator("[data-testid=override] [name=reason]")
    type_into(reason, "Max is on parental leave", caret=3)

    # max (level 1) extends his deadline in his own browser: the admin is not among the
    # people told, yet the page she has open follows the request (it watches it).
    max_ = signed_in(new_page, live_app, "max", f"/requests/{request.pk}/")
    extend_from(max_, "Back on Monday")
    moved_after_push(admin, before)
    assert state(reason) == {
        "value": "Max is on parental leave",
        "same": True,
        "focused": True,
        "start": 3,
        "end": 3,
        "readOnly": False,
    }

    # The override still sends: level 1 approved as an administrator, with her reason.
    admin.locator("[data-testid=override-approve]").click()
    expect(admin.locator("#messages")).to_contain_text("Approved as an administrator override.")
    one = admin.locator("[data-testid=chain-level][data-level='1']")
    expect(one.locator("[data-testid=step-comment]")).to_have_text("Max is on parental leave")

    # Level 2: she starts another reason; diana decides it herself in her browser.
    wait_pending_level(request, 2)
    second = admin.locator("#act-override-2 [name=reason]")
    type_into(second, "Diana asked me to")
    diana = signed_in(new_page, live_app, "diana", f"/requests/{request.pk}/")
    diana.locator("[data-testid=decision-form] [data-testid=approve]").click()
    wait_status(request, "approved")

    # The text stays, read-only, the reason is said next to it and announced; no error.
    kept = admin.locator("#act-override-2")
    note = kept.locator("[data-testid=moved-on]")
    expect(note).to_contain_text("Level 2 was approved by Diana Dietrich.")
    expect(note).to_contain_text("What you wrote was not sent; it is kept below.")
    expect(admin.locator(f"#status-{request.pk}")).to_have_text("approved")
    assert state(second)["value"] == "Diana asked me to"
    assert state(second)["same"] and state(second)["focused"] and state(second)["readOnly"]
    assert state(second)["start"] == len("Diana asked me to")
    expect(kept.locator("[data-testid=override-approve]")).to_be_disabled()
    expect(admin.locator("[data-testid=toast]").last).to_contain_text(
        "Level 2 was approved by Diana Dietrich."
    )
    assert admin.locator("[data-testid=override-errors]").count() == 0
    # What still makes sense: copy the text; the link goes on (her inbox).
    kept.locator("[data-testid=copy-typed]").click()
    expect(admin.locator("[data-testid=toast]").last).to_have_text("Copied.")
    assert admin.evaluate("navigator.clipboard.readText()") == "Diana asked me to"
    expect(kept.locator("[data-testid=next-request]")).to_have_attribute("href", "/inbox/")
    assert same_document(admin)
    # 375 px: the note and the kept form fit (no sideways scrolling).
    assert admin.evaluate("document.querySelector('main').scrollWidth") <= 375


def test_a_group_members_decision_keeps_the_others_comment_and_says_who_decided(
    live_app, new_page, demo_org
):
    # 6,000 EUR: max, diana, then any one of finance (fiona, felix).
    request = submit(demo_org["emma"], "6000.00", title="Trade fair stand")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"])
    wait_pending_level(request, 2)
    decide(request, demo_org["diana"])
    wait_pending_level(request, 3)
    felix = signed_in(new_page, live_app, "felix", f"/requests/{request.pk}/", locale="de-DE")
    comment = felix.locator("[data-testid=decision-form] [name=comment]")
    type_into(comment, "Bitte Angebot anhängen", caret=5)

    fiona = signed_in(new_page, live_app, "fiona", f"/requests/{request.pk}/")
    fiona.locator("[data-testid=decision-form] [data-testid=approve]").click()
    wait_status(request, "approved")

    kept = felix.locator("#act-decide-3")
    expect(kept.locator("[data-testid=moved-on]")).to_contain_text("Stufe 3 wurde von Fiona")
    typed = state(comment)
    assert typed["value"] == "Bitte Angebot anhängen" and typed["same"] and typed["focused"]
    assert (typed["start"], typed["readOnly"]) == (5, True)
    expect(kept.locator("[data-testid=approve]")).to_be_disabled()
    # Nothing else waits on felix: the way on is his inbox.
    expect(kept.locator("[data-testid=next-request]")).to_have_attribute("href", "/inbox/")
    assert felix.locator("text=Server Error").count() == 0 and same_document(felix)


def test_resubmit_text_survives_a_push_and_is_kept_when_the_request_is_withdrawn(
    live_app, new_page, demo_org
):
    from tests.support.live import push_again

    emma_user = demo_org["emma"]
    request = pending(emma_user, title="Hotel Hamburg")
    decide(request, demo_org["max"], "request_changes", comment="Add the second night")
    wait_status(request, "changes_requested")
    emma = signed_in(new_page, live_app, "emma", f"/requests/{request.pk}/")
    form = emma.locator("[data-testid=resubmit-form]")
    title = form.locator("[name=title]")
    title.fill("Hotel Hamburg, two nights")
    title.evaluate("(el) => { el.__typedHere = true; }")
    what = form.locator("[name=comment]")
    type_into(what, "Second night added", caret=7)

    # The last change is pushed again (an activity retried after its send): the page
    # refreshes from the server, and every line typed stays, focus and caret too.
    seen = int(emma.evaluate("Number(document.body.dataset.liveSeen || 0)"))
    push_again(live_app, request, [emma_user.pk])
    emma.wait_for_selector(f"body[data-live-seen='{seen + 1}']", state="attached")
    emma.wait_for_load_state("networkidle")
    assert state(title)["value"] == "Hotel Hamburg, two nights" and state(title)["same"]
    assert state(what) == {
        "value": "Second night added",
        "same": True,
        "focused": True,
        "start": 7,
        "end": 7,
        "readOnly": False,
    }
    form.locator("[data-testid=resubmit]").click()
    wait_pending_level(request, 1)
    expect(emma.locator("[data-testid=history]")).to_contain_text("Second night added")
    request.refresh_from_db()
    assert request.title == "Hotel Hamburg, two nights"

    # Changes are requested again; she starts answering, then withdraws in another browser.
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    decide(request, demo_org["max"], "request_changes", comment="And the parking")
    expect(emma.locator("[data-testid=resubmit-form]")).to_be_visible()
    again = emma.locator("[data-testid=resubmit-form] [name=comment]")
    expect(again).to_have_value("")
    type_into(again, "Parking receipt attached")
    other = signed_in(new_page, live_app, "emma", f"/requests/{request.pk}/")
    other.once("dialog", lambda dialog: dialog.accept())
    other.locator("[data-testid=withdraw]").click()
    wait_status(request, "withdrawn")

    kept = emma.locator("#act-resubmit")
    note = kept.locator("[data-testid=moved-on]")
    expect(note).to_contain_text("Emma Engel withdrew the request.")
    assert state(again)["value"] == "Parking receipt attached" and state(again)["readOnly"]
    expect(kept.locator("[data-testid=next-request]")).to_have_attribute("href", "/requests/")
    expect(emma.locator(f"#status-{request.pk}")).to_have_text("withdrawn")
    assert same_document(emma)
