"""Who may decide what, and when, through the whole stack: one test per rule family
(own request, wrong person, comment required, delegation, admin override, already
approved, a lost race) plus idempotency.

Every refusal path of the rules themselves is in tests/approvals/workflow/test_rules.py
(pure, fast) and separation of duties on every path in test_sod_property.py; these
tests prove the web tier's services, the Update validator and the words meet.
"""

from __future__ import annotations

import uuid

import pytest

from approvals import services
from approvals.temporal.client import call
from approvals.workflow.contract import ApprovalState, DecisionInput, workflow_id
from tests.support.requests import (
    decide,
    delegate,
    new_id,
    refusal,
    state_of,
    submit,
    wait_audit,
    wait_closed,
    wait_pending_level,
)
from tests.support.waiting import at_the_same_time

pytestmark = pytest.mark.django_db(transaction=True)


def test_requester_cannot_approve_their_own_request(demo_org, worker):
    max_ = demo_org["max"]
    request = submit(max_, "500.00")
    wait_pending_level(request, 1)
    assert refusal(request, max_) == "You cannot decide on your own request."
    assert state_of(request).decisions == []


def test_director_cannot_approve_level_one(demo_org, worker):
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    assert refusal(request, demo_org["diana"]) == "You are not the approver of this level."
    assert refusal(request, demo_org["finn"]) == "You are not the approver of this level."
    state = state_of(request)
    assert state.decisions == [] and state.pending_approvers == ["max"]


def test_a_rejection_needs_a_comment(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    for comment in ("", "   "):
        message = refusal(request, demo_org["max"], "reject", comment=comment)
        assert message == "A comment is required to reject or to request changes."
    assert state_of(request).status == "pending"


def test_the_same_decision_twice_is_applied_once(demo_org, worker):
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    decision_id = new_id()
    first = decide(request, demo_org["max"], decision_id=decision_id)
    second = decide(request, demo_org["max"], decision_id=decision_id)
    assert second.seq == first.seq and second.decisions == first.decisions
    state = state_of(request)
    assert [(d.level, d.actor) for d in state.decisions] == [(1, "max")]
    assert state.current_level == 2


def test_the_same_update_id_twice_returns_the_first_result(demo_org, worker):
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    actor = services.actor_for(demo_org["max"])
    update_id = f"decide-{uuid.uuid4()}"

    async def send(client, comment):
        handle = client.get_workflow_handle(workflow_id(request.pk))
        decision = DecisionInput(new_id(), actor, "approve", comment=comment)
        return await handle.execute_update(
            "decide", decision, id=update_id, result_type=ApprovalState
        )

    first = call(lambda c: send(c, "first"))
    # Same update id, even with another payload: Temporal answers with the first outcome.
    second = call(lambda c: send(c, "second"))
    assert second == first
    assert [(d.actor, d.comment) for d in state_of(request).decisions] == [("max", "first")]


def test_repeating_a_decision_that_closed_the_request_answers_as_the_first_time(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    decision_id = new_id()
    decide(request, demo_org["max"], decision_id=decision_id)
    wait_closed(request, "approved")
    again = decide(request, demo_org["max"], decision_id=decision_id)
    assert again.status == "approved"
    assert [d.decision_id for d in again.decisions] == [decision_id]


def test_an_active_delegate_decides_on_behalf_of_the_approver(demo_org, worker):
    delegate(demo_org["max"], demo_org["maria"])
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    state = decide(request, demo_org["maria"])
    (decision,) = state.decisions
    assert (decision.actor, decision.on_behalf_of) == ("maria", "max")
    assert state.levels[0].on_behalf_of == "max" and state.pending_approvers == ["diana"]
    wait_audit(request, "decided")


def test_an_administrator_decides_another_level_only_as_a_recorded_override(demo_org, worker):
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    assert refusal(request, demo_org["admin"]) == (
        "You are not this level's approver; decide as an administrator override."
    )
    assert refusal(request, demo_org["admin"], override=True) == (
        "An administrator override needs a reason in the comment."
    )
    state = decide(request, demo_org["admin"], override=True, comment="max is on leave")
    (decision,) = state.decisions
    assert (decision.actor, decision.override, decision.level) == ("admin", True, 1)
    assert state.pending_approvers == ["diana"]
    # Having approved level 1, the admin cannot take level 2 too (separation of duties).
    assert refusal(request, demo_org["admin"], override=True, comment="again") == (
        "You have already approved this request."
    )
    wait_audit(request, "decided")
    from approvals.models import AuditEntry

    assert AuditEntry.objects.get(request=request, kind="decided").detail["override"] is True


def test_a_level_resolving_to_an_earlier_approver_goes_on_up_the_chain(demo_org, worker):
    # diana decides level 1 for max; level 2 would be diana herself: it goes to victor.
    delegate(demo_org["max"], demo_org["diana"])
    request = submit(demo_org["emma"], "1500.00")
    wait_pending_level(request, 1)
    state = decide(request, demo_org["diana"])
    assert state.status == "pending" and state.current_level == 2
    assert state.pending_approvers == ["victor"]
    # diana's own click on level 2 is a lost race: she decided level 1 (for max).
    assert refusal(request, demo_org["diana"], level=2).startswith("Level 1 was already decided")
    state = decide(request, demo_org["victor"], level=2)
    assert state.status == "approved"
    assert [(d.level, d.actor, d.on_behalf_of) for d in state.decisions] == [
        (1, "diana", "max"),
        (2, "victor", ""),
    ]
    wait_closed(request, "approved")


def test_two_eligible_approvers_at_once_exactly_one_wins(demo_org, worker):
    delegate(demo_org["max"], demo_org["maria"])
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    results, errors = at_the_same_time(
        lambda: decide(request, demo_org["max"], level=1),
        lambda: decide(request, demo_org["maria"], level=1),
    )
    winners = [i for i, result in enumerate(results) if result is not None]
    assert len(winners) == 1, errors
    loser = 1 - winners[0]
    assert isinstance(errors[loser], services.ServiceError)
    winner_name = ("max", "maria")[winners[0]]
    expected = f"Level 1 was already decided by {winner_name}"
    assert str(errors[loser]).startswith(expected)
    state = state_of(request)
    assert len([d for d in state.decisions if d.level == 1]) == 1
    assert state.current_level == 2 and state.pending_approvers == ["diana"]
