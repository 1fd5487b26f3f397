"""Every path of the ExpenseApproval workflow through the real services, worker and server."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalStep, AuditEntry
from approvals.policy import services as policy_services
from approvals.policy.rules import demo_policy
from approvals.workflow.contract import Via
from tests.support.requests import (
    audit_kinds,
    decide,
    state_of,
    submit,
    wait_audit,
    wait_closed,
    wait_pending_level,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_level_request_is_approved_by_the_manager(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    state = wait_pending_level(request, 1)
    assert [lv.approvers for lv in state.levels] == [["max"]]
    state = decide(request, demo_org["max"])
    assert state.status == "approved"
    assert state.pending_approvers == []
    wait_closed(request, "approved")
    assert [(d.level, d.actor, d.action) for d in state_of(request).decisions] == [
        (1, "max", "approve")
    ]


def test_two_level_request_is_approved_by_manager_then_director(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    state = wait_pending_level(request, 1)
    assert state.pending_approvers == ["max"]
    state = decide(request, demo_org["max"])
    assert state.current_level == 2 and state.pending_approvers == ["diana"]
    decide(request, demo_org["diana"])
    wait_closed(request, "approved")
    steps = list(ApprovalStep.objects.filter(request=request).values_list("level", "decided_by"))
    assert steps == [(1, "max"), (2, "diana")]


def test_three_level_request_needs_manager_director_and_vp(demo_org, worker):
    request = submit(demo_org["emma"], "20000.00")
    state = wait_pending_level(request, 1)
    # The default policy adds the finance group (any one member) from 5,000 EUR.
    assert [lv.approvers for lv in state.levels] == [
        ["max"],
        ["diana"],
        ["victor"],
        ["felix", "fiona"],
    ]
    assert decide(request, demo_org["max"]).pending_approvers == ["diana"]
    assert decide(request, demo_org["diana"]).pending_approvers == ["victor"]
    assert decide(request, demo_org["victor"]).pending_approvers == ["felix", "fiona"]
    assert decide(request, demo_org["felix"]).status == "approved"
    state = wait_closed(request, "approved")
    assert [(d.level, d.actor) for d in state.decisions] == [
        (1, "max"),
        (2, "diana"),
        (3, "victor"),
        (4, "felix"),
    ]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_rejection_at_any_level_ends_the_request(demo_org, worker, level):
    request = submit(demo_org["emma"], "20000.00")
    wait_pending_level(request, 1)
    approvers = ["max", "diana", "victor"]
    for name in approvers[: level - 1]:
        decide(request, demo_org[name])
    state = decide(request, demo_org[approvers[level - 1]], "reject", comment="Not in budget")
    assert state.status == "rejected"
    assert state.levels[level - 1].status == "rejected"
    assert all(lv.status == "waiting" for lv in state.levels[level:])
    wait_closed(request, "rejected")
    wait_audit(request, "completed")
    entry = AuditEntry.objects.get(request=request, kind="decided", level=level)
    assert (entry.actor_username, entry.comment) == (approvers[level - 1], "Not in budget")
    assert entry.detail["action"] == "reject"


def test_changes_requested_then_resubmitted_then_approved(demo_org, worker):
    emma = demo_org["emma"]
    request = submit(emma, "4000.00", title="Conference")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"])
    state = decide(request, demo_org["diana"], "request_changes", comment="Add the receipt")
    assert state.status == "changes_requested" and state.pending_approvers == []
    wait_closed(request, "changes_requested")

    state = services.expense_resubmit(
        request=request, actor=emma, title="Conference (with receipt)", amount=Decimal("4800.00")
    )
    # The chain restarts at level 1: max approved other content.
    assert (state.status, state.current_level, state.round) == ("pending", 1, 2)
    assert state.pending_approvers == ["max"]
    decide(request, demo_org["max"])
    decide(request, demo_org["diana"])
    state = wait_closed(request, "approved")
    assert state.title == "Conference (with receipt)" and state.amount_cents == 480000
    assert [(d.level, d.actor, d.action) for d in state.decisions] == [
        (1, "max", "approve"),
        (2, "diana", "request_changes"),
        (1, "max", "approve"),
        (2, "diana", "approve"),
    ]
    request.refresh_from_db()
    assert request.title == "Conference (with receipt)" and request.amount == Decimal("4800.00")
    wait_audit(request, "resubmitted")


def test_resubmitting_a_larger_amount_adds_levels_and_starts_at_level_one(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "request_changes", comment="This was for two people")
    state = services.expense_resubmit(
        request=request, actor=demo_org["emma"], title="Train tickets x2", amount=Decimal("1500")
    )
    assert [lv.approvers for lv in state.levels] == [["max"], ["diana"]]
    assert state.current_level == 1
    decide(request, demo_org["max"])
    decide(request, demo_org["diana"])
    wait_closed(request, "approved")


def test_resubmitting_a_smaller_amount_drops_levels(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "request_changes", comment="Only the hotel, please")
    state = services.expense_resubmit(
        request=request, actor=demo_org["emma"], title="Hotel", amount=Decimal("900")
    )
    assert [lv.approvers for lv in state.levels] == [["max"]]
    assert decide(request, demo_org["max"]).status == "approved"
    wait_closed(request, "approved")
    assert not ApprovalStep.objects.filter(request=request, level=2).exists()


@pytest.mark.parametrize(
    ("title", "amount", "message"),
    [
        ("  ", "100", "The title must not be empty."),
        ("Hotel", "0", "The amount must be greater than zero."),
        ("Hotel", "-5", "The amount must be greater than zero."),
        ("Hotel", "1000000.01", "The amount is above the allowed maximum."),
    ],
)
def test_resubmit_refuses_invalid_content_and_changes_nothing(
    demo_org, worker, title, amount, message
):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    before = decide(request, demo_org["max"], "request_changes", comment="Fix it")
    with pytest.raises(services.ServiceError, match=message):
        services.expense_resubmit(
            request=request, actor=demo_org["emma"], title=title, amount=Decimal(amount)
        )
    after = state_of(request)
    assert (after.status, after.title, after.amount_cents, after.round) == (
        "changes_requested",
        before.title,
        before.amount_cents,
        1,
    )


def test_only_the_requester_can_resubmit_and_only_after_changes_were_requested(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    with pytest.raises(services.ServiceError, match="Changes were not requested"):
        services.expense_resubmit(
            request=request, actor=demo_org["emma"], title="x", amount=Decimal("1")
        )
    decide(request, demo_org["max"], "request_changes", comment="Fix it")
    with pytest.raises(services.ServiceError, match="Only the requester can resubmit"):
        services.expense_resubmit(
            request=request, actor=demo_org["max"], title="x", amount=Decimal("1")
        )
    assert state_of(request).status == "changes_requested"


def test_requester_withdraws_a_pending_request(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"])
    state = services.expense_withdraw(request=request, actor=demo_org["emma"], reason="Trip off")
    assert state.status == "withdrawn" and state.pending_approvers == []
    wait_closed(request, "withdrawn")
    wait_audit(request, "withdrawn")
    entry = AuditEntry.objects.get(request=request, kind="withdrawn")
    assert (entry.actor_username, entry.comment) == ("emma", "Trip off")
    with pytest.raises(services.ServiceError):
        decide(request, demo_org["diana"])


def test_requester_withdraws_after_changes_were_requested(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "request_changes", comment="Which project?")
    state = services.expense_withdraw(request=request, actor=demo_org["emma"])
    assert state.status == "withdrawn"
    wait_closed(request, "withdrawn")


def test_nobody_but_the_requester_can_withdraw(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    for name in ("max", "admin"):
        with pytest.raises(services.ServiceError, match="Only the requester can withdraw"):
            services.expense_withdraw(request=request, actor=demo_org[name])
    assert state_of(request).status == "pending"


def test_a_decided_request_can_no_longer_be_withdrawn(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "reject", comment="No")
    with pytest.raises(services.ServiceError):
        services.expense_withdraw(request=request, actor=demo_org["emma"])
    assert wait_closed(request, "rejected").status == "rejected"


def test_get_status_reports_the_chain_and_every_decision(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00", title="Laptop")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], comment="Fine by me")
    state = state_of(request)
    assert (state.request_id, state.requester, state.title, state.amount_cents) == (
        request.pk,
        "emma",
        "Laptop",
        400000,
    )
    assert [lv.approvers for lv in state.levels] == [["max"], ["diana"]]
    assert [lv.status for lv in state.levels] == ["approved", "pending"]
    assert state.levels[1].due_at and state.due_at == state.levels[1].due_at
    (decision,) = state.decisions
    assert (decision.actor, decision.action, decision.comment, decision.channel) == (
        "max",
        "approve",
        "Fine by me",
        Via.UPDATE,
    )
    assert decision.at and decision.actor_display == demo_org["max"].display_name
    assert state.levels[0].decided_by == "max" and state.levels[0].decided_at == decision.at


def test_a_policy_change_leaves_in_flight_requests_alone(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    draft = policy_services.policy_draft_open(by=demo_org["admin"])
    rules = demo_policy()
    rules.two_levels_from_cents = 800_000  # 4000 would now need one level only
    policy_services.policy_draft_save(draft=draft, rules=rules)
    policy_services.policy_publish(
        draft=draft, by=demo_org["admin"], effective_from=timezone.localdate()
    )
    later = submit(demo_org["emma"], "4000.00")
    assert len(wait_pending_level(later, 1).levels) == 1
    state = decide(request, demo_org["max"])
    assert (state.status, state.current_level, state.pending_approvers) == (
        "pending",
        2,
        ["diana"],
    )
    # A resubmission keeps the snapshot too.
    decide(request, demo_org["diana"], "request_changes", comment="Split it")
    state = services.expense_resubmit(
        request=request, actor=demo_org["emma"], title="Part one", amount=Decimal("4500")
    )
    assert len(state.levels) == 2
    assert "submitted" in audit_kinds(request)
