"""Fixtures and helpers for the ExpenseApproval workflow tests.

Everything runs on the real dev server with the real worker and activities
(see tests/conftest.py); only test_time_skipping.py replaces activities, as it
is about the workflow alone.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone
from temporalio.client import WorkflowExecutionStatus

from accounts.models import Delegation, Role, User
from approvals import services
from approvals.models import AuditEntry, ExpenseRequest
from approvals.temporal.client import call
from approvals.workflow.contract import (
    SA_AMOUNT,
    SA_DUE,
    SA_PENDING,
    SA_REQUESTER,
    SA_STATUS,
    ApprovalState,
    workflow_id,
)
from tests.conftest import wait_for
from tests.helpers import state_of


@pytest.fixture
def fast_timers(settings):
    """A 3 s level deadline with a reminder after 1 s (read by services.policy_snapshot)."""
    settings.APPROVAL_SLA_SECONDS = 3
    settings.APPROVAL_REMINDER_SECONDS = 1
    return settings


@pytest.fixture
def admin2(demo_org):
    user = User.objects.create_user(
        "admin2", "admin2@example.com", "demo", first_name="Alex", last_name="Admin"
    )
    user.is_superuser = user.is_staff = True
    user.role = Role.ADMIN
    user.save()
    return user


def delegate(principal: User, to: User) -> Delegation:
    today = timezone.localdate()
    return Delegation.objects.create(
        user=principal, delegate=to, starts_on=today - timedelta(days=1), ends_on=today
    )


def decide(request: ExpenseRequest, user: User, action: str = "approve", **kw) -> ApprovalState:
    return services.decision_record(request=request, actor=user, action=action, **kw)


def refusal(request: ExpenseRequest, user: User, action: str = "approve", **kw) -> str:
    """The message a refused decision gives the user (fails the test if it is accepted)."""
    with pytest.raises(services.ServiceError) as info:
        decide(request, user, action, **kw)
    return str(info.value)


def wait_closed(request: ExpenseRequest, status: str, timeout: float = 30) -> ApprovalState:
    """Wait until the workflow reports `status` and the projection caught up."""

    def check():
        state = state_of(request)
        request.refresh_from_db()
        return state if state.status == status and request.status == status else None

    return wait_for(check, timeout, message=f"request {request.pk} never became {status}")


def audit_kinds(request: ExpenseRequest) -> list[str]:
    return list(AuditEntry.objects.filter(request=request).values_list("kind", flat=True))


def wait_audit(request: ExpenseRequest, kind: str, count: int = 1, timeout: float = 20):
    return wait_for(
        lambda: audit_kinds(request).count(kind) >= count,
        timeout,
        message=f"no {count} audit row(s) of kind {kind} for request {request.pk}",
    )


def visibility(request: ExpenseRequest) -> dict | None:
    """The request as Temporal visibility lists it (None while it is not indexed yet)."""

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
    """Poll visibility (eventually consistent) until every expected field matches."""
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


def due(state: ApprovalState) -> datetime | None:
    return datetime.fromisoformat(state.due_at) if state.due_at else None


def at_the_same_time(*calls):
    """Run the calls in threads released together; returns (results, errors) by index."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # collected for the test to inspect
            errors[i] = exc
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def new_id() -> str:
    return str(uuid.uuid4())
