"""The Payout saga (child of an approved ExpenseApproval) and the weekly PayoutRun.

Payout, id `payout-<request>`: reserve the EUR amount on the requester's
cost-centre budget -> post the double-entry ledger lines -> add the payment to
the open batch -> wait for the payout run's `settle` signal (paid, or failed at
file time). Each step's compensation is pushed before the step runs (a step
that failed half-way is undone too; compensations are idempotent and undo only
what their own keyed rows say happened), and on any failure - a permanent
error of a step (ApplicationError non_retryable, its `type` a payouts code), a
transient one that outlasted the bounded retries, the run's "failed" signal,
or cancellation - they run in reverse order in a task shielded from
cancellation (`asyncio.shield`: a cancel request cannot cut a rollback short).
Then the payment is marked failed with the code and the requester and admins
are told, and the workflow fails, so /ops/ "retry payout" may start a fresh
saga (round + 1) under the same id once the cause is mended.

PayoutRun: closes the open batch for its period (from the scheduled start
time: one batch per period, whatever the number of runs), writes and
validates the SEPA file, marks the payments paid, then signals every Payout
of the batch with its own run id.

Imports no Django: the sandbox re-imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from .contract import (
        GET_PAYOUT,
        PAYOUT_RUN_WORKFLOW,
        PAYOUT_WORKFLOW,
        SETTLE_SIGNAL,
        Closed,
        CloseRequest,
        Failure,
        FileResult,
        Outcome,
        PayoutCalls,
        PayoutInput,
        PayoutRunInput,
        PayoutStatus,
        RunResult,
        Settle,
        Step,
        StepInput,
        payout_id,
    )

# Transient errors (database away, a deadlock) are retried a bounded number of times.
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
)
# A compensation must end: retried until it does (listed on /ops/ from the 3rd attempt).
UNDO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
TIMEOUT = timedelta(seconds=30)
# Set by a Schedule on the runs it starts: the period the run is for.
_SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

DO = {
    Step.BUDGET: PayoutCalls.RESERVE_BUDGET,
    Step.LEDGER: PayoutCalls.POST_LEDGER,
    Step.BATCH: PayoutCalls.ADD_TO_BATCH,
}
UNDO = {
    Step.BUDGET: PayoutCalls.RELEASE_BUDGET,
    Step.LEDGER: PayoutCalls.REVERSE_LEDGER,
    Step.BATCH: PayoutCalls.REMOVE_FROM_BATCH,
}


def failure_code(exc: BaseException) -> str:
    """The payouts code of a failed step: its ApplicationError type, else 'unavailable'."""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    if isinstance(cause, ApplicationError) and cause.type in Failure.PERMANENT:
        return cause.type
    return Failure.UNAVAILABLE


@workflow.defn(name=PAYOUT_WORKFLOW)
class PayoutWorkflow:
    def __init__(self) -> None:
        self.status = PayoutStatus.PROCESSING
        self.reason = ""
        self.settled: Settle | None = None
        self.done: list[str] = []  # steps started, in order
        self.compensated: list[str] = []

    @workflow.signal(name=SETTLE_SIGNAL)
    def settle(self, s: Settle) -> None:
        if self.settled is None:  # the first word counts; a repeated run says it again
            self.settled = s

    @workflow.query(name=GET_PAYOUT)
    def get_payout(self) -> Outcome:
        return Outcome(0, 0, self.status, self.reason, compensated=list(self.compensated))

    @workflow.run
    async def run(self, inp: PayoutInput) -> Outcome:
        compensations: list[str] = []
        try:
            for step in Step.ORDER:
                compensations.append(step)  # registered before the step runs
                self.done.append(step)
                await workflow.execute_activity(
                    DO[step],
                    self._step(inp, step),
                    start_to_close_timeout=TIMEOUT,
                    retry_policy=STEP_RETRY,
                )
            self.status = PayoutStatus.SCHEDULED
            await workflow.wait_condition(lambda: self.settled is not None)
            assert self.settled is not None
            if self.settled.paid:
                self.status = PayoutStatus.PAID
                return Outcome(
                    inp.request_id, inp.round, PayoutStatus.PAID, run_id=self.settled.run_id
                )
            self.reason = self.settled.reason or Failure.INVALID_IBAN
        except ActivityError as exc:
            self.reason = failure_code(exc)
        except asyncio.CancelledError:
            self.reason = Failure.CANCELLED
            await self._roll_back(inp, compensations)
            raise
        await self._roll_back(inp, compensations)
        raise ApplicationError(
            f"payout of request {inp.request_id} failed: {self.reason}",
            Outcome(
                inp.request_id,
                inp.round,
                PayoutStatus.FAILED,
                self.reason,
                compensated=list(self.compensated),
            ),
            type=self.reason,
            non_retryable=True,
        )

    def _step(self, inp: PayoutInput, step: str) -> StepInput:
        return StepInput(inp.request_id, inp.round, inp.requester, inp.amount_cents, step)

    async def _roll_back(self, inp: PayoutInput, compensations: list[str]) -> None:
        task = asyncio.ensure_future(self._compensate(inp, compensations))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await task  # the rollback finishes whatever was asked meanwhile
            raise

    async def _compensate(self, inp: PayoutInput, compensations: list[str]) -> None:
        for step in reversed(compensations):
            undone = await workflow.execute_activity(
                UNDO[step],
                self._step(inp, step),
                result_type=bool,
                start_to_close_timeout=TIMEOUT,
                retry_policy=UNDO_RETRY,
            )
            if undone:
                self.compensated.append(step)
        self.status = PayoutStatus.FAILED
        await workflow.execute_activity(
            PayoutCalls.RECORD_OUTCOME,
            Outcome(
                inp.request_id,
                inp.round,
                PayoutStatus.FAILED,
                self.reason,
                compensated=list(self.compensated),
            ),
            start_to_close_timeout=TIMEOUT,
            retry_policy=UNDO_RETRY,
        )


@workflow.defn(name=PAYOUT_RUN_WORKFLOW)
class PayoutRunWorkflow:
    @workflow.run
    async def run(self, inp: PayoutRunInput) -> RunResult:
        period = inp.period or self._period()
        closed: Closed = await workflow.execute_activity(
            PayoutCalls.CLOSE_BATCH,
            CloseRequest(period=period, run_id=workflow.info().workflow_id),
            result_type=Closed,
            start_to_close_timeout=TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        if closed.batch_id is None:
            return RunResult(period=period, batch_id=None)
        result: FileResult = await workflow.execute_activity(
            PayoutCalls.WRITE_FILE,
            closed.batch_id,
            result_type=FileResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=STEP_RETRY,
        )
        run_id = workflow.info().workflow_id
        failed = {f.request_id: f.reason for f in result.failed}
        for request_id in [*result.paid, *failed]:
            handle = workflow.get_external_workflow_handle(payout_id(request_id))
            settle = Settle(
                run_id, closed.batch_id, request_id not in failed, failed.get(request_id, "")
            )
            # Not running any more (settled by an earlier run of this period): nothing waits.
            with contextlib.suppress(Exception):
                await handle.signal(SETTLE_SIGNAL, settle)
        return RunResult(period, closed.batch_id, result.paid, result.failed)

    def _period(self) -> str:
        """The period: the scheduled start time (a Schedule's action), else the run's start."""
        info = workflow.info()
        at = info.typed_search_attributes.get(_SCHEDULED_AT) or workflow.now()
        return at.strftime("%Y-%m-%dT%H:%MZ")
