"""Starting a request's workflow: its input from the request row, the one id, the reconciler.

Submitting saves the row and starts the workflow after commit with the
deterministic id `expense-<pk>`; if Temporal is away the row stays `queued`
and `reconcile_queued` (run by the worker) starts it later. Both the web
tier and the worker use this module, so it lives below both.
"""

from __future__ import annotations

import contextlib
import logging
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from .. import money
from ..calendars import calendar_for, sla_working_seconds
from ..models import ApprovalPolicy, ExpenseRequest, PolicyVersion, RequestStatus
from ..policy.versions import cost_centre_code, effective_version, rules_of
from ..workflow.contract import (
    SA_AMOUNT,
    SA_REQUESTER,
    SA_STATUS,
    WORKFLOW_TYPE,
    ApprovalInput,
    LineInput,
    PolicySnapshot,
    Status,
    eur_cents_of,
    workflow_id,
)
from .client import TemporalUnavailable, call

log = logging.getLogger(__name__)


def cents(amount: Decimal) -> int:
    """EUR cents (the policy's amounts are in the base currency)."""
    return money.to_minor(amount, money.BASE_CURRENCY)


def policy_snapshot(version: PolicyVersion | None = None) -> PolicySnapshot:
    """The snapshot a request keeps: the thresholds and maximum of the published version
    in force (`version`, else today's), else of the legacy ApprovalPolicy row; the SLA."""
    policy = ApprovalPolicy.current()
    version = version or effective_version()
    sla = settings.APPROVAL_SLA_SECONDS
    if version is not None:
        rules = rules_of(version)
        thresholds = (
            rules.two_levels_from_cents,
            rules.three_levels_from_cents,
            rules.max_amount_cents,
        )
    else:
        thresholds = tuple(
            cents(a) for a in (policy.two_levels_from, policy.three_levels_from, policy.max_amount)
        )
    return PolicySnapshot(
        two_levels_from_cents=thresholds[0],
        three_levels_from_cents=thresholds[1],
        max_amount_cents=thresholds[2],
        sla_seconds=sla,
        reminder_seconds=settings.APPROVAL_REMINDER_SECONDS,
        max_escalations=policy.max_escalations,
        # Unless APPROVAL_SLA_SECONDS is set (plain time: tests, demos), a level's deadline
        # is 16 working hours of its approver's calendar, the reminder after half of them.
        sla_working_seconds=0 if settings.APPROVAL_SLA_PLAIN_TIME else sla_working_seconds(),
        reminder_working_seconds=(
            0 if settings.APPROVAL_SLA_PLAIN_TIME else sla_working_seconds() // 2
        ),
    )


def current_max_amount() -> Decimal:
    """The maximum (EUR) of the policy in force today: the new-request form's bound."""
    return money.from_minor(policy_snapshot().max_amount_cents, money.BASE_CURRENCY)


def line_inputs(request: ExpenseRequest) -> list[LineInput]:
    """The report's lines as the workflow needs them (amounts only; content stays here).

    A one-line report is the request's own amount (its headline is that line's); none
    (a request saved before lines existed) is [] (the workflow makes one line of it).
    Uses `request.lines.all()`, so a caller may prefetch them."""
    lines = list(request.lines.all())
    if len(lines) == 1:
        only = lines[0]
        base = eur_cents_of(request)
        return [LineInput(1, request.amount_cents, request.currency, base, only.category)]
    out = []
    for line in lines:
        base = line.base_amount_cents
        if base is None:  # not pinned: EUR, or the report's own currency at its rate (no
            # rate at all: as before rates existed, the amount counts as if it were EUR)
            rate = request.fx_rate if line.currency == request.currency else None
            base = money.to_base_cents(line.amount, line.currency, rate or Decimal(1))
        out.append(LineInput(line.position, line.amount_cents, line.currency, base, line.category))
    return out


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
        # Every client of ours encrypts (codec.py): only our payloads may decide.
        authenticated_decisions=True,
        # 0 / "" only for a request saved before rates existed (the workflow then
        # compares amount_cents as before).
        base_amount_cents=request.base_amount_cents or 0,
        fx_rate=str(request.fx_rate) if request.fx_rate is not None else "",
        fx_rate_date=request.fx_rate_date.isoformat() if request.fx_rate_date else "",
        # The pinned policy version and the facts its rules read ("" = no version).
        policy_version=str(request.policy_version) if request.policy_version else "",
        category=request.category,
        cost_centre=cost_centre_code(request),
        lines=line_inputs(request),
        # The organisation's calendar, pinned with the run (people with their own come
        # with the route); only for a working-time SLA.
        calendar=calendar_for(None) if snapshot.sla_working_seconds else None,
    )


def resubmitted_line_inputs(lines) -> list[LineInput]:
    """A resubmitted report's lines (each pinned as it was saved): amounts only, no content."""
    return [
        LineInput(
            n=line.position,
            amount_cents=line.amount_cents,
            currency=line.currency,
            base_amount_cents=line.base_amount_cents or 0,
            category=line.category,
        )
        for line in lines
    ]


async def start_workflow(client: Client, inp: ApprovalInput) -> None:
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
                # EUR cents and the pinned rate, for the inbox row (no query per row).
                "base_amount_cents": inp.base_amount_cents,
                "fx_rate": inp.fx_rate,
                "fx_rate_date": inp.fx_rate_date,
            },
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_STATUS, Status.PENDING),
                    SearchAttributePair(SA_REQUESTER, inp.requester),
                    # AmountCents is in EUR cents (the base currency), whatever the currency.
                    SearchAttributePair(SA_AMOUNT, eur_cents_of(inp)),
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
        call(lambda client: start_workflow(client, inp))
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
