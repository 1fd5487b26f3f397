"""Helpers for tests that drive requests through the real services."""

from __future__ import annotations

from decimal import Decimal

from approvals import services
from approvals.models import ExpenseRequest
from approvals.temporal import client as temporal_client
from approvals.workflow.contract import ApprovalState, workflow_id

from .conftest import free_port, wait_for


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


def wait_state(request, predicate, timeout: float = 20) -> ApprovalState:
    return wait_for(lambda: (lambda s: s if predicate(s) else None)(state_of(request)), timeout)


def wait_status(request: ExpenseRequest, status: str, timeout: float = 20) -> ExpenseRequest:
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


def take_temporal_down(settings) -> None:
    """Point this process's Temporal client at a port where nothing listens."""
    settings.TEMPORAL_ADDRESS = f"127.0.0.1:{free_port()}"
    temporal_client.reset_client()


def bring_temporal_back(settings, server) -> None:
    settings.TEMPORAL_ADDRESS = server.address
    temporal_client.reset_client()


def describe(request_id: int):
    """The request's workflow execution as the server describes it."""

    async def run(client):
        return await client.get_workflow_handle(workflow_id(request_id)).describe()

    return temporal_client.call(run)
