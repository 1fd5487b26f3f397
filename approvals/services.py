"""Writes: submitting requests, starting workflows, and sending decisions.

Every Temporal call goes through `temporal.client.call`, which waits at most
`TEMPORAL_CALL_TIMEOUT`; failures come back as `ServiceError` with a message
fit for the user. The workflow validator is the authority on decisions: this
module only says who the actor is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from accounts.models import User
from accounts.selectors import delegators_for

from . import projection
from .models import ApprovalPolicy, ExpenseRequest, RequestStatus
from .temporal.client import TemporalUnavailable, call
from .temporal.shared import (
    SA_AMOUNT,
    SA_REQUESTER,
    SA_STATUS,
    WORKFLOW_TYPE,
    Actor,
    ApprovalInput,
    ApprovalState,
    DecisionInput,
    ExtendInput,
    PolicySnapshot,
    ResubmitInput,
    Status,
    WithdrawInput,
    workflow_id,
)

log = logging.getLogger(__name__)

UNAVAILABLE = (
    "The approval service is not reachable right now. "
    "Nothing was changed; please try again in a moment."
)


class ServiceError(Exception):
    """A refusal or failure with a message for the user."""


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def policy_snapshot() -> PolicySnapshot:
    policy = ApprovalPolicy.current()
    sla = settings.APPROVAL_SLA_SECONDS
    return PolicySnapshot(
        two_levels_from_cents=_cents(policy.two_levels_from),
        three_levels_from_cents=_cents(policy.three_levels_from),
        max_amount_cents=_cents(policy.max_amount),
        sla_seconds=sla,
        reminder_seconds=settings.APPROVAL_REMINDER_SECONDS,
        max_escalations=policy.max_escalations,
    )


def actor_for(user: User) -> Actor:
    return Actor(
        username=user.username,
        display=user.display_name,
        role=user.get_role_display() if not user.is_superuser else "admin",
        is_admin=user.is_superuser,
        delegate_for=delegators_for(delegate=user),
    )


# ------------------------------------------------------------------ submit
@transaction.atomic
def expense_submit(
    *,
    requester: User,
    title: str,
    amount: Decimal,
    currency: str,
    category: str,
    description: str = "",
    receipt=None,
) -> ExpenseRequest:
    """Save the request; its workflow starts after commit (or later, by the reconciler)."""
    request = ExpenseRequest(
        requester=requester,
        title=title,
        amount=amount,
        currency=currency,
        category=category,
        description=description,
        status=RequestStatus.QUEUED,
        policy_snapshot=dataclasses.asdict(policy_snapshot()),
    )
    if receipt is not None:
        request.receipt = receipt
    request.full_clean(exclude=["receipt"])
    request.save()
    transaction.on_commit(lambda: workflow_start_quietly(request_id=request.pk))
    return request


def workflow_input(request: ExpenseRequest) -> ApprovalInput:
    snapshot = (
        PolicySnapshot(**request.policy_snapshot) if request.policy_snapshot else policy_snapshot()
    )
    return ApprovalInput(
        request_id=request.pk,
        requester=request.requester.username,
        requester_display=request.requester.display_name,
        title=request.title,
        amount_cents=request.amount_cents,
        currency=request.currency,
        submitted_at=request.created_at.isoformat(),
        policy=snapshot,
    )


async def _start(client: Client, inp: ApprovalInput) -> None:
    # Already started by an earlier attempt is exactly what we wanted.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            WORKFLOW_TYPE,
            inp,
            id=workflow_id(inp.request_id),
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            # One workflow per request, ever: a retry can never start a second.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={
                "title": inp.title,
                "requester_display": inp.requester_display,
                "amount_cents": inp.amount_cents,
                "currency": inp.currency,
                "submitted_at": inp.submitted_at,
            },
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_STATUS, Status.PENDING),
                    SearchAttributePair(SA_REQUESTER, inp.requester),
                    SearchAttributePair(SA_AMOUNT, inp.amount_cents),
                ]
            ),
        )


def workflow_start(*, request_id: int) -> None:
    """Start the request's workflow (idempotent). Raises TemporalUnavailable."""
    request = ExpenseRequest.objects.select_related("requester").get(pk=request_id)
    if request.workflow_started_at is not None:
        return
    inp = workflow_input(request)
    try:
        call(lambda client: _start(client, inp))
    except RPCError as exc:
        raise TemporalUnavailable(str(exc)) from exc
    ExpenseRequest.objects.filter(pk=request_id, workflow_started_at__isnull=True).update(
        workflow_started_at=timezone.now()
    )
    ExpenseRequest.objects.filter(pk=request_id, status=RequestStatus.QUEUED, state_seq=0).update(
        status=RequestStatus.PENDING
    )


def workflow_start_quietly(*, request_id: int) -> bool:
    try:
        workflow_start(request_id=request_id)
        return True
    except TemporalUnavailable:
        log.warning("request %s stays queued: Temporal unavailable", request_id)
        return False


def reconcile_queued(*, limit: int = 200) -> int:
    """Start workflows for requests saved while Temporal was away. Returns how many."""
    started = 0
    queued = ExpenseRequest.objects.filter(workflow_started_at__isnull=True).order_by("pk")
    for request_id in queued.values_list("pk", flat=True)[:limit]:
        try:
            if not workflow_start_quietly(request_id=request_id):
                break  # Temporal is away: the next pass tries again
        except Exception:  # one bad request must not block those queued after it
            log.exception("could not start the workflow of request %s", request_id)
            continue
        started += 1
    return started


# --------------------------------------------------------------- decisions
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


def decision_record(
    *,
    request: ExpenseRequest,
    actor: User,
    action: str,
    comment: str = "",
    decision_id: str | None = None,
    level: int = 0,
    override: bool = False,
    project: bool = True,
) -> ApprovalState:
    """Send a decision Update; returns the new state or raises ServiceError(refusal).

    `project=False` leaves the Django projection to the worker's activity (for
    callers that render from the returned state, such as an inbox row)."""
    decision_id = decision_id or str(uuid.uuid4())
    decision = DecisionInput(
        decision_id=decision_id,
        actor=actor_for(actor),
        action=action,
        comment=comment,
        level=level,
        override=override,
    )
    try:
        return _update(
            request, "decide", decision, update_id=f"decide-{decision_id}", project=project
        )
    except ServiceError:
        # A repeat of a decision that closed the workflow: answer as the first time.
        state = status_query_quietly(request)
        if state is not None and any(d.decision_id == decision_id for d in state.decisions):
            return state
        raise


def decision_signal(
    *,
    request: ExpenseRequest,
    actor: User,
    action: str,
    comment: str,
    decision_id: str,
    level: int = 0,
) -> None:
    """Fire-and-forget decision (e.g. from an email link); the workflow records refusals.

    `level` is the level the link was made for, so a late click never lands on a later level.
    """
    decision = DecisionInput(
        decision_id=decision_id,
        actor=actor_for(actor),
        action=action,
        comment=comment,
        level=level,
    )

    async def run(client: Client) -> None:
        await client.get_workflow_handle(workflow_id(request.pk)).signal("decide_signal", decision)

    try:
        call(run)
    except TemporalUnavailable as exc:
        raise ServiceError(UNAVAILABLE) from exc
    except RPCError as exc:
        raise ServiceError("This request is no longer awaiting any action.") from exc


def expense_withdraw(*, request: ExpenseRequest, actor: User, reason: str = "") -> ApprovalState:
    return _update(request, "withdraw", WithdrawInput(actor=actor_for(actor), reason=reason))


def expense_resubmit(
    *, request: ExpenseRequest, actor: User, title: str, amount: Decimal, comment: str = ""
) -> ApprovalState:
    return _update(
        request,
        "resubmit",
        ResubmitInput(
            actor=actor_for(actor), title=title, amount_cents=_cents(amount), comment=comment
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
