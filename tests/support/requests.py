"""Drive expense requests through the real services and read their state back
(from the workflow, the projection and the audit table)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from temporalio.service import RPCError, RPCStatusCode

from accounts.models import Delegation, User
from approvals import services
from approvals.models import AuditEntry, ExpenseRequest
from approvals.temporal import client as temporal_client
from approvals.temporal import starter
from approvals.temporal.client import TemporalUnavailable
from approvals.workflow.contract import WORKFLOW_TYPE, ApprovalState, workflow_id

from .waiting import wait_for


def submit(user, amount="500.00", title="Train tickets", **extra) -> ExpenseRequest:
    request = services.expense_submit(
        requester=user,
        title=title,
        amount=Decimal(amount),
        currency=extra.pop("currency", "EUR"),
        category=extra.pop("category", "travel"),
        description=extra.pop("description", ""),
    )
    request.refresh_from_db()
    return request


def state_of(request: ExpenseRequest) -> ApprovalState:
    return services.status_query(request)


def state_or_none(request: ExpenseRequest) -> ApprovalState | None:
    """The workflow's state, or None while it cannot answer yet: no worker has polled its
    task queue yet (a worker subprocess still starting on a busy machine: "no poller seen")
    or the query timed out behind the machine's load. A wait polls again; its own timeout
    still fails the test (two CI failures under `-n 2`, stop 38's try)."""
    try:
        return state_of(request)
    except TemporalUnavailable:
        return None
    except RPCError as exc:
        if exc.status == RPCStatusCode.FAILED_PRECONDITION:
            return None
        raise


def wait_state(request, predicate, timeout: float = 20) -> ApprovalState:
    def check():
        state = state_or_none(request)
        return state if state is not None and predicate(state) else None

    return wait_for(check, timeout, message=f"request {request.pk}: state not reached")


def wait_status(request: ExpenseRequest, status: str, timeout: float = 20) -> ExpenseRequest:
    """Wait until the projection (the Django row) shows `status`."""

    def check():
        request.refresh_from_db()
        return request if request.status == status else None

    return wait_for(check, timeout, message=f"request {request.pk} never became {status}")


def wait_pending_level(request, level: int, timeout: float = 20) -> ApprovalState:
    return wait_state(
        request,
        lambda s: s.status == "pending" and s.current_level == level and bool(s.pending_approvers),
        timeout,
    )


def wait_closed(request: ExpenseRequest, status: str, timeout: float = 30) -> ApprovalState:
    """Wait until the workflow reports `status` and the projection caught up."""

    def check():
        state = state_or_none(request)
        request.refresh_from_db()
        return state if state and state.status == status and request.status == status else None

    return wait_for(check, timeout, message=f"request {request.pk} never became {status}")


def describe(request_id: int):
    """The request's workflow execution as the server describes it."""

    async def run(client):
        return await client.get_workflow_handle(workflow_id(request_id)).describe()

    return temporal_client.call(run)


def start_again(request: ExpenseRequest):
    """A raw second start with the same id, bypassing the service's guards
    (raises WorkflowAlreadyStartedError while the first run is open)."""

    inp = starter.workflow_input(request)

    async def run(client):
        await client.start_workflow(
            WORKFLOW_TYPE,
            inp,
            id=workflow_id(request.pk),
            task_queue="nowhere",
        )

    return temporal_client.call(run)


def decide(request: ExpenseRequest, user: User, action: str = "approve", **kw) -> ApprovalState:
    """A decision through the service (a workflow Update), as the views make it."""
    return services.decision_record(request=request, actor=user, action=action, **kw)


def refusal(request: ExpenseRequest, user: User, action: str = "approve", **kw) -> str:
    """The message a refused decision gives the user (fails the test if it is accepted)."""
    with pytest.raises(services.ServiceError) as info:
        decide(request, user, action, **kw)
    return str(info.value)


def delegate(principal: User, to: User) -> Delegation:
    """`to` stands in for `principal` from yesterday to today."""
    today = timezone.localdate()
    return Delegation.objects.create(
        user=principal, delegate=to, starts_on=today - timedelta(days=1), ends_on=today
    )


def audit_kinds(request: ExpenseRequest) -> list[str]:
    return list(AuditEntry.objects.filter(request=request).values_list("kind", flat=True))


def wait_audit(request: ExpenseRequest, kind: str, count: int = 1, timeout: float = 20):
    return wait_for(
        lambda: audit_kinds(request).count(kind) >= count,
        timeout,
        message=f"no {count} audit row(s) of kind {kind} for request {request.pk}",
    )


def due(state: ApprovalState) -> datetime | None:
    return datetime.fromisoformat(state.due_at) if state.due_at else None


def new_id() -> str:
    return str(uuid.uuid4())
