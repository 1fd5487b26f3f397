"""The audit timeline against a real Temporal server, worker and PostgreSQL.

Each test drives a request through the real services, then reads
/audit/<pk>/ and its JSON download as an administrator.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from approvals import services
from approvals.models import AuditEntry
from approvals.selectors import timeline
from approvals.temporal import history
from approvals.temporal.client import call
from tests.support.requests import submit, wait_pending_level, wait_state, wait_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ENTRY = re.compile(r'data-testid="timeline-entry" data-kind="([^"]+)" data-source="([^"]+)"')


def wait_closed(request) -> timeline.Timeline:
    """Poll until the workflow's history ends with its completion."""
    return wait_for(
        lambda: (lambda t: t if t.closed else None)(timeline.build(request)),
        timeout=30,
        message=f"workflow of request {request.pk} never closed",
    )


def audit_page(client, admin, request) -> str:
    client.force_login(admin)
    response = client.get(f"/audit/{request.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def audit_json(client, admin, request) -> dict:
    client.force_login(admin)
    response = client.get(f"/audit/{request.pk}/timeline.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="expense-{request.pk}-timeline.json"'
    )
    return response.json()


def first(kinds: list[str], kind: str, after: int = -1) -> int:
    """Index of the first `kind` after position `after` (fails the test when absent)."""
    for i, k in enumerate(kinds):
        if i > after and k == kind:
            return i
    pytest.fail(f"no {kind!r} after position {after} in {kinds}")


def test_escalation_path_reads_submitted_reminder_escalation_approval_outcome_in_order(
    demo_org, worker, settings, client
):
    settings.APPROVAL_SLA_SECONDS = 3
    settings.APPROVAL_REMINDER_SECONDS = 1
    emma, diana, admin = demo_org["emma"], demo_org["diana"], demo_org["admin"]
    request = submit(emma, "500.00")
    wait_state(request, lambda s: bool(s.levels) and s.levels[0].escalations == 1, timeout=30)
    services.decision_record(
        request=request, actor=diana, action="approve", comment="Fine after escalation"
    )
    wait_closed(request)

    data = audit_json(client, admin, request)
    assert data["history_available"] is True and data["closed"] is True
    assert data["notice"] == ""
    # The payout saga's steps follow the approval (its own workflow, audit rows): set aside.
    payout = [e for e in data["entries"] if e["kind"].startswith("payout_")]
    entries = [e for e in data["entries"] if not e["kind"].startswith("payout_")]
    assert all(e["sources"] == ["audit"] for e in payout)
    kinds = [e["kind"] for e in entries]
    started = first(kinds, "workflow_started")
    submitted = first(kinds, "submitted", started)
    chain = first(kinds, "chain_resolved", submitted)
    assigned_max = first(kinds, "assigned", chain)
    timer_started = first(kinds, "timer_started", assigned_max)
    timer_fired = first(kinds, "timer_fired", timer_started)
    reminder = first(kinds, "reminder", timer_fired)
    escalated = first(kinds, "escalated", reminder)
    assigned_diana = first(kinds, "assigned", escalated)
    decided = first(kinds, "decided", assigned_diana)
    outcome = first(kinds, "completed", decided)
    status = first(kinds, "status_changed", decided)
    closed = first(kinds, "workflow_completed", outcome)
    assert closed == len(kinds) - 1
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times)

    assert entries[started]["detail"]["input"]["requester"] == "emma"
    assert entries[started]["detail"]["input"]["policy"]["sla_seconds"] == 3
    assert entries[chain]["detail"]["route"]["ladder"] == ["max", "diana", "victor"]
    assert entries[assigned_max]["detail"]["recipients"] == ["max"]
    assert entries[reminder]["detail"]["recipients"] == ["max"]
    assert entries[escalated]["detail"]["from"] == ["max"]
    assert entries[escalated]["detail"]["to"] == ["diana"]
    assert entries[assigned_diana]["detail"]["recipients"] == ["diana"]
    approval = entries[decided]
    assert approval["actor"] == "Diana Dietrich"
    assert approval["comment"] == "Fine after escalation"
    assert approval["channel"] == "update"
    assert approval["detail"]["action"] == "approve"
    assert approval["detail"]["update"]["name"] == "decide"
    assert approval["detail"]["update"]["outcome"] == "success"
    assert entries[outcome]["detail"]["outcome"] == "approved"
    assert entries[status]["detail"]["status"] == "approved"
    assert entries[closed]["detail"]["result"]["status"] == "approved"
    # Workflow steps are found in both sources; timers only in the history.
    for index in (submitted, assigned_max, reminder, escalated, decided, outcome):
        assert entries[index]["source"] == "history + audit log", entries[index]
    assert entries[timer_fired]["source"] == "workflow history"
    # Reminders and escalations were mailed, and the timeline says to whom.
    mailed = [e for e in entries if e["kind"] == "notifications_sent"]
    recipients = {m["recipient"] for e in mailed for m in e["detail"]["emails"]}
    assert {"max", "diana", "emma"} <= recipients

    html = audit_page(client, admin, request)
    page_kinds = [kind for kind, _source in ENTRY.findall(html) if not kind.startswith("payout_")]
    assert page_kinds == kinds
    assert (
        f'href="{settings.TEMPORAL_UI_URL}/namespaces/{settings.TEMPORAL_NAMESPACE}'
        f'/workflows/expense-{request.pk}"'
    ) in html
    assert "Level 1 escalated from Max Müller to Diana Dietrich" in html
    assert 'data-testid="history-notice"' not in html


def test_request_for_changes_and_resubmission_appear_with_both_rounds(demo_org, worker, client):
    emma, max_, admin = demo_org["emma"], demo_org["max"], demo_org["admin"]
    request = submit(emma, "500.00", title="Team lunch")
    wait_pending_level(request, 1)
    services.decision_record(
        request=request, actor=max_, action="request_changes", comment="Attach the receipt"
    )
    wait_status(request, "changes_requested")
    services.expense_resubmit(
        request=request,
        actor=emma,
        title="Team lunch with receipt",
        amount=Decimal("450.00"),
        comment="Receipt attached",
    )
    wait_state(request, lambda s: s.round == 2 and s.status == "pending" and s.current_level == 1)
    services.decision_record(request=request, actor=max_, action="approve")
    wait_closed(request)

    entries = audit_json(client, admin, request)["entries"]
    kinds = [e["kind"] for e in entries]
    asked = first(kinds, "decided")
    changes_status = first(kinds, "status_changed", asked)
    resubmitted = first(kinds, "resubmitted", changes_status)
    pending_again = first(kinds, "status_changed", resubmitted)
    reassigned = first(kinds, "assigned", resubmitted)
    approved = first(kinds, "decided", reassigned)
    first(kinds, "completed", approved)

    assert entries[asked]["detail"]["action"] == "request_changes"
    assert entries[asked]["comment"] == "Attach the receipt"
    assert entries[asked]["actor"] == "Max Müller"
    assert entries[changes_status]["detail"]["status"] == "changes_requested"
    resubmission = entries[resubmitted]
    assert resubmission["actor"] == "Emma Engel"
    assert resubmission["comment"] == "Receipt attached"
    assert resubmission["detail"]["old_amount_cents"] == 50000
    assert resubmission["detail"]["amount_cents"] == 45000
    assert resubmission["detail"]["round"] == 2
    assert resubmission["detail"]["update"]["name"] == "resubmit"
    assert resubmission["source"] == "history + audit log"
    assert "Team lunch" in resubmission["summary"]
    assert "Team lunch with receipt" in resubmission["summary"]
    assert entries[pending_again]["detail"]["status"] == "pending"
    assert entries[approved]["detail"]["action"] == "approve"
    # Both chain resolutions (first round and after the resubmission) are there.
    assert kinds.count("chain_resolved") == 2


def test_closed_workflow_still_shows_its_full_history(demo_org, worker, client):
    emma, max_, admin = demo_org["emma"], demo_org["max"], demo_org["admin"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=max_, action="reject", comment="Not budgeted")
    wait_status(request, "rejected")
    wait_closed(request)
    # Closed means Temporal accepts no more Updates; the timeline still reads it.
    with pytest.raises(services.ServiceError):
        services.decision_record(request=request, actor=max_, action="approve")

    html = audit_page(client, admin, request)
    assert 'data-testid="workflow-closed"' in html
    assert 'data-testid="history-notice"' not in html
    found = ENTRY.findall(html)
    # (the spend checks' flags are the web's rows, written at submission: issue 27)
    kinds = [k for k, _source in found if not k.startswith("payout_") and k != "flagged"]
    assert kinds[0] == "workflow_started" and kinds[-1] == "workflow_completed"
    assert ("decided", "history audit") in found
    assert "Status changed to rejected" in html
    assert "Not budgeted" in html
    assert "Workflow completed with status rejected" in html


def _delete_workflow(request_id: int) -> None:
    async def delete(client) -> None:
        await client.workflow_service.delete_workflow_execution(
            DeleteWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=f"expense-{request_id}"),
            )
        )

    call(delete)


def _history_gone(request_id: int) -> bool:
    try:
        history.fetch_history(request_id)
    except RPCError as exc:
        return exc.status == RPCStatusCode.NOT_FOUND
    return False


def test_history_removed_from_temporal_falls_back_to_the_audit_log_with_a_notice(
    demo_org, worker, client
):
    emma, max_, admin = demo_org["emma"], demo_org["max"], demo_org["admin"]
    request = submit(emma, "250.00")
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=max_, action="approve", comment="OK")
    wait_closed(request)
    wait_for(lambda: AuditEntry.objects.filter(request=request, kind="completed").exists())
    # What the namespace's retention does to a closed workflow, done now.
    _delete_workflow(request.pk)
    # Deletion runs as a background task on the server: slow on a busy machine.
    wait_for(lambda: _history_gone(request.pk), timeout=120, message="history never went away")

    html = audit_page(client, admin, request)
    assert 'data-testid="history-notice"' in html
    assert "no longer in Temporal" in html
    found = ENTRY.findall(html)
    assert found, "the audit log must still be shown"
    assert {source for _kind, source in found} == {"audit"}
    kinds = [kind for kind, _source in found if not kind.startswith("payout_")]
    assert kinds.index("submitted") < kinds.index("assigned") < kinds.index("decided")
    assert kinds.index("decided") < kinds.index("completed")
    assert "workflow_started" not in kinds and "timer_started" not in kinds
    assert "Max Müller approved at level 1" in html

    data = audit_json(client, admin, request)
    assert data["history_available"] is False
    assert "no longer in Temporal" in data["notice"]
    assert [e["kind"] for e in data["entries"] if not e["kind"].startswith("payout_")] == kinds


def test_markup_in_comments_is_shown_escaped(demo_org, worker, client):
    emma, max_, admin = demo_org["emma"], demo_org["max"], demo_org["admin"]
    request = submit(emma, "200.00", title="<i>Taxi</i>")
    wait_pending_level(request, 1)
    comment = '<script>alert("x")</script><b>bold</b>'
    services.decision_record(request=request, actor=max_, action="reject", comment=comment)
    wait_closed(request)

    html = audit_page(client, admin, request)
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html
    assert "<i>Taxi</i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;i&gt;Taxi&lt;/i&gt;" in html
    # The download carries the comment verbatim: it is data, not markup.
    entries = audit_json(client, admin, request)["entries"]
    assert any(e["kind"] == "decided" and e["comment"] == comment for e in entries)


def test_ignored_signal_extension_and_withdrawal_show_while_refused_updates_never_do(
    demo_org, worker, client
):
    emma, finn, max_, admin = (demo_org[n] for n in ("emma", "finn", "max", "admin"))
    request = submit(emma, "700.00")
    wait_pending_level(request, 1)
    # Refused by the validator: Temporal never writes it to the history.
    with pytest.raises(services.ServiceError):
        services.decision_record(request=request, actor=emma, action="approve")
    # A signal from someone who is not the approver is recorded and ignored.
    services.decision_signal(
        request=request,
        actor=finn,
        action="approve",
        comment="from a stale mail link",
        decision_id=str(uuid.uuid4()),
    )
    wait_for(lambda: AuditEntry.objects.filter(request=request, kind="signal_ignored").exists())
    services.deadline_extend(request=request, actor=max_, seconds=3600, reason="Travelling")
    services.expense_withdraw(request=request, actor=emma, reason="Booked by the client")
    wait_closed(request)

    entries = audit_json(client, admin, request)["entries"]
    kinds = [e["kind"] for e in entries]
    ignored = entries[first(kinds, "signal_ignored")]
    assert ignored["actor"] == "Finn Fischer"
    assert ignored["channel"] == "signal"
    assert ignored["detail"]["code"] == "NotApprover"
    assert "ignored: You are not the approver of this level." in ignored["summary"]
    assert ignored["detail"]["signal"]["name"] == "decide_signal"
    assert ignored["source"] == "history + audit log"
    extended = entries[first(kinds, "deadline_extended")]
    assert extended["detail"]["seconds"] == 3600
    assert extended["comment"] == "Travelling"
    assert extended["detail"]["update"]["name"] == "extend_deadline"
    withdrawn = entries[first(kinds, "withdrawn", kinds.index("deadline_extended"))]
    assert withdrawn["comment"] == "Booked by the client"
    assert withdrawn["detail"]["update"]["name"] == "withdraw"
    assert entries[first(kinds, "completed")]["detail"]["outcome"] == "withdrawn"
    # Emma's refused self-approval left no trace: no decision, no stray Update.
    assert "decided" not in kinds and "update" not in kinds
