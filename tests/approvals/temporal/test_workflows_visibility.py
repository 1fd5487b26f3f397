"""Search attributes and memo after each step, as the inbox reads them (list_workflows).

Visibility is eventually consistent, so every check polls until it matches.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from approvals import services
from tests.support.requests import decide, due, submit, wait_closed, wait_pending_level, wait_state
from tests.support.visibility import wait_visible

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_attributes_and_memo_follow_every_step(demo_org, worker):
    emma = demo_org["emma"]
    request = submit(emma, "5000.00", title="Team offsite")
    state = wait_pending_level(request, 1)
    memo = {
        "title": "Team offsite",
        "requester_display": emma.display_name,
        "amount_cents": 500000,
        "currency": "EUR",
        "submitted_at": state.submitted_at,
    }
    wait_visible(
        request,
        ApprovalStatus="pending",
        PendingApprovers=["max"],
        Requester="emma",
        AmountCents=500000,
        DecisionDueAt=due(state),
        memo=memo,
        running=True,
    )

    state = decide(request, demo_org["max"])
    assert due(state) is not None
    wait_visible(
        request, ApprovalStatus="pending", PendingApprovers=["diana"], DecisionDueAt=due(state)
    )

    decide(request, demo_org["diana"], "request_changes", comment="Fewer people")
    wait_visible(
        request,
        ApprovalStatus="changes_requested",
        PendingApprovers=[],
        DecisionDueAt=None,
        AmountCents=500000,
        running=True,
    )

    state = services.expense_resubmit(
        request=request, actor=emma, title="Small offsite", amount=Decimal("600.00")
    )
    wait_visible(
        request,
        ApprovalStatus="pending",
        PendingApprovers=["max"],
        AmountCents=60000,
        DecisionDueAt=due(state),
        memo={**memo, "title": "Small offsite", "amount_cents": 60000},
    )

    decide(request, demo_org["max"])
    wait_closed(request, "approved")
    wait_visible(
        request,
        ApprovalStatus="approved",
        PendingApprovers=[],
        DecisionDueAt=None,
        Requester="emma",
        running=False,
    )


@pytest.mark.parametrize("ending", ["rejected", "withdrawn"])
def test_search_attributes_after_rejection_or_withdrawal(demo_org, worker, ending):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    if ending == "rejected":
        decide(request, demo_org["max"], "reject", comment="No")
    else:
        services.expense_withdraw(request=request, actor=demo_org["emma"])
    wait_visible(
        request, ApprovalStatus=ending, PendingApprovers=[], DecisionDueAt=None, running=False
    )


def test_search_attributes_follow_escalation_and_extension(demo_org, worker, fast_timers):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    wait_state(request, lambda s: s.levels[0].escalations == 1)
    # Hold the level still so visibility can be compared with a stable state.
    state = services.deadline_extend(request=request, actor=demo_org["admin"], seconds=3600)
    assert state.pending_approvers == ["diana"]
    wait_visible(
        request, ApprovalStatus="pending", PendingApprovers=["diana"], DecisionDueAt=due(state)
    )
