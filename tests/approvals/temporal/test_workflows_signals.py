"""The Signal path (fire-and-forget, e.g. an email link): same rules, refusals recorded."""

from __future__ import annotations

import pytest

from approvals import services
from approvals.labels import refusal_text
from approvals.models import AuditEntry
from approvals.workflow.contract import Via
from tests.support.requests import (
    decide,
    new_id,
    state_of,
    submit,
    wait_audit,
    wait_closed,
    wait_pending_level,
    wait_state,
)

pytestmark = pytest.mark.django_db(transaction=True)


def signal(request, user, action="approve", comment="", decision_id=None):
    decision_id = new_id() if decision_id is None else decision_id
    services.decision_signal(
        request=request, actor=user, action=action, comment=comment, decision_id=decision_id
    )
    return decision_id


def outline(state):
    """What a path decided, without ids and times."""
    return (
        state.status,
        [(lv.level, lv.approvers, lv.status, lv.decided_by, lv.comment) for lv in state.levels],
        [(d.level, d.actor, d.action, d.comment) for d in state.decisions],
    )


def words(ignored) -> str:
    """An ignored signal's refusal in words (the workflow records a code)."""
    return refusal_text(ignored.code, ignored.params)


def test_the_signal_path_ends_exactly_like_the_update_path(demo_org, worker):
    by_update = submit(demo_org["emma"], "4000.00")
    by_signal = submit(demo_org["emma"], "4000.00")
    wait_pending_level(by_update, 1)
    wait_pending_level(by_signal, 1)

    decide(by_update, demo_org["max"], comment="ok")
    decide(by_update, demo_org["diana"], "request_changes", comment="Receipt?")
    signal(by_signal, demo_org["max"], comment="ok")
    wait_pending_level(by_signal, 2)
    signal(by_signal, demo_org["diana"], "request_changes", comment="Receipt?")
    wait_state(by_signal, lambda s: s.status == "changes_requested")
    assert outline(state_of(by_signal)) == outline(state_of(by_update))

    # Both resubmitted; the second round goes through both paths again.
    for request in (by_update, by_signal):
        services.expense_resubmit(
            request=request, actor=demo_org["emma"], title="With receipt", amount=request.amount
        )
    decide(by_update, demo_org["max"])
    decide(by_update, demo_org["diana"])
    signal(by_signal, demo_org["max"])
    wait_pending_level(by_signal, 2)
    signal(by_signal, demo_org["diana"])
    via_signal = wait_closed(by_signal, "approved")
    via_update = wait_closed(by_update, "approved")
    assert outline(via_signal) == outline(via_update)
    assert {d.channel for d in via_signal.decisions} == {Via.SIGNAL}
    assert via_signal.ignored_signals == []


def test_a_duplicate_signal_is_applied_once(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    decision_id = signal(request, demo_org["max"])
    signal(request, demo_org["max"], decision_id=decision_id)
    wait_pending_level(request, 2)
    signal(request, demo_org["max"], decision_id=decision_id)  # a late redelivery
    # A later, distinct signal proves the duplicates were handled before it.
    signal(request, demo_org["diana"], "reject", comment="No budget")
    state = wait_closed(request, "rejected")
    assert [(d.level, d.actor, d.action) for d in state.decisions] == [
        (1, "max", "approve"),
        (2, "diana", "reject"),
    ]
    assert state.ignored_signals == []


def test_an_update_repeating_a_signalled_decision_is_applied_once(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    decision_id = signal(request, demo_org["max"])
    wait_pending_level(request, 2)
    state = decide(request, demo_org["max"], decision_id=decision_id)
    assert [d.decision_id for d in state.decisions] == [decision_id]


@pytest.mark.parametrize(
    ("who", "action", "comment", "reason"),
    [
        ("diana", "approve", "", "You are not the approver of this level."),
        ("emma", "approve", "", "You cannot decide on your own request."),
        ("max", "reject", "", "A comment is required to reject or to request changes."),
    ],
)
def test_an_invalid_signal_is_recorded_as_ignored_and_never_applied(
    demo_org, worker, who, action, comment, reason
):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    decision_id = signal(request, demo_org[who], action, comment)
    state = wait_state(request, lambda s: bool(s.ignored_signals))
    (ignored,) = state.ignored_signals
    assert (ignored.decision_id, ignored.actor, ignored.action, words(ignored)) == (
        decision_id,
        who,
        action,
        reason,
    )
    assert state.status == "pending" and state.decisions == []
    assert state.current_level == 1 and state.pending_approvers == ["max"]
    wait_audit(request, "signal_ignored")
    entry = AuditEntry.objects.get(request=request, kind="signal_ignored")
    assert entry.actor_username == who and entry.channel == Via.SIGNAL
    assert refusal_text(entry.detail["code"], entry.detail["params"]) == reason
    assert entry.detail["decision_id"] == decision_id
    # The request still works normally afterwards.
    assert decide(request, demo_org["max"]).current_level == 2


def test_a_signal_without_its_own_decision_id_is_ignored(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    signal(request, demo_org["max"], decision_id="")
    state = wait_state(request, lambda s: bool(s.ignored_signals))
    assert words(state.ignored_signals[0]) == (
        "A decision sent by signal must carry its own decision id."
    )
    assert state.status == "pending" and state.decisions == []


def test_a_signal_for_a_closed_level_is_ignored(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"])
    signal(request, demo_org["max"], "reject", comment="Changed my mind")
    state = wait_state(request, lambda s: bool(s.ignored_signals))
    assert words(state.ignored_signals[0]) == (
        "Level 1 was already decided by max; the request has moved on."
    )
    assert state.current_level == 2 and state.status == "pending"
