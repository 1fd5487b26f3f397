"""An administrator reads the timeline of an escalated, then approved request in Chromium."""

from __future__ import annotations

import json

import pytest

from approvals import services
from approvals.selectors import timeline
from tests.support.browser import login
from tests.support.requests import submit, wait_state
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_sees_each_step_of_an_escalated_approved_request_in_order(
    live_app, new_page, demo_org, settings
):
    settings.APPROVAL_SLA_SECONDS = 3
    settings.APPROVAL_REMINDER_SECONDS = 1
    request = submit(demo_org["emma"], "640.00", title="Client dinner")
    wait_state(request, lambda s: bool(s.levels) and s.levels[0].escalations == 1, timeout=30)
    services.decision_record(
        request=request, actor=demo_org["diana"], action="approve", comment="Approved <late>"
    )
    wait_for(lambda: timeline.build(request).closed, timeout=30, message="workflow never closed")

    page = new_page()
    login(page, live_app, "admin")
    page.click("text=Audit")
    page.fill("input[name=requester]", "emma")
    page.click("[data-testid=audit-search-submit]")
    row = page.locator(f"[data-testid=audit-row][data-request-id='{request.pk}']")
    row.locator("[data-testid=audit-link]").click()
    page.wait_for_selector("[data-testid=timeline]")

    assert page.text_content("[data-testid=status]").strip() == "approved"
    assert page.locator("[data-testid=history-notice]").count() == 0
    assert page.locator("[data-testid=workflow-closed]").is_visible()
    entries = page.locator("[data-testid=timeline-entry]")
    kinds = entries.evaluate_all("els => els.map(e => e.dataset.kind)")
    summaries = [
        s.strip() for s in entries.locator("[data-testid=entry-summary]").all_inner_texts()
    ]

    steps = [
        ("submitted", "Submitted by Emma Engel for 640.00 EUR"),
        ("assigned", "Level 1 assigned to Max Müller"),
        ("reminder", "Reminder sent to Max Müller for level 1"),
        ("escalated", "Level 1 escalated from Max Müller to Diana Dietrich"),
        ("assigned", "Level 1 assigned to Diana Dietrich"),
        ("decided", "Diana Dietrich approved at level 1"),
        ("completed", "Outcome: approved"),
        ("workflow_completed", "Workflow completed with status approved"),
    ]
    position = -1
    for kind, text in steps:
        later = [
            i
            for i in range(position + 1, len(kinds))
            if kinds[i] == kind and summaries[i].startswith(text)
        ]
        assert later, f"{kind}: {text!r} missing after position {position}: {summaries}"
        position = later[0]

    decision = entries.nth(kinds.index("decided"))
    assert decision.locator("[data-testid=entry-source]").inner_text() == "history + audit log"
    assert decision.locator("[data-testid=entry-comment]").inner_text() == "Approved <late>"
    link = page.get_attribute("[data-testid=temporal-ui-link]", "href")
    assert link.endswith(f"/namespaces/default/workflows/expense-{request.pk}")

    with page.expect_download() as download_info:
        page.click("[data-testid=timeline-json]")
    with open(download_info.value.path(), encoding="utf-8") as fh:
        data = json.load(fh)
    assert [e["kind"] for e in data["entries"]] == kinds
