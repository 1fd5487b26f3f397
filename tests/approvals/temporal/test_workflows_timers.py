"""Reminders, escalation, expiry and deadline extension on real timers.

The policy snapshot carries the SLA, so a few-second deadline set in the
settings before submitting makes these run in seconds (the 48 h default is
covered with the time-skipping server in test_time_skipping.py).
"""

from __future__ import annotations

import time

import pytest

from approvals import services
from approvals.models import AuditEntry, Notification
from approvals.workflow.contract import Via
from tests.support.requests import (
    audit_kinds,
    decide,
    state_of,
    submit,
    wait_audit,
    wait_closed,
    wait_pending_level,
    wait_state,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_reminder_then_escalation_then_the_escalated_approver_approves(demo_org, worker, settings):
    settings.APPROVAL_SLA_SECONDS = 4
    settings.APPROVAL_REMINDER_SECONDS = 1
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    wait_audit(request, "reminder")
    reminder = AuditEntry.objects.get(request=request, kind="reminder")
    assert reminder.level == 1 and reminder.detail["recipients"] == ["max"]
    wait_for(
        lambda: Notification.objects.filter(
            request=request, recipient="max", key__endswith=":reminder"
        ).exists()
    )

    state = wait_state(request, lambda s: s.levels[0].escalations == 1)
    assert state.pending_approvers == ["diana"] and state.levels[0].original_approvers == ["max"]
    assert state.decisions == []  # a timer never approves
    # max has been replaced: the level now belongs to his manager.
    with pytest.raises(services.ServiceError, match="not the approver"):
        decide(request, demo_org["max"])
    state = decide(request, demo_org["diana"], level=1)
    # Level 2 is diana too, who already approved: it goes on up to victor (SoD).
    assert state.status == "pending" and state.pending_approvers == ["victor"]
    state = decide(request, demo_org["victor"], level=2)
    assert state.status == "approved"
    assert [(d.level, d.actor, d.channel) for d in state.decisions] == [
        (1, "diana", Via.UPDATE),
        (2, "victor", Via.UPDATE),
    ]
    wait_closed(request, "approved")
    wait_audit(request, "completed")
    kinds = audit_kinds(request)
    assert kinds.index("reminder") < kinds.index("escalated") < kinds.index("completed")
    escalated = AuditEntry.objects.get(request=request, kind="escalated")
    assert escalated.detail["from"] == ["max"] and escalated.detail["to"] == ["diana"]


def test_an_unanswered_request_expires_after_the_last_escalation(demo_org, worker, settings):
    settings.APPROVAL_SLA_SECONDS = 2
    settings.APPROVAL_REMINDER_SECONDS = 1
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    state = wait_closed(request, "expired", timeout=40)
    # Default policy: two escalations (max -> diana -> victor), then expiry. Never approved.
    assert state.levels[0].escalations == 2
    assert state.levels[0].approvers == ["victor"]
    assert state.decisions == [] and state.pending_approvers == []
    wait_audit(request, "completed")
    kinds = audit_kinds(request)
    assert kinds.count("escalated") == 2 and kinds.count("expired") == 1
    assert "decided" not in kinds and "auto_approved" not in kinds
    assert AuditEntry.objects.get(request=request, kind="completed").detail["outcome"] == "expired"
    with pytest.raises(services.ServiceError):
        decide(request, demo_org["victor"])


def test_an_approver_without_a_manager_escalates_to_the_administrators(
    demo_org, worker, fast_timers
):
    request = submit(demo_org["diana"], "500.00")  # level 1 is victor, who has no manager
    wait_pending_level(request, 1)
    state = wait_state(request, lambda s: s.levels[0].escalations == 1)
    assert state.pending_approvers == ["admin"]
    # Now the administrator is the approver: no override needed.
    state = decide(request, demo_org["admin"], level=1)
    assert state.status == "approved" and not state.decisions[0].override
    wait_closed(request, "approved")


def test_extending_the_deadline_postpones_escalation(demo_org, worker, fast_timers):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    extended = services.deadline_extend(
        request=request, actor=demo_org["max"], seconds=3600, reason="Back on Monday"
    )
    time.sleep(5)  # well past the original 3 s deadline
    state = state_of(request)
    assert state.levels[0].escalations == 0 and state.pending_approvers == ["max"]
    assert state.due_at == extended.due_at
    assert "escalated" not in audit_kinds(request)
    request.refresh_from_db()
    assert request.due_at.isoformat() == extended.due_at
    assert decide(request, demo_org["max"]).status == "approved"
