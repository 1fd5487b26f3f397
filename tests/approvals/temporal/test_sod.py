"""Separation of duties on the real stack (workflow version 2): the dev server,
the real worker and activities, the demo organisation.

No level ever approves by itself; a level whose natural approver already
approved goes on up (or to the admins); when nobody is left it waits on
nobody, visibly (`needs_approver`), until a re-route finds someone.
"""

from __future__ import annotations

import pytest
from django.utils import translation
from temporalio.client import WorkflowExecutionStatus

from approvals import services
from approvals.models import AuditEntry, ExpenseRequest, Notification
from approvals.temporal import client as temporal_client
from approvals.workflow.contract import (
    ApprovalState,
    Refusal,
    RerouteInput,
    StepKind,
    WaitingReason,
    workflow_id,
)
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from tests.support.i18n import DE_PO, po_translation
from tests.support.requests import (
    audit_kinds,
    decide,
    delegate,
    describe,
    new_id,
    state_of,
    submit,
    wait_audit,
    wait_closed,
    wait_pending_level,
    wait_state,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def reroute(request, *, leaver: str = "", reason: str = "", reroute_id: str = "") -> ApprovalState:
    """The reroute Update, sent through this process's Temporal client (as /ops/ would)."""
    arg = RerouteInput(leaver=leaver, reason=reason or "test", reroute_id=reroute_id or new_id())

    async def run(client):
        handle = client.get_workflow_handle_for(
            ExpenseApprovalWorkflow.run, workflow_id(request.pk)
        )
        return await handle.execute_update(ExpenseApprovalWorkflow.reroute, arg, id=new_id())

    return temporal_client.call(run)


def refused(request, user, **kw) -> services.ServiceError:
    with pytest.raises(services.ServiceError) as info:
        decide(request, user, **kw)
    return info.value


def wait_needs_approver(request, level: int) -> ApprovalState:
    return wait_state(
        request,
        lambda s: (
            s.status == "pending"
            and s.current_level == level
            and s.waiting_reason == WaitingReason.NEEDS_APPROVER
        ),
    )


# ------------------------------------------------------------------ delegates
def test_a_delegate_approving_level_one_sends_level_two_on_up_to_victor(demo_org, worker):
    delegate(demo_org["max"], demo_org["diana"])
    request = submit(demo_org["emma"], "1500.00")
    wait_pending_level(request, 1)

    state = decide(request, demo_org["diana"])  # for max
    assert (state.status, state.current_level) == ("pending", 2)
    assert state.pending_approvers == ["victor"]  # not diana again, and not auto-approved
    assert state.levels[1].status == "pending" and state.levels[1].decided_by == ""

    state = decide(request, demo_org["victor"])
    assert state.status == "approved"
    assert [(d.level, d.actor, d.on_behalf_of) for d in state.decisions] == [
        (1, "diana", "max"),
        (2, "victor", ""),
    ]
    assert len({d.actor for d in state.decisions}) == 2
    wait_closed(request, "approved")
    wait_audit(request, StepKind.COMPLETED)
    kinds = audit_kinds(request)
    assert "auto_approved" not in kinds
    assert kinds.count(StepKind.DECIDED) == 2


# ------------------------------------------------------ the organisation runs out
@pytest.fixture
def vp_request_at_needs_approver(demo_org, worker):
    """victor (no manager) asks for 15,000 EUR: three management levels, all for the
    admins, then finance. admin approves level 1; level 2 has nobody left who may decide."""
    request = submit(demo_org["victor"], "15000.00", title="Board dinner")
    state = wait_pending_level(request, 1)
    assert state.pending_approvers == ["admin"]
    assert [lv.approvers for lv in state.levels] == [["admin"]] * 3 + [["felix", "fiona"]]

    state = decide(request, demo_org["admin"])
    assert (state.status, state.current_level) == ("pending", 2)
    assert state.waiting_reason == WaitingReason.NEEDS_APPROVER
    assert state.pending_approvers == [] and state.due_at == ""
    return request


def test_level_two_of_the_vp_s_request_needs_an_approver_until_a_new_admin_is_routed(
    demo_org, vp_request_at_needs_approver
):
    request = vp_request_at_needs_approver
    admin = demo_org["admin"]
    wait_audit(request, StepKind.NEEDS_APPROVER)
    entry = AuditEntry.objects.get(request=request, kind=StepKind.NEEDS_APPROVER)
    assert entry.level == 2
    assert entry.detail["recipients"] == ["admin"]
    request.refresh_from_db()
    assert request.status == "pending" and request.pending_approvers == []

    # The admin who approved level 1 cannot take level 2, not even as an override.
    error = refused(request, admin)
    assert error.code == Refusal.LEVEL_MOVED_ON, error.code
    assert error.message == "Level 1 was already decided by admin; the request has moved on."
    error = refused(request, admin, override=True, comment="nobody else is here")
    assert error.code == Refusal.LEVEL_MOVED_ON
    state = state_of(request)
    assert [d.actor for d in state.decisions] == ["admin"]
    assert state.waiting_reason == WaitingReason.NEEDS_APPROVER

    # A second administrator appears; routing again with today's org chart finds them.
    from accounts.models import Role, User

    admin2 = User.objects.create_user("admin2", "admin2@example.com", "demo", first_name="Alex")
    admin2.is_superuser = admin2.is_staff = True
    admin2.role = Role.ADMIN
    admin2.save()
    state = reroute(request, leaver="", reason="a new administrator")
    assert (state.status, state.current_level) == ("pending", 2)
    assert state.pending_approvers == ["admin2"]
    assert state.waiting_reason == WaitingReason.NONE and state.due_at
    wait_audit(request, StepKind.REROUTED)
    rerouted = AuditEntry.objects.get(request=request, kind=StepKind.REROUTED)
    assert (rerouted.detail["from"], rerouted.detail["to"]) == ([], ["admin2"])

    state = decide(request, admin2)
    assert [d.actor for d in state.decisions] == ["admin", "admin2"]
    # Level 3: victor, admin and admin2 are all barred: it waits on nobody again.
    assert state.current_level == 3 and state.pending_approvers == []
    assert state.waiting_reason == WaitingReason.NEEDS_APPROVER


def test_the_admins_are_mailed_when_a_level_needs_an_approver(
    demo_org, vp_request_at_needs_approver
):
    request = vp_request_at_needs_approver
    wait_audit(request, StepKind.NEEDS_APPROVER)
    entry = AuditEntry.objects.get(request=request, kind=StepKind.NEEDS_APPROVER)
    key = f"{entry.detail['seq']}:{StepKind.NEEDS_APPROVER}"
    wait_for(
        lambda: Notification.objects.filter(request=request, recipient="admin", key=key).exists(),
        timeout=10,
        message="no Notification row for admin about the needs_approver step",
    )


# ----------------------------------------------------------------- escalation
def test_an_escalated_level_one_never_makes_level_two_approve_itself(demo_org, worker, settings):
    settings.APPROVAL_SLA_SECONDS = 4
    settings.APPROVAL_REMINDER_SECONDS = 0
    request = submit(demo_org["emma"], "1500.00")
    wait_pending_level(request, 1)
    # max lets the deadline pass: level 1 goes to his manager diana.
    state = wait_state(
        request, lambda s: s.current_level == 1 and s.pending_approvers == ["diana"], timeout=20
    )
    assert state.levels[0].escalations == 1

    state = decide(request, demo_org["diana"], level=1)
    # Level 2 would be diana: she approved level 1, so it goes on up to victor.
    assert (state.status, state.current_level) == ("pending", 2)
    assert state.pending_approvers == ["victor"]
    assert state.levels[1].status == "pending" and state.levels[1].decided_by == ""
    assert [(d.level, d.actor) for d in state.decisions] == [(1, "diana")]
    # Level 1 was assigned twice (to max, then on escalation to diana); level 2 once.
    assigned = wait_for(
        lambda: AuditEntry.objects.filter(request=request, kind=StepKind.ASSIGNED, level=2).first(),
        message="level 2 was never assigned in the audit log",
    )
    assert assigned.detail["recipients"] == ["victor"]
    assert "auto_approved" not in audit_kinds(request)
    escalated = AuditEntry.objects.get(request=request, kind=StepKind.ESCALATED)
    assert (escalated.level, escalated.detail["from"], escalated.detail["to"]) == (
        1,
        ["max"],
        ["diana"],
    )


# -------------------------------------------------------- the admin's own request
def test_an_admin_s_own_request_shows_needs_approver_at_once_and_can_be_withdrawn(demo_org, worker):
    admin = demo_org["admin"]
    request = submit(admin, "300.00", title="Monitor cable")
    state = wait_needs_approver(request, 1)
    assert state.pending_approvers == [] and state.due_at == ""
    wait_audit(request, StepKind.NEEDS_APPROVER)
    assert refused(request, admin).code == Refusal.OWN_REQUEST

    state = services.expense_withdraw(request=request, actor=admin, reason="bought it myself")
    assert state.status == "withdrawn"
    wait_closed(request, "withdrawn")
    wait_for(
        lambda: describe(request.pk).status == WorkflowExecutionStatus.COMPLETED,
        message="the withdrawn workflow did not complete",
    )


# --------------------------------------------------------------------- leavers
def test_a_leaver_s_level_moves_to_their_manager_once(demo_org, worker):
    request = submit(demo_org["emma"], "500.00")
    state = wait_pending_level(request, 1)
    assert state.pending_approvers == ["max"]
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    max_ = demo_org["max"]
    max_.is_active = False
    # Deactivating re-routes at once (accounts.services.user_deactivate -> leaver_reroute;
    # what the projection did not show yet, the reconciler's sweep_leavers moves later).
    max_.save(update_fields=["is_active"])
    state = wait_state(request, lambda s: s.pending_approvers == ["diana"], timeout=20)
    assert state.current_level == 1
    wait_audit(request, StepKind.REROUTED)
    entry = AuditEntry.objects.get(request=request, kind=StepKind.REROUTED)
    assert entry.detail["reason"] == "deactivated"
    assert (entry.detail["from"], entry.detail["to"]) == (["max"], ["diana"])
    assert entry.detail["leaver"] == "max" and entry.detail["reroute_id"]
    reroute_id = new_id()

    # The same re-route again (a retry by the caller, another Update id): nothing changes.
    before = state_of(request)
    again = reroute(request, leaver="max", reason="left the company", reroute_id=reroute_id)
    assert again.seq == before.seq and again.pending_approvers == ["diana"]
    assert audit_kinds(request).count(StepKind.REROUTED) == 1

    assert decide(request, demo_org["diana"]).status == "approved"
    wait_closed(request, "approved")


# ---------------------------------------------------------------------- German
def test_the_refusal_for_someone_who_already_approved_is_in_german(demo_org, worker):
    request = submit(demo_org["emma"], "5000.00")
    wait_pending_level(request, 1)
    admin = demo_org["admin"]
    state = decide(request, admin, override=True, comment="max is on leave")
    assert state.pending_approvers == ["diana"]

    error = refused(request, admin, override=True, comment="and diana too")
    assert error.code == Refusal.ALREADY_APPROVED
    english = "You have already approved this request."
    assert error.message == english
    with translation.override("de"):
        german = error.message
    expected = po_translation(english)
    if not expected:
        pytest.xfail(f"catalog pending: no German for {english!r} in {DE_PO}")
    assert german == expected
    assert german != english


def test_the_reconciler_sweep_moves_what_a_deactivation_missed(demo_org, worker):
    """A person made inactive without the service (an HR import writing the column, or a
    deactivation whose re-route met a lagging projection or an outage) still holds a level:
    the reconciler's sweep_leavers pass moves it to their manager."""
    from accounts.models import User
    from approvals.services.leavers import sweep_leavers

    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    User.objects.filter(username="max").update(is_active=False)  # no signal, no re-route
    assert state_of(request).pending_approvers == ["max"]
    assert sweep_leavers() == 1
    assert state_of(request).pending_approvers == ["diana"]
    assert sweep_leavers() == 0  # nothing left on anyone inactive


async def test_the_reconciler_runs_the_passes_its_process_adds(settings):
    import asyncio

    from approvals.worker import worker as worker_mod

    settings.RECONCILE_INTERVAL_SECONDS = 0.05
    calls = []

    def mend() -> int:
        calls.append(1)
        return 0

    stop = asyncio.Event()
    task = asyncio.create_task(worker_mod.reconcile_forever(stop, (mend,)))
    while len(calls) < 2:
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert len(calls) >= 2
