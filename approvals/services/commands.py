"""Calls into a running workflow: Updates (withdraw, resubmit, extend) and the status query.

Every Temporal call goes through `temporal.client.call`, which waits at most
`TEMPORAL_CALL_TIMEOUT`; failures come back as `ServiceError` with a message
fit for the user. The workflow validator is the authority: this module only
says who the actor is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from accounts.models import User
from accounts.selectors import delegators_for

from .. import money
from ..amounts import decimals_error
from ..effects import projection
from ..labels import WORDS, ServiceCode
from ..lines import LineData
from ..models import ExpenseRequest, RequestStatus
from ..temporal.client import TemporalUnavailable, call
from ..temporal.starter import resubmitted_line_inputs
from ..workflow.contract import (
    Actor,
    ApprovalState,
    ExtendInput,
    ResubmitInput,
    WithdrawInput,
    workflow_id,
)
from ..workflow.workflow import ExpenseApprovalWorkflow
from . import requests as reports
from .common import ServiceError


def actor_for(user: User) -> Actor:
    return Actor(
        username=user.username,
        display=user.display_name,
        role=user.get_role_display() if not user.is_superuser else "admin",
        is_admin=user.is_superuser,
        delegate_for=delegators_for(delegate=user),
    )


def refusal_of(exc: BaseException) -> ServiceError:
    """The workflow's refusal (code + parameters) inside a failed Update."""
    cause = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            details = cause.details
            params = details[0] if details and isinstance(details[0], dict) else {}
            if cause.type in WORDS:
                return ServiceError(cause.type, params)
            return ServiceError(ServiceCode.UNKNOWN, {"detail": cause.message})
        cause = cause.__cause__
    return ServiceError(ServiceCode.UNKNOWN, {"detail": str(exc)})


def _update(
    request: ExpenseRequest, update, arg, *, update_id: str | None = None, project: bool = True
) -> ApprovalState:
    """Run `update` (a handler of ExpenseApprovalWorkflow, by reference) with `arg`."""
    handle_id = workflow_id(request.pk)

    async def run(client: Client) -> ApprovalState:
        handle = client.get_workflow_handle_for(ExpenseApprovalWorkflow.run, handle_id)
        return await handle.execute_update(update, arg, id=update_id or str(uuid.uuid4()))

    if request.workflow_started_at is None:
        raise ServiceError(ServiceCode.NOT_STARTED)
    try:
        state = call(run)
    except WorkflowUpdateFailedError as exc:
        raise refusal_of(exc) from exc
    except (TemporalUnavailable, RPCTimeoutOrCancelledError) as exc:
        raise ServiceError(ServiceCode.UNAVAILABLE) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ServiceError(ServiceCode.NO_LONGER_AWAITING) from exc
        if exc.status == RPCStatusCode.FAILED_PRECONDITION or "completed" in exc.message.lower():
            raise ServiceError(ServiceCode.ALREADY_CLOSED) from exc
        raise ServiceError(ServiceCode.UNAVAILABLE) from exc
    if project:
        # A redirect to the detail page shows the new state at once; the
        # activity writes the same later. Callers that render from the answer
        # itself skip this write (it was a third of a decision's time).
        projection.apply_state(state)
    return state


def expense_withdraw(*, request: ExpenseRequest, actor: User, reason: str = "") -> ApprovalState:
    return _update(
        request,
        ExpenseApprovalWorkflow.withdraw,
        WithdrawInput(actor=actor_for(actor), reason=reason),
    )


def expense_resubmit(
    *,
    request: ExpenseRequest,
    actor: User,
    title: str,
    amount: Decimal | None = None,
    comment: str = "",
    lines: Sequence[LineData] | None = None,
) -> ApprovalState:
    """Resubmit after changes were requested.

    With `lines` (the edited report: kept lines name their `origin`, new ones none)
    the lines are replaced, each converted at the report's pinned rates, a new round
    is kept for "what changed", and the workflow gets the lines and the new total,
    all in one transaction: a refusal by the workflow leaves the report as it was.
    Without, the flat `amount` is the new amount of a one-line report.

    Raises ValidationError (keyed by field, `lines.<n>.<field>` for a line) for decimals
    the currency does not have, a currency without a rate or a total above the maximum.
    """
    if lines is None:
        if amount is None:
            raise ValueError("a flat resubmission needs an amount")
        if request.lines.count() > 1:
            raise ValidationError(
                {"amount": [_("This report has several lines: resubmit its lines.")]}
            )
        if money.has_too_many_decimals(amount, request.currency):
            raise ValidationError({"amount": [decimals_error(request.currency)]})
        base = base_cents_at_pinned_rate(request, amount)
        state = _update(
            request,
            ExpenseApprovalWorkflow.resubmit,
            ResubmitInput(
                actor=actor_for(actor),
                title=title,
                amount_cents=money.to_minor(amount, request.currency),
                comment=comment,
                base_amount_cents=base,
            ),
        )
        # One line, one amount: once the workflow took it, the line follows (its
        # currency is the request's); a refusal leaves the line as it was.
        line = request.lines.first()
        if line is not None and line.amount != amount:
            request.lines.filter(pk=line.pk).update(amount=amount, base_amount_cents=base)
        return state
    if request.status != RequestStatus.CHANGES_REQUESTED:
        # The workflow says no in its words; nothing is written first.
        return _update(
            request,
            ExpenseApprovalWorkflow.resubmit,
            ResubmitInput(
                actor=actor_for(actor),
                title=title,
                amount_cents=request.amount_cents,
                comment=comment,
                base_amount_cents=request.base_amount_cents or 0,
            ),
        )
    with transaction.atomic():
        locked = ExpenseRequest.objects.select_for_update().get(pk=request.pk)
        head, rows = reports.replace_lines(locked, lines)
        state = _update(
            locked,
            ExpenseApprovalWorkflow.resubmit,
            ResubmitInput(
                actor=actor_for(actor),
                title=title,
                amount_cents=money.to_minor(head.amount, head.currency),
                comment=comment,
                base_amount_cents=head.base_amount_cents,
                lines=resubmitted_line_inputs(rows),
            ),
        )
    request.refresh_from_db()
    return state


def base_cents_at_pinned_rate(request: ExpenseRequest, amount: Decimal) -> int:
    """EUR cents of `amount` at the request's pinned rate (0 if it has none: legacy)."""
    if request.currency == money.BASE_CURRENCY:
        return money.to_minor(amount, money.BASE_CURRENCY)
    if request.fx_rate is None:
        return 0
    return money.to_base_cents(amount, request.currency, request.fx_rate)


def deadline_extend(
    *, request: ExpenseRequest, actor: User, seconds: int, reason: str = ""
) -> ApprovalState:
    return _update(
        request,
        ExpenseApprovalWorkflow.extend_deadline,
        ExtendInput(actor=actor_for(actor), seconds=seconds, reason=reason),
    )


def status_query(request: ExpenseRequest, *, timeout: float | None = None) -> ApprovalState:
    async def run(client: Client) -> ApprovalState:
        handle = client.get_workflow_handle_for(
            ExpenseApprovalWorkflow.run, workflow_id(request.pk)
        )
        return await handle.query(ExpenseApprovalWorkflow.get_status)

    return call(run, timeout=timeout)


def workflow_state(request: ExpenseRequest) -> ApprovalState:
    """The workflow's own state now, or ServiceError in the web tier's words: not started
    (no run yet, or Temporal does not know it) or unavailable (down, timed out)."""
    if request.workflow_started_at is None:
        raise ServiceError(ServiceCode.NOT_STARTED)
    try:
        return status_query(request)
    except TemporalUnavailable as exc:
        raise ServiceError(ServiceCode.UNAVAILABLE) from exc
    except RPCError as exc:
        code = ServiceCode.NOT_STARTED
        if exc.status != RPCStatusCode.NOT_FOUND:
            code = ServiceCode.UNAVAILABLE
        raise ServiceError(code) from exc


def status_query_quietly(request: ExpenseRequest) -> ApprovalState | None:
    try:
        return status_query(request)
    except Exception:  # noqa: BLE001 - a live view is optional; the projection stands in
        return None
