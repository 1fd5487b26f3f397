"""Re-routing the levels of a leaver: which requests, which Update, and the end to end.

`leaver_reroute` finds the requests waiting on the leaver in the projection
and sends each workflow the `reroute` Update. Until the approval workflow has
its handler, a small probe workflow on the real dev server stands in for the
receiving end: it records what arrived, so the test proves the Update's name,
workflow id, payload and id. The end-to-end test with the real workflow (max
leaves, emma's request moves to diana, live in diana's inbox) is in
tests/e2e/test_leaver_browser.py.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from accounts.models import User
from accounts.services import user_deactivate
from approvals.models import ExpenseRequest, RequestStatus
from approvals.services import leavers
from approvals.temporal import client as temporal_client
from approvals.workflow.contract import (
    ApprovalState,
    LevelState,
    RerouteInput,
    workflow_id,
)
from tests.support.servers import bring_temporal_back, take_temporal_down


def projected(user: User, pending: list[str], *, status=RequestStatus.PENDING, started=True):
    """A request whose projection says it waits on `pending` (no workflow behind it)."""
    return ExpenseRequest.objects.create(
        requester=user,
        title="Projected",
        amount=Decimal("100.00"),
        category="travel",
        status=status,
        pending_approvers=pending,
        workflow_started_at=timezone.now() if started else None,
    )


@pytest.mark.django_db
def test_the_projection_query_picks_exactly_the_requests_waiting_on_the_leaver(demo_org):
    emma = demo_org["emma"]
    alone = projected(emma, ["max"])
    shared = projected(emma, ["maria", "max"])
    projected(emma, ["diana"])
    projected(emma, ["maxine"])  # a name that contains "max" is someone else
    projected(emma, [])
    projected(emma, ["max"], status=RequestStatus.APPROVED)  # closed: nothing to move
    projected(emma, ["max"], status=RequestStatus.QUEUED, started=False)  # routes at start
    waiting = leavers.requests_waiting_on("max")
    assert [r.pk for r in waiting] == [alone.pk, shared.pk]
    assert leavers.reroute_input(username="max", request_id=alone.pk) == RerouteInput(
        leaver="max", reason="deactivated", reroute_id=f"reroute-max-{alone.pk}"
    )


# ---------------------------------------------------------------- the Update is sent
@workflow.defn(name="RerouteProbe")
class RerouteProbe:
    """Records every `reroute` Update and answers with a state that moved on to diana."""

    def __init__(self) -> None:
        self.received: list[RerouteInput] = []
        self.request_id = 0

    @workflow.run
    async def run(self, request_id: int) -> None:
        self.request_id = request_id
        await workflow.wait_condition(lambda: False)

    @workflow.update(name="reroute")
    def reroute(self, inp: RerouteInput) -> ApprovalState:
        self.received.append(inp)
        return ApprovalState(
            request_id=self.request_id,
            requester="emma",
            requester_display="Emma Engel",
            title="Projected",
            amount_cents=10000,
            currency="EUR",
            submitted_at=workflow.now().isoformat(),
            status="pending",
            current_level=1,
            levels=[
                LevelState(
                    level=1, approvers=["diana"], original_approvers=["max"], status="pending"
                )
            ],
            pending_approvers=["diana"],
            seq=100,
        )

    @workflow.query(name="received")
    def query_received(self) -> list[RerouteInput]:
        return self.received


class ProbeWorker:
    def __init__(self, task_queue: str) -> None:
        self.task_queue = task_queue
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        client = await temporal_client.connect()
        worker = Worker(
            client,
            task_queue=self.task_queue,
            workflows=[RerouteProbe],
            # The probe lives in a test module that imports Django: no sandbox.
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        async with worker:
            self.ready.set()
            await self.stop_event.wait()

    def start(self) -> ProbeWorker:
        self.thread.start()
        assert self.ready.wait(30), "probe worker did not start"
        return self

    def stop(self) -> None:
        if self.loop and self.stop_event:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)


@pytest.fixture
def probe(temporal_server):
    worker = ProbeWorker(f"probe-{uuid.uuid4().hex[:10]}").start()
    started: list[int] = []

    def start(request: ExpenseRequest) -> None:
        async def run(client):
            await client.start_workflow(
                RerouteProbe.run,
                request.pk,
                id=workflow_id(request.pk),
                task_queue=worker.task_queue,
            )

        temporal_client.call(run)
        started.append(request.pk)

    def received(request: ExpenseRequest) -> list[RerouteInput]:
        async def run(client):
            handle = client.get_workflow_handle(workflow_id(request.pk))
            return await handle.query(RerouteProbe.query_received)

        return temporal_client.call(run)

    start.received = received
    yield start

    async def terminate(client):
        for pk in started:
            await client.get_workflow_handle(workflow_id(pk)).terminate("test over")

    temporal_client.call(terminate)
    worker.stop()


@pytest.mark.django_db(transaction=True)
def test_deactivating_sends_reroute_to_each_workflow_waiting_on_the_leaver(demo_org, probe):
    emma = demo_org["emma"]
    waiting = projected(emma, ["max"])
    elsewhere = projected(emma, ["diana"])
    for request in (waiting, elsewhere):
        probe(request)

    user_deactivate(user=demo_org["max"], by=demo_org["admin"])  # commits: the re-route runs

    assert probe.received(waiting) == [
        RerouteInput(leaver="max", reason="deactivated", reroute_id=f"reroute-max-{waiting.pk}")
    ]
    assert probe.received(elsewhere) == []
    # The answer is projected at once: the request now waits on diana.
    waiting.refresh_from_db()
    assert waiting.pending_approvers == ["diana"]
    assert leavers.leaver_reroute(username="max") == 0  # nothing waits on max any more


@pytest.mark.django_db(transaction=True)
def test_a_temporal_outage_never_breaks_a_deactivation(demo_org, settings, temporal_server):
    projected(demo_org["emma"], ["max"])
    settings.TEMPORAL_CALL_TIMEOUT = 1
    take_temporal_down(settings)
    try:
        user_deactivate(user=demo_org["max"])  # logs the outage, raises nothing
        assert leavers.leaver_reroute(username="max") == 0
    finally:
        bring_temporal_back(settings, temporal_server)
    assert User.objects.get(username="max").is_active is False
