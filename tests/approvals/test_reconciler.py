"""The reconciler: requests saved while Temporal was away start once it is back, once."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError

from approvals.models import ExpenseRequest
from approvals.temporal import client as temporal_client
from approvals.temporal import starter
from approvals.workflow.contract import workflow_id
from tests.support.requests import describe, start_again, submit, wait_pending_level, wait_status
from tests.support.servers import WorkerThread, bring_temporal_back, take_temporal_down
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def executions_of(request_id: int) -> int:
    """How many runs visibility lists under the request's workflow id (any status)."""

    async def run(client):
        return (await client.count_workflows(f"WorkflowId = '{workflow_id(request_id)}'")).count

    return temporal_client.call(run)


def assert_exactly_one_workflow(request: ExpenseRequest) -> None:
    description = describe(request.pk)
    assert description.status == WorkflowExecutionStatus.RUNNING

    with pytest.raises(WorkflowAlreadyStartedError):
        start_again(request)
    # Visibility lags: wait until it lists the run, then it must be the only one.
    assert wait_for(lambda: executions_of(request.pk)) == 1
    assert describe(request.pk).run_id == description.run_id


def test_reconcile_waits_while_temporal_is_down_then_starts_each_request_once(
    settings, demo_org, temporal_server, task_queue
):
    take_temporal_down(settings)
    first = submit(demo_org["emma"], "40.00", title="Lunch")
    second = submit(demo_org["finn"], "2500.00", title="Laptop")
    assert first.status == second.status == "queued"
    assert starter.reconcile_queued() == 0  # still down: nothing started, nothing lost
    assert ExpenseRequest.objects.filter(workflow_started_at__isnull=True).count() == 2

    bring_temporal_back(settings, temporal_server)
    assert starter.reconcile_queued() == 2
    assert starter.reconcile_queued() == 0  # nothing left to start
    worker = WorkerThread(task_queue).start()
    try:
        for request in (first, second):
            wait_status(request, "pending")
            request.refresh_from_db()
            assert request.workflow_started_at is not None
            assert_exactly_one_workflow(request)
        assert wait_pending_level(first, 1).pending_approvers == ["max"]
        assert wait_pending_level(second, 1).pending_approvers == ["maria"]
    finally:
        worker.stop()


def test_worker_loop_starts_a_queued_request_when_temporal_is_back(
    settings, demo_org, temporal_server, task_queue
):
    settings.RECONCILE_INTERVAL_SECONDS = 0.2
    take_temporal_down(settings)
    request = submit(demo_org["emma"], "4000.00", title="Offsite")
    assert request.status == "queued" and request.workflow_started_at is None

    bring_temporal_back(settings, temporal_server)
    # Nobody calls the reconciler here: the worker's own loop must notice the request.
    worker = WorkerThread(task_queue, reconcile=True).start()
    try:
        wait_status(request, "pending")
        state = wait_pending_level(request, 1)
        assert state.pending_approvers == ["max"] and len(state.levels) == 2
        assert_exactly_one_workflow(request)
        request.refresh_from_db()
        assert request.workflow_started_at is not None
    finally:
        worker.stop()


def test_reconcile_absorbs_a_start_that_happened_but_was_not_recorded(
    settings, demo_org, temporal_server, worker
):
    request = submit(demo_org["emma"], "30.00")
    run_id = describe(request.pk).run_id
    # The start reached Temporal but the process died before writing it down.
    ExpenseRequest.objects.filter(pk=request.pk).update(workflow_started_at=None)
    assert starter.reconcile_queued() == 1
    request.refresh_from_db()
    assert request.workflow_started_at is not None
    assert describe(request.pk).run_id == run_id
    wait_status(request, "pending")
    assert_exactly_one_workflow(request)
