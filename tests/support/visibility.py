"""The request as Temporal visibility lists it (eventually consistent: poll)."""

from __future__ import annotations

import contextlib
import time

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from approvals.models import ExpenseRequest
from approvals.temporal.client import call
from approvals.workflow.contract import (
    SA_AMOUNT,
    SA_DUE,
    SA_PENDING,
    SA_REQUESTER,
    SA_STATUS,
    workflow_id,
)


def visibility(request: ExpenseRequest) -> dict | None:
    """The request's search attributes and memo (None while it is not indexed yet)."""

    async def run(client):
        query = f"WorkflowId = '{workflow_id(request.pk)}'"
        async for execution in client.list_workflows(query):
            attrs = execution.typed_search_attributes
            return {
                "ApprovalStatus": attrs.get(SA_STATUS),
                "PendingApprovers": list(attrs.get(SA_PENDING) or []),
                "Requester": attrs.get(SA_REQUESTER),
                "AmountCents": attrs.get(SA_AMOUNT),
                "DecisionDueAt": attrs.get(SA_DUE),
                "memo": await execution.memo(),
                "running": execution.status == WorkflowExecutionStatus.RUNNING,
            }
        return None

    return call(run)


def wait_visible(request: ExpenseRequest, timeout: float = 20, **expected) -> dict:
    """Poll visibility until every expected field matches."""
    seen: list = [None]

    def check():
        row = seen[0] = visibility(request)
        if row is None:
            return None
        memo = expected.get("memo", {})
        fields_ok = all(row[k] == v for k, v in expected.items() if k != "memo")
        memo_ok = all(row["memo"].get(k) == v for k, v in memo.items())
        return row if fields_ok and memo_ok else None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = check()
        if row:
            return row
        time.sleep(0.1)
    pytest.fail(f"visibility of request {request.pk} never showed {expected}; last: {seen[0]}")


def clear_inbox(username: str, timeout: float = 20) -> None:
    """Terminate what earlier tests left running for `username` on the session's dev
    server (their workers are gone; visibility is not scoped by task queue), and wait
    until visibility lists none, so a test can count the rows of its own inbox."""
    query = f"PendingApprovers = '{username}' AND ExecutionStatus = 'Running'"

    async def terminate(client):
        async for execution in client.list_workflows(query):
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            with contextlib.suppress(RPCError):  # ended meanwhile
                await handle.terminate(reason="test isolation: left by an earlier test")
        return (await client.count_workflows(query)).count

    deadline = time.monotonic() + timeout
    while call(terminate):
        if time.monotonic() > deadline:
            pytest.fail(f"workflows pending on {username} never left visibility")
        time.sleep(0.1)
