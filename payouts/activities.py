"""Activities of the Payout saga and the PayoutRun (bodies in payouts/steps.py, run.py),
run by the approvals worker through its port (payouts/extension.py: TemporalParts).

A `Permanent` failure becomes a non-retryable ApplicationError whose `type` is
the failure code (the workflow compensates and records it); everything else is
transient and retried by the workflow's bounded retry policy. The file step's
permanent errors (the company's account invalid, a file the schema refuses as a
whole) fail the run at once, their cause kept on the batch for /ops/. From the 3rd
failed attempt an activity is listed on /ops/ (with_db).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from temporalio import activity
from temporalio.exceptions import ApplicationError

from approvals.worker.activities import with_db

from . import run, steps
from .workflow.contract import (
    Closed,
    CloseRequest,
    FileResult,
    Outcome,
    PayoutCalls,
    StepInput,
)


def _permanent_as_non_retryable(fn: Callable) -> Callable:
    @wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except steps.Permanent as exc:
            raise ApplicationError(exc.code, exc.params, type=exc.code, non_retryable=True) from exc

    return wrapper


@activity.defn(name=PayoutCalls.RESERVE_BUDGET)
@with_db
@_permanent_as_non_retryable
def reserve_budget(s: StepInput) -> None:
    steps.reserve_budget(s)


@activity.defn(name=PayoutCalls.RELEASE_BUDGET)
@with_db
def release_budget(s: StepInput) -> bool:
    return steps.release_budget(s)


@activity.defn(name=PayoutCalls.POST_LEDGER)
@with_db
@_permanent_as_non_retryable
def post_ledger(s: StepInput) -> None:
    steps.post_ledger(s)


@activity.defn(name=PayoutCalls.REVERSE_LEDGER)
@with_db
def reverse_ledger(s: StepInput) -> bool:
    return steps.reverse_ledger(s)


@activity.defn(name=PayoutCalls.ADD_TO_BATCH)
@with_db
@_permanent_as_non_retryable
def add_to_batch(s: StepInput) -> None:
    steps.add_to_batch(s)


@activity.defn(name=PayoutCalls.REMOVE_FROM_BATCH)
@with_db
def remove_from_batch(s: StepInput) -> bool:
    return steps.remove_from_batch(s)


@activity.defn(name=PayoutCalls.RECORD_OUTCOME)
@with_db
def record_outcome(o: Outcome) -> None:
    steps.record_outcome(o)


@activity.defn(name=PayoutCalls.CLOSE_BATCH)
@with_db
def close_batch(req: CloseRequest) -> Closed:
    return run.close_batch(req)


@activity.defn(name=PayoutCalls.WRITE_FILE)
@with_db
@_permanent_as_non_retryable
def write_file(batch_id: int) -> FileResult:
    return run.write_file(batch_id)


PAYOUT_ACTIVITIES = [
    reserve_budget,
    release_budget,
    post_ledger,
    reverse_ledger,
    add_to_batch,
    remove_from_batch,
    record_outcome,
    close_batch,
    write_file,
]
