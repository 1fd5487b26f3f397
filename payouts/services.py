"""Payout writes from the web side: retry a failed payout (/ops/), retry a payout run
whose batch was left without a file (/ops/), start a payout run now.

Starting goes through the process's one Temporal client. A retry is a fresh
saga under the same id (`payout-<pk>`, reuse allowed only after a failed run)
with round + 1, so its rows never collide with those of the compensated round.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from approvals.temporal.client import call

from .models import Batch, Payment
from .workflow.contract import (
    PAYOUT_RUN_SCHEDULE_ID,
    PAYOUT_RUN_WORKFLOW,
    PAYOUT_WORKFLOW,
    PayoutInput,
    PayoutRunInput,
    PayoutStatus,
    RunResult,
    payout_id,
)


class PayoutError(Exception):
    """A retry that cannot happen now; `code` is worded by the view."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def payout_retry(*, request_id: int) -> int:
    """Start the next round of a failed payout; returns the round. Safe to repeat:
    a second click finds the new round running (already started) and says so."""
    payment = Payment.objects.filter(request_id=request_id).first()
    if payment is None:
        raise PayoutError("unknown")
    if payment.status != PayoutStatus.FAILED:
        raise PayoutError("not_failed")
    inp = PayoutInput(
        request_id=request_id,
        requester=payment.requester,
        amount_cents=payment.amount_cents,
        round=payment.round + 1,
    )

    async def start(client: Client) -> None:
        await client.start_workflow(
            PAYOUT_WORKFLOW,
            inp,
            id=payout_id(request_id),
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )

    try:
        call(start)
    except WorkflowAlreadyStartedError as exc:
        raise PayoutError("running") from exc
    return inp.round


def payout_run(*, period: str, wait: bool = True, timeout: float = 60) -> RunResult | None:
    """Run the payout for `period` now (tests, an operator); the schedule does it weekly."""

    async def run(client: Client):
        handle = await client.start_workflow(
            PAYOUT_RUN_WORKFLOW,
            PayoutRunInput(period=period),
            id=f"{PAYOUT_RUN_SCHEDULE_ID}-manual-{period}",
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            execution_timeout=timedelta(hours=1),
            result_type=RunResult,
        )
        return await handle.result() if wait else None

    return call(run, timeout=timeout)


def batch_close(*, batch_id: int, now=None) -> str:
    """Close the open batch now (from /payouts/): a payout run for a period named after
    this minute, as the weekly schedule's run would, writes its SEPA file and pays. The
    run takes the open batch; PayoutError `not_open` for any other batch, `empty` for an
    open batch without payments. Returns the period."""
    from django.utils import timezone

    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != Batch.Status.OPEN:
        raise PayoutError("not_open")
    if not batch.payments.exists():
        raise PayoutError("empty")
    period = (now or timezone.now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    try:
        payout_run(period=period, wait=False)
    except WorkflowAlreadyStartedError as exc:
        raise PayoutError("running") from exc
    return period


def batch_retry(*, batch_id: int) -> str:
    """Run the payout again for THIS closed batch (its own period), e.g. after its run
    failed or stopped before the file; returns the new run's workflow id. Safe to repeat:
    the file step writes a batch's file once, and a run already retrying it is refused."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != Batch.Status.CLOSED or not batch.period:
        raise PayoutError("not_closed")
    if batch.outcome:
        raise PayoutError("written")
    run_id = f"{PAYOUT_RUN_SCHEDULE_ID}-retry-batch-{batch.pk}"

    async def start(client: Client) -> None:
        await client.start_workflow(
            PAYOUT_RUN_WORKFLOW,
            PayoutRunInput(period=batch.period),
            id=run_id,
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            execution_timeout=timedelta(hours=1),
        )

    try:
        call(start)
    except WorkflowAlreadyStartedError as exc:
        raise PayoutError("running") from exc
    return run_id
