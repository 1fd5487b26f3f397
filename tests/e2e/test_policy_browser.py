"""The policy in Chromium, on the live app (real ASGI app, worker, Temporal, PostgreSQL).

An admin raises the IT threshold in a draft (500 -> 1,000 EUR), the what-if lists the
equipment request that would lose its IT level, the admin publishes the draft; a new
700 EUR equipment request then routes by version 2 (the manager only) while the older
one keeps its chain (manager, then IT) and its version 1.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from approvals.models import ExpenseRequest, PolicyVersion
from tests.support.browser import login
from tests.support.requests import submit, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)


def chain_labels(page) -> list[str]:
    levels = page.locator("[data-testid=chain-level]")
    return [
        levels.nth(i).locator("[data-testid=step-approvers]").inner_text().strip()
        for i in range(levels.count())
    ]


def test_an_admin_raises_the_it_threshold_checks_the_what_if_and_publishes(
    live_app, new_page, demo_org
):
    older = submit(demo_org["emma"], "700.00", title="Dock", category="equipment")
    assert [lv.label for lv in wait_pending_level(older, 1).levels] == ["manager", "IT"]

    admin = new_page()
    login(admin, live_app, "admin")
    admin.goto(f"{live_app.url}/policy/")
    admin.click("[data-testid=new-draft]")
    admin.wait_for_url(re.compile(r"/policy/2/$"))
    it_row = admin.locator("[data-testid=rule-row]").nth(1)
    assert it_row.locator("[name=rule-1-group]").input_value() == "IT"
    it_row.locator("[name=rule-1-min_amount]").fill("1000.00")
    admin.click("[data-testid=save-draft]")
    admin.wait_for_selector(".msg")  # saved, back on the draft
    assert admin.locator("[data-testid=policy-problem]").all_inner_texts() == []

    admin.click("[data-testid=what-if-link]")
    admin.wait_for_url(re.compile(r"/policy/2/what-if/"))
    rows = admin.locator("[data-testid=what-if-row]")
    assert rows.count() == 1
    row = rows.first
    assert row.get_attribute("data-request-id") == str(older.pk)
    assert (row.get_attribute("data-levels-before"), row.get_attribute("data-levels-after")) == (
        "2",
        "1",
    )
    assert row.locator("[data-change='no_longer_group:IT']").count() == 1
    assert "ivan" in admin.locator("[data-testid=workload-row][data-person=ivan]").inner_text()

    admin.goto(f"{live_app.url}/policy/2/")
    admin.fill("[name=effective_from]", timezone.localdate().isoformat())
    admin.click("[data-testid=publish]")
    admin.wait_for_url(re.compile(r"/policy/$"))
    assert (
        admin.locator(
            "[data-testid=policy-version][data-number='2'][data-status=published]"
        ).count()
        == 1
    )
    assert PolicyVersion.objects.get(number=2).published_by == demo_org["admin"]

    emma = new_page()
    login(emma, live_app, "emma")
    emma.goto(f"{live_app.url}/requests/new/")
    emma.fill("[name=title]", "Second dock")
    emma.fill("[name=lines-0-amount]", "700.00")
    emma.select_option("[name=lines-0-currency]", "EUR")
    emma.select_option("[name=lines-0-category]", "equipment")
    emma.click("[data-testid=submit]")
    emma.wait_for_url(re.compile(r"/requests/\d+/$"))
    emma.wait_for_selector("[data-testid=chain-level]")
    assert chain_labels(emma) == ["Max Müller"]
    # The pinned version is an auditor's detail now (employee pages keep it out).
    assert ExpenseRequest.objects.get(title="Second dock").policy_version == 2

    emma.goto(f"{live_app.url}/requests/{older.pk}/")
    emma.wait_for_selector("[data-testid=chain-level]")
    assert chain_labels(emma) == ["Max Müller", "IT: Ivan Iwanow"]
    assert emma.locator("[data-testid=step-group]").inner_text() == "IT"
    assert ExpenseRequest.objects.get(pk=older.pk).policy_version == 1
