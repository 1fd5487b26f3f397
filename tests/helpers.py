"""Helpers for tests that drive requests through the real services."""

from __future__ import annotations

from decimal import Decimal

from approvals import services
from approvals.models import ExpenseRequest
from approvals.temporal.shared import ApprovalState

from .conftest import wait_for


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
