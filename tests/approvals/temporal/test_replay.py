"""Committed histories (tests/histories/v<N>/, one folder per workflow version,
made by scripts/make_histories.py) must all replay against today's workflow
code: a change that would break approvals already running fails here, in CI,
instead of in production.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from approvals.temporal.codec import data_converter
from approvals.workflow.contract import WORKFLOW_TYPE, ApprovalInput, ApprovalState
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from scripts.make_histories import HISTORY_KEYS

HISTORIES = Path(__file__).resolve().parents[2] / "histories"
VERSIONS = sorted(path for path in HISTORIES.glob("v*") if path.is_dir())
FILES = sorted(path for version in VERSIONS for path in version.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    data = json.loads(path.read_text())
    started = data["events"][0]["workflowExecutionStartedEventAttributes"]
    return WorkflowHistory.from_json(started.get("workflowId", path.stem), data)


def history_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_every_committed_history_is_in_a_version_folder():
    assert VERSIONS, "no tests/histories/v<N>/ folder"
    assert sorted(HISTORIES.rglob("*.json")) == FILES


def test_histories_are_committed_for_every_path():
    names = {path.stem for path in FILES if path.parent.name == "v1"}
    assert {
        "approve_three_levels",
        "reject_at_level_two",
        "changes_then_resubmit_then_approve",
        "reminder_escalation_auto_approval",
        "escalations_then_expiry",
        "withdraw_while_pending",
        "signals_with_duplicate_and_ignored",
        "delegate_extension_override",
    } <= names
    v2 = {path.stem for path in FILES if path.parent.name == "v2"}
    assert {
        "approve_three_levels",
        "reminder_escalation_moves_on",
        "sod_delegate_moves_on",
        "needs_approver_then_reroute",
        "leaver_rerouted",
        "admin_request_waits_then_withdrawn",
        "mail_failure_recorded",
        "signals_with_duplicate_and_ignored",
        "delegate_extension_override",
    } <= v2


def activities_scheduled(path: Path) -> set[str]:
    return {
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in json.loads(path.read_text())["events"]
        if "activityTaskScheduledEventAttributes" in e
    }


def test_v5_histories_record_fast_transitions():
    """v5 (workflow.patched("fast-transitions")): the record pushes, no publish activity;
    every v2 path is recorded again."""
    v2 = {path.stem for path in FILES if path.parent.name == "v2"}
    v5 = [path for path in FILES if path.parent.name == "v5"]
    assert v2 <= {path.stem for path in v5}
    for path in v5:
        kinds = activities_scheduled(path)
        assert "record_transition" in kinds and "publish_transition" not in kinds, path.name
    v2_reject = HISTORIES / "v2" / "reject_at_level_two.json"
    assert "publish_transition" in activities_scheduled(v2_reject)


@pytest.mark.parametrize("runner", ["default sandbox", "worker's sandbox"])
@pytest.mark.parametrize("path", FILES, ids=[history_id(path) for path in FILES])
async def test_committed_history_replays_on_todays_workflow(path, runner, settings):
    # v1 predates the codec (unencrypted: passed through); v2 on is encrypted with the
    # committed test key of make_histories.
    from approvals.worker.worker import sandbox_runner

    settings.TEMPORAL_PAYLOAD_KEYS = f"{HISTORY_KEYS},{settings.TEMPORAL_PAYLOAD_KEYS}"
    extra = {"workflow_runner": sandbox_runner()} if runner == "worker's sandbox" else {}
    replayer = Replayer(
        workflows=[ExpenseApprovalWorkflow], data_converter=data_converter(), **extra
    )
    result = await replayer.replay_workflow(load(path))  # raises on nondeterminism
    assert result.replay_failure is None


@workflow.defn(name=WORKFLOW_TYPE)
class WorkflowWithoutLivePush(ExpenseApprovalWorkflow):
    """An incompatible change: one activity fewer per transition."""

    @workflow.run
    async def run(self, inp: ApprovalInput) -> ApprovalState:
        return await super().run(inp)

    async def _flush(self) -> None:
        while self._outbox:
            self._outbox = []
            await workflow.execute_activity(
                "record_transition",
                self._state,
                start_to_close_timeout=timedelta(seconds=30),
            )


async def test_replay_catches_a_change_that_would_break_running_approvals():
    replayer = Replayer(
        workflows=[WorkflowWithoutLivePush], workflow_runner=UnsandboxedWorkflowRunner()
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(HISTORIES / "v1" / "approve_three_levels.json"))
