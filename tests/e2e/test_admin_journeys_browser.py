"""Admin journeys without dead ends (issue 30): an /ops/ item leads to its request, whose
override mends it; "Route again" that finds nobody points at the override too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.support.browser import login
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_overdue_ops_item_leads_to_a_request_whose_override_works(live_app, new_page, demo_org):
    request = submit(demo_org["emma"], "300.00", title="Printer toner")
    wait_pending_level(request, 1)
    # Past its deadline in the projection, as after a long weekend nobody decided.
    ExpenseRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(hours=3))

    admin = new_page()
    login(admin, live_app, "admin")
    admin.goto(f"{live_app.url}/ops/")
    item = admin.locator(
        f"[data-testid=ops-item][data-kind=overdue][data-request-id='{request.pk}']"
    )
    expect(item).to_have_count(1)
    expect(item.locator("[data-testid=ops-cause]")).to_contain_text("Max Müller")  # a name
    item.locator("[data-testid=ops-request]").click()
    expect(admin).to_have_url(f"{live_app.url}/requests/{request.pk}/")

    override = admin.locator("[data-testid=override]")
    override.locator("[name=reason]").fill("Max is on leave; approved as agreed by phone")
    override.locator("[data-testid=override-approve]").click()
    expect(admin.locator("#messages")).to_contain_text("Approved as an administrator override.")
    expect(admin.locator("[data-testid=status]").first).to_have_attribute("data-status", "approved")
    wait_status(request, "approved")


def test_route_again_that_finds_nobody_offers_the_override(live_app, new_page, demo_org):
    # admin's own request: nobody else may decide it, and route again cannot help.
    request = submit(demo_org["admin"], "120.00", title="Cables")
    wait_for(
        lambda: ExpenseRequest.objects.filter(
            pk=request.pk, waiting_reason="needs_approver"
        ).exists(),
        timeout=30,
        message="the request never waited on nobody",
    )
    admin = new_page()
    login(admin, live_app, "admin")
    admin.goto(f"{live_app.url}/ops/")
    item = admin.locator(
        f"[data-testid=ops-item][data-kind=needs_approver][data-request-id='{request.pk}']"
    )
    expect(item).to_have_count(1)
    expect(item.locator("[data-testid=ops-override]")).to_have_attribute(
        "href", f"/requests/{request.pk}/"
    )
    item.locator("[data-testid=ops-reroute]").click()
    link = admin.locator("#messages [data-testid=ops-open-override]")
    expect(link).to_be_visible()
    link.click()
    expect(admin).to_have_url(f"{live_app.url}/requests/{request.pk}/")
    # Her own request: the page says why even an administrator cannot decide it.
    expect(admin.locator("[data-testid=override-own-request]")).to_be_visible()
