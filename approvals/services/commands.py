"""Calls into a running workflow: Updates (withdraw, resubmit, extend) and the status query.

Every Temporal call goes through `temporal.client.call`, which waits at most
`TEMPORAL_CALL_TIMEOUT`; failures come back as `ServiceError` with a message
fit for the user. The workflow validator is the authority: this module only
says who the actor is.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from accounts.models import User
from accounts.selectors import delegators_for

from ..effects import projection
from ..models import ExpenseRequest
from ..temporal.client import TemporalUnavailable, call
from ..temporal.starter import cents
from ..workflow.contract import (
    Actor,
    ApprovalState,
    ExtendInput,
    ResubmitInput,
    WithdrawInput,
    workflow_id,
)
from .common import UNAVAILABLE, ServiceError


def actor_for(user: User) -> Actor:
    return Actor(
        username=user.username,
        display=user.display_name,
        role=user.get_role_display() if not user.is_superuser else "admin",
        is_admin=user.is_superuser,
        delegate_for=delegators_for(delegate=user),
    )


def _refusal_message(exc: BaseException) -> str:
    cause = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.message
        cause = cause.__cause__
    return str(exc)


def _update(
    request: ExpenseRequest, name: str, arg, *, update_id: str | None = None, project: bool = True
) -> ApprovalState:
    handle_id = workflow_id(request.pk)

    async def run(client: Client) -> ApprovalState:
        handle = client.get_workflow_handle(handle_id)
        return await handle.execute_update(
            name, arg, id=update_id or str(uuid.uuid4()), result_type=ApprovalState
        )

    if request.workflow_started_at is None:
        raise ServiceError("This request has not started yet; it will start automatically shortly.")
    try:
        state = call(run)
    except WorkflowUpdateFailedError as exc:
        raise ServiceError(_refusal_message(exc)) from exc
    except (TemporalUnavailable, RPCTimeoutOrCancelledError) as exc:
        raise ServiceError(UNAVAILABLE) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ServiceError("This request is no longer awaiting any action.") from exc
        if exc.status == RPCStatusCode.FAILED_PRECONDITION or "completed" in exc.message.lower():
            raise ServiceError("This request is already closed.") from exc
        raise ServiceError(UNAVAILABLE) from exc
    if project:
        # A redirect to the detail page shows the new state at once; the
        # activity writes the same later. Callers that render from the answer
        # itself skip this write (it was a third of a decision's time).
        projection.apply_state(state)
    return state


def expense_withdraw(*, request: ExpenseRequest, actor: User, reason: str = "") -> ApprovalState:
    return _update(request, "withdraw", WithdrawInput(actor=actor_for(actor), reason=reason))


def expense_resubmit(
    *, request: ExpenseRequest, actor: User, title: str, amount: Decimal, comment: str = ""
) -> ApprovalState:
    return _update(
        request,
        "resubmit",
        ResubmitInput(
            actor=actor_for(actor), title=title, amount_cents=cents(amount), comment=comment
        ),
    )


def deadline_extend(
    *, request: ExpenseRequest, actor: User, seconds: int, reason: str = ""
) -> ApprovalState:
    return _update(
        request,
        "extend_deadline",
        ExtendInput(actor=actor_for(actor), seconds=seconds, reason=reason),
    )


def status_query(request: ExpenseRequest, *, timeout: float | None = None) -> ApprovalState:
    async def run(client: Client) -> ApprovalState:
        handle = client.get_workflow_handle(workflow_id(request.pk))
        return await handle.query("get_status", result_type=ApprovalState)

    return call(run, timeout=timeout)


def status_query_quietly(request: ExpenseRequest) -> ApprovalState | None:
    try:
        return status_query(request)
    except Exception:  # noqa: BLE001 - a live view is optional; the projection stands in
        return None
