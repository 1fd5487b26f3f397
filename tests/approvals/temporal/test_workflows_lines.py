"""Per-line decisions (issue 26) through the real services, worker, dev server and database.

emma's trip is one report of four lines: taxi 38.50 EUR, hotel 912.00 EUR, train 89.90 EUR
and a client dinner of 124.00 GBP (pinned at 144.00 EUR). Its EUR total (1,184.40) needs
two levels: max, then diana. An approver rejects single lines with a reason and approves
the rest; rejected lines are out for later levels and for the payout.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import translation

from approvals import audit_chain
from approvals.labels import refusal_text
from approvals.models import AuditEntry, LineStatus
from approvals.services.commands import _update, actor_for
from approvals.temporal.client import call
from approvals.workflow.contract import (
    Actor,
    DecisionInput,
    LineInput,
    LineRejection,
    Refusal,
    ResubmitInput,
    StepKind,
    workflow_id,
)
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from payouts.models import Payment, Reservation
from tests.support.payouts import wait_payment
from tests.support.reports import TOTAL_CENTS, TRIP, line_rows, submit_report
from tests.support.requests import (
    decide,
    refusal,
    state_of,
    wait_audit,
    wait_closed,
    wait_pending_level,
    wait_state,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_workflow_keeps_every_line_of_the_report_open(demo_org, worker):
    request = submit_report(demo_org["emma"])
    state = wait_pending_level(request, 1)
    assert [(x.n, x.amount_cents, x.currency, x.base_amount_cents) for x in state.lines] == [
        (1, 3850, "EUR", 3850),
        (2, 91200, "EUR", 91200),
        (3, 8990, "EUR", 8990),
        (4, 12400, "GBP", 14400),
    ]
    assert {x.status for x in state.lines} == {"open"}
    assert len(state.levels) == 2 and state.pending_approvers == ["max"]
    # The workflow holds the audit chain's newest hash from its first record on (issue 31).
    wait_for(
        lambda: state_of(request).audit_head == audit_chain.audit_head(request.pk),
        message="the workflow does not hold the audit head",
    )
    assert len(state_of(request).audit_head) == 64


def test_the_workflow_ends_holding_the_audit_head(demo_org, worker):
    request = submit_report(demo_org["emma"], TRIP[:1])
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "reject", comment="Walk")
    wait_closed(request, "rejected")
    wait_audit(request, StepKind.COMPLETED)
    # The projection commits before the workflow has the record's answer: wait for it.
    state = wait_for(
        lambda: (s := state_of(request)).audit_head == audit_chain.audit_head(request.pk) and s,
        message="the workflow never held the newest audit hash",
    )
    request.refresh_from_db()
    assert state.audit_head == request.audit_head
    keys = list(AuditEntry.objects.filter(request=request).order_by("pk").values_list("key"))
    assert keys[-1] == ("wf:4:completed",)  # the head is the completion row's
    assert audit_chain.verify(request.pk, expected_head=state.audit_head) is None
    # Cutting off the newest row shows against the head the workflow holds.
    newest = AuditEntry.objects.filter(request=request).order_by("-pk").first()
    with connection.cursor() as cursor:  # what someone with database access could do
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [newest.pk])
    broken = audit_chain.verify(request.pk, expected_head=state.audit_head)
    assert broken is not None and broken.reason == "head_mismatch"


def test_a_line_rejected_at_level_1_is_out_for_level_2_and_the_payout(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    state = decide(request, demo_org["max"], rejected_lines={4: "Client dinners need a guest list"})
    assert state.status == "pending" and state.pending_approvers == ["diana"]
    dinner = state.lines[3]
    assert (dinner.status, dinner.rejected_level, dinner.rejected_by, dinner.reason) == (
        "rejected",
        1,
        "max",
        "Client dinners need a guest list",
    )
    assert [x.status for x in state.lines[:3]] == ["open"] * 3
    (record,) = state.decisions
    assert record.action == "approve"
    assert [(r.n, r.reason) for r in record.rejected_lines] == [
        (4, "Client dinners need a guest list")
    ]

    # diana sees it out: she cannot reject it again, and she approves the rest.
    words = refusal(request, demo_org["diana"], rejected_lines={4: "no"})
    assert words == refusal_text(
        Refusal.LINE_ALREADY_REJECTED, {"line": 4, "level": 1, "by": "max"}
    )
    state = decide(request, demo_org["diana"])
    assert state.status == "approved"
    wait_closed(request, "approved")

    # The projection and the audit row of max's decision.
    wait_for(lambda: line_rows(request)[4][0] == LineStatus.REJECTED, message="not projected")
    assert line_rows(request) == {
        1: ("open", None, "", ""),
        2: ("open", None, "", ""),
        3: ("open", None, "", ""),
        4: ("rejected", 1, "max", "Client dinners need a guest list"),
    }
    wait_audit(request, StepKind.DECIDED, count=2)
    row = AuditEntry.objects.filter(request=request, kind=StepKind.DECIDED, level=1).get()
    assert row.detail["rejected_lines"] == [
        {"line": 4, "reason": "Client dinners need a guest list"}
    ]
    assert row.detail["open_lines"] == [1, 2, 3]

    # The payout pays the approved lines only: 38.50 + 912.00 + 89.90 EUR.
    payment = wait_payment(request, "scheduled")
    assert payment.amount_cents == 3850 + 91200 + 8990 == TOTAL_CENTS - 14400
    assert Reservation.objects.get(request_id=request.pk).amount_cents == payment.amount_cents


def test_rejecting_every_line_rejects_the_report_at_that_level(demo_org, worker):
    request = submit_report(demo_org["emma"], TRIP[:2])  # 950.50 EUR: one level (max)
    wait_pending_level(request, 1)
    state = decide(request, demo_org["max"], rejected_lines={1: "Walkable", 2: "Too dear"})
    assert state.status == "rejected"
    (record,) = state.decisions
    assert (record.level, record.actor, record.action) == (1, "max", "reject")
    assert record.comment == "Walkable\nToo dear"  # the reasons, as no comment was given
    assert state.levels[0].status == "rejected"
    assert {x.status for x in state.lines} == {"rejected"}
    wait_closed(request, "rejected")
    assert Payment.objects.filter(request_id=request.pk).count() == 0


def test_a_line_rejection_needs_a_reason_and_a_line_of_the_report(demo_org, worker):
    request = submit_report(demo_org["emma"])
    before = wait_pending_level(request, 1)
    with translation.override("en"):
        missing = refusal(request, demo_org["max"], rejected_lines={2: "   "})
        unknown = refusal(request, demo_org["max"], rejected_lines={7: "Not mine"})
        on_reject = refusal(
            request, demo_org["max"], "reject", comment="no", rejected_lines={2: "Too dear"}
        )
    assert missing == "Give a reason for rejecting line 2."
    assert unknown == "This report has no line 7."
    assert on_reject.startswith("Single lines can only be rejected while approving the rest")
    with translation.override("de"):
        german = refusal(request, demo_org["max"], rejected_lines={2: ""})
    assert german == "Geben Sie einen Grund für die Ablehnung von Position 2 an."
    # Refused by the validator: nothing entered the history.
    after = state_of(request)
    assert after.seq == before.seq and after.decisions == [] and after.pending_approvers == ["max"]
    assert {x.status for x in after.lines} == {"open"}


def test_the_requester_cannot_reject_lines_of_her_own_report(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    words = refusal(request, demo_org["emma"], rejected_lines={1: "mine"})
    assert words == refusal_text(Refusal.OWN_REQUEST)


def test_a_signal_never_rejects_lines(demo_org, worker):
    """Mail links decide the whole report: a signal that carries line rejections is
    recorded as ignored, never applied as a plain approve of every line."""
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    decision = DecisionInput(
        decision_id=str(uuid.uuid4()),
        actor=actor_for(demo_org["max"]),
        action="approve",
        rejected_lines=[LineRejection(4, "Guest list missing")],
    )

    async def send(client):
        handle = client.get_workflow_handle(workflow_id(request.pk))
        await handle.signal(ExpenseApprovalWorkflow.decide_signal, decision)

    call(send)
    state = wait_state(request, lambda s: bool(s.ignored_signals))
    (ignored,) = state.ignored_signals
    assert (ignored.actor, ignored.code) == ("max", Refusal.LINES_NOT_BY_SIGNAL)
    assert state.decisions == [] and state.pending_approvers == ["max"]
    assert {x.status for x in state.lines} == {"open"}


def test_resubmission_replaces_the_lines_all_open_again(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], rejected_lines={4: "Guest list missing"})
    wait_pending_level(request, 2)
    decide(request, demo_org["diana"], "request_changes", comment="Split the hotel bill")
    wait_state(request, lambda s: s.status == "changes_requested")
    wait_for(lambda: line_rows(request)[4][0] == LineStatus.REJECTED, message="not projected")
    # The edited report: taxi, hotel (now 400.00), dinner with its guest list; no train.
    lines = [
        LineInput(1, 3850, "EUR", 3850, "travel"),
        LineInput(2, 40000, "EUR", 40000, "travel"),
        LineInput(3, 12400, "GBP", 14400, "meals"),
    ]
    total = sum(x.base_amount_cents for x in lines)
    state = _update(
        request,
        ExpenseApprovalWorkflow.resubmit,
        ResubmitInput(
            actor=Actor(username="emma", display="Emma", role="employee"),
            title="Trip to Berlin",
            amount_cents=total,
            base_amount_cents=total,
            comment="Guest list added",
            lines=lines,
        ),
        update_id=f"resubmit-{uuid.uuid4()}",
        project=True,
    )
    assert state.round == 2 and state.status == "pending"
    assert [(x.n, x.base_amount_cents, x.status) for x in state.lines] == [
        (1, 3850, "open"),
        (2, 40000, "open"),
        (3, 14400, "open"),
    ]
    assert len(state.levels) == 1 and state.pending_approvers == ["max"]  # 582.50 EUR
    # The projection reopens every line of the new round.
    wait_for(
        lambda: all(row[0] == LineStatus.OPEN for row in line_rows(request).values()),
        message="line 4 still rejected",
    )
    # max may now reject a line again (a new round, new lines).
    state = decide(request, demo_org["max"], rejected_lines={3: "Still no receipt"})
    assert state.status == "approved"
    payment = wait_payment(request, "scheduled")
    assert payment.amount_cents == 3850 + 40000
