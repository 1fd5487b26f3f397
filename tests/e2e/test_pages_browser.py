"""The home page per role, the request page's stepper, extend deadline and override, in
Chromium against the live app (real Temporal, worker, PostgreSQL, websockets)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Delegation
from approvals.models import AuditEntry, ExpenseRequest
from tests.support.browser import login, wait_ws
from tests.support.requests import submit, wait_audit, wait_pending_level
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def pending(user, amount="300.00", title="Train tickets", approver="max"):
    request = submit(user, amount, title=title)
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == [approver])
    return request


def signed_in(new_page, app, username, path="/", locale="en-US", width=None):
    page = new_page(locale=locale)
    if width:
        page.set_viewport_size({"width": width, "height": 800})
    login(page, app, username)
    page.goto(f"{app.url}{path}")
    # The socket's opening refreshes the page's live regions once: let that land first,
    # so it cannot replace a form's answer the test then looks at.
    wait_ws(page)
    page.wait_for_load_state("networkidle")
    return page


def fits(page, width=375) -> bool:
    """Nothing in the page's content reaches past `width` (no sideways scrolling). The
    header's navigation is app.css's (it wraps there); this checks what these pages add."""
    wide = page.evaluate(
        "(w) => Array.from(document.querySelectorAll('main *'))"
        ".filter(e => e.getBoundingClientRect().right > w + 1)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)",
        width,
    )
    assert wide == [], wide
    return page.evaluate("document.querySelector('main').scrollWidth") <= width


def csrf_post(page, app, path, form):
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return page.request.post(f"{app.url}{path}", form=form, headers={"X-CSRFToken": token})


def test_home_per_role_and_live(live_app, new_page, demo_org):
    emma, max_, diana = demo_org["emma"], demo_org["max"], demo_org["diana"]
    first = pending(emma, title="Hotel Hamburg")
    today = timezone.localdate()
    Delegation.objects.create(user=max_, delegate=diana, starts_on=today, ends_on=today)

    # After signing in, max lands on his overview: one request waits for him.
    page = new_page()
    login(page, live_app, "max")
    assert page.url == f"{live_app.url}/"
    home = page.locator("[data-testid=home-waiting]")
    expect(home.locator("[data-testid=waiting-count]")).to_have_text(
        "1 request waits for your decision"
    )
    expect(home.locator("[data-testid=waiting-oldest]")).to_contain_text("Hotel Hamburg")
    expect(home.locator("[data-testid=waiting-row]")).to_contain_text("Emma Engel")
    expect(home.locator("[data-testid=waiting-row] time")).to_have_count(1)
    expect(page.locator("[data-testid=delegation-given]")).to_contain_text(
        "Diana Dietrich decides for you until"
    )
    expect(page.locator("[data-testid=home-attention]")).to_have_count(0)
    wait_ws(page)
    page.evaluate("window.__sameDocument = true")

    # Live: a second request arrives while max looks at his overview.
    pending(emma, title="Taxi")
    expect(home.locator("[data-testid=waiting-count]")).to_have_text(
        "2 requests wait for your decision"
    )
    assert page.evaluate("window.__sameDocument === true")

    # emma: where her open requests stand, in display names; in German too.
    emma_page = signed_in(new_page, live_app, "emma", locale="de-DE")
    row = emma_page.locator(f"[data-testid=mine-row][data-request-id='{first.pk}']")
    expect(row.locator("[data-testid=mine-stands]")).to_contain_text(
        "Stufe 1 von 1, wartet auf Max Müller"
    )
    expect(row.locator("[data-testid=mine-stands]")).to_contain_text("fällig in 2 Tagen")
    expect(emma_page.locator("[data-testid=waiting-none]")).to_be_visible()

    # diana stands in for max today; the admin also sees what needs attention.
    diana_page = signed_in(new_page, live_app, "diana")
    expect(diana_page.locator("[data-testid=delegation-received]")).to_contain_text(
        "You decide for Max Müller until"
    )
    expect(diana_page.locator("[data-testid=waiting-count]")).to_contain_text("2 requests")
    admin_page = signed_in(new_page, live_app, "admin", width=375)
    expect(admin_page.locator("[data-testid=home-attention]")).to_be_visible()
    expect(admin_page.locator("[data-testid=attention-overdue]")).to_have_attribute(
        "data-count", "0"
    )
    assert fits(admin_page)


def test_stepper_and_extend_deadline(live_app, new_page, demo_org):
    request = pending(demo_org["emma"], "2000.00", title="Conference")  # two levels
    emma = signed_in(new_page, live_app, "emma", f"/requests/{request.pk}/", width=375)
    levels = emma.locator("[data-testid=chain-level]")
    expect(levels).to_have_count(2)
    one, two = levels.nth(0), levels.nth(1)
    expect(one).to_have_attribute("aria-current", "step")
    expect(one.locator("[data-testid=step-approvers]")).to_have_text("Max Müller")
    expect(two.locator("[data-testid=step-approvers]")).to_have_text("Diana Dietrich")
    expect(one.locator("[data-testid=step-deadline]")).to_contain_text("due in 2 days")
    # The pinned policy's workflow words are for administrators (docs/glossary.md).
    expect(emma.locator("[data-testid=policy]")).to_have_count(0)
    expect(emma.locator("[data-testid=extend-deadline]")).to_have_count(0)  # her own request
    assert fits(emma)
    wait_ws(emma)

    # max, the current approver, extends by two days: the due time moves on the page.
    max_ = signed_in(new_page, live_app, "max", f"/requests/{request.pk}/")
    deadline = max_.locator(
        "[data-testid=chain-level][data-level='1'] [data-testid=step-deadline] time"
    )
    before = datetime.fromisoformat(deadline.get_attribute("datetime"))
    form = max_.locator("[data-testid=extend-deadline]")
    form.locator("[name=amount]").fill("31")
    form.locator("[data-testid=extend-submit]").click()
    expect(max_.locator("[data-testid=error-amount]")).to_contain_text("at most 30 days")
    form = max_.locator("[data-testid=extend-deadline]")
    form.locator("[name=amount]").fill("2")
    form.locator("[name=unit]").select_option("days")
    form.locator("[name=reason]").fill("Waiting for the agenda")
    form.locator("[data-testid=extend-submit]").click()
    expect(max_.locator("#messages")).to_contain_text("The deadline is now")
    moved = before + timedelta(days=2)
    expect(deadline).to_have_attribute("datetime", moved.isoformat())
    expect(
        max_.locator("[data-testid=chain-level][data-level='1'] [data-testid=step-deadline]")
    ).to_contain_text("due in 4 days")  # two more days
    # emma's open page follows live.
    expect(
        emma.locator("[data-testid=chain-level][data-level='1'] [data-testid=step-deadline] time")
    ).to_have_attribute("datetime", moved.isoformat())
    wait_audit(request, "deadline_extended")

    # diana (level 2) sees the request but no control; forced, the workflow refuses in words.
    diana = signed_in(new_page, live_app, "diana", f"/requests/{request.pk}/")
    expect(diana.locator("[data-testid=chain-level]")).to_have_count(2)
    expect(diana.locator("[data-testid=extend-deadline]")).to_have_count(0)
    answer = csrf_post(
        diana, live_app, f"/requests/{request.pk}/extend/", {"amount": "1", "unit": "days"}
    )
    assert answer.status == 400
    assert "Only the current approver or an administrator can extend the deadline." in answer.text()
    request.refresh_from_db()
    assert request.due_at == moved

    # max approves from the page: level 1 shows who decided and when.
    max_.locator("[data-testid=approve]").click()
    expect(one).to_have_attribute("data-status", "approved")
    expect(one.locator("[data-testid=step-decided-by]")).to_have_text("Max Müller")
    expect(one.locator("[data-testid=step-decided-at]")).to_contain_text("just now")
    expect(two).to_have_attribute("aria-current", "step")


def test_admin_override_recorded_and_refused_on_own_request(live_app, new_page, demo_org):
    request = pending(demo_org["emma"], title="Client dinner")
    admin = signed_in(new_page, live_app, "admin", f"/requests/{request.pk}/")
    form = admin.locator("[data-testid=override]")
    expect(form).to_be_visible()
    form.locator("[name=reason]").fill("   ")  # the browser's `required` is met, the server's not
    form.locator("[data-testid=override-approve]").click()
    expect(admin.locator("[data-testid=error-reason]")).to_contain_text(
        "An administrator override needs a reason."
    )
    form = admin.locator("[data-testid=override]")
    form.locator("[name=reason]").fill("Max is on parental leave")
    form.locator("[data-testid=override-approve]").click()
    expect(admin.locator("#messages")).to_contain_text("Approved as an administrator override.")
    expect(admin.locator(f"#status-{request.pk}")).to_have_text("approved")
    level = admin.locator("[data-testid=chain-level][data-level='1']")
    expect(level.locator("[data-testid=step-decided-by]")).to_have_text("Ada Admin")
    expect(level.locator("[data-testid=step-override]")).to_be_visible()
    expect(level.locator("[data-testid=step-comment]")).to_have_text("Max is on parental leave")
    wait_audit(request, "decided")
    entry = AuditEntry.objects.get(request=request, kind="decided")
    assert entry.actor_username == "admin" and entry.detail["override"] is True
    admin.goto(f"{live_app.url}/audit/{request.pk}/")
    expect(admin.locator("[data-testid=timeline]")).to_contain_text("Max is on parental leave")

    # On their own request an admin gets no control, and a forced POST is refused in words.
    own = submit(demo_org["admin"], "300.00", title="Own laptop bag")
    wait_for(lambda: ExpenseRequest.objects.get(pk=own.pk).status == "pending")
    admin.goto(f"{live_app.url}/requests/{own.pk}/")
    expect(admin.locator("[data-testid=override-own-request]")).to_be_visible()
    expect(admin.locator("[data-testid=override]")).to_have_count(0)
    answer = csrf_post(
        admin, live_app, f"/requests/{own.pk}/override/", {"action": "approve", "reason": "x"}
    )
    assert answer.status == 400
    assert "You cannot decide on your own request." in answer.text()

    # Nobody else gets the control or past the door.
    max_ = signed_in(new_page, live_app, "max", f"/requests/{request.pk}/")
    expect(max_.locator("[data-testid=override]")).to_have_count(0)
    other = pending(demo_org["emma"], title="Parking")
    max_.goto(f"{live_app.url}/requests/{other.pk}/")
    expect(max_.locator("[data-testid=override]")).to_have_count(0)
    refused = csrf_post(
        max_, live_app, f"/requests/{other.pk}/override/", {"action": "approve", "reason": "x"}
    )
    assert refused.status == 403
    assert re.search(r"pending", ExpenseRequest.objects.get(pk=other.pk).status)
