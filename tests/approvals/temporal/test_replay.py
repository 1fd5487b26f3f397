"""Committed histories (made by scripts/make_histories.py) must all replay against
today's workflow code: a change that would break workflows already running fails
here, in CI, instead of in production. One folder per version of each workflow
type: tests/histories/v<N>/ for ExpenseApproval, tests/histories/payout/v<N>/ for
the Payout saga and the PayoutRun (its child and its weekly run).
"""

from __future__ import annotations

import base64
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
from approvals.workflow.payout import PayoutRunWorkflow, PayoutWorkflow
from approvals.workflow.payout_contract import PAYOUT_WORKFLOW, Outcome, PayoutInput
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from scripts.make_histories import HISTORY_KEYS

HISTORIES = Path(__file__).resolve().parents[2] / "histories"
# Each workflow type's folder of version folders.
TYPES = {"approval": HISTORIES, "payout": HISTORIES / "payout"}
VERSIONS = sorted(path for base in TYPES.values() for path in base.glob("v*") if path.is_dir())
FILES = sorted(path for version in VERSIONS for path in version.glob("*.json"))
WORKFLOWS = [ExpenseApprovalWorkflow, PayoutWorkflow, PayoutRunWorkflow]


def load(path: Path) -> WorkflowHistory:
    data = json.loads(path.read_text())
    started = data["events"][0]["workflowExecutionStartedEventAttributes"]
    return WorkflowHistory.from_json(started.get("workflowId", path.stem), data)


def history_id(path: Path) -> str:
    return str(path.relative_to(HISTORIES).with_suffix(""))


def stems(folder: Path) -> set[str]:
    return {path.stem for path in FILES if path.parent == folder}


def test_every_committed_history_is_in_a_version_folder():
    assert VERSIONS, "no tests/histories/v<N>/ folder"
    for kind, base in TYPES.items():
        assert any(path.parent == base for path in VERSIONS), f"no {kind} version folder"
    assert sorted(HISTORIES.rglob("*.json")) == FILES


def test_histories_are_committed_for_every_path():
    names = {path.stem for path in FILES if path.parent == HISTORIES / "v1"}
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
    v2 = {path.stem for path in FILES if path.parent == HISTORIES / "v2"}
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
    v3 = {path.stem for path in FILES if path.parent == HISTORIES / "v3"}
    assert {"finance_group_level", "it_group_level", "group_level_goes_to_the_admins"} <= v3
    assert stems(HISTORIES / "v2") <= stems(HISTORIES / "v4")
    assert stems(HISTORIES / "payout" / "v1") >= {
        "paid",
        "run_paid",
        "failed_at_budget",
        "failed_at_batch",
        "failed_at_file",
        "run_with_failure",
        "retried_then_paid",
    }


def patches(path: Path) -> set[str]:
    """The patch ids of a history's markers (their details are base64 JSON)."""
    found = set()
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker.get("markerName") == "core_patch":
            for payload in marker["details"]["patch-data"]["payloads"]:
                found.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def test_version_3_histories_were_made_with_policy_rules():
    """Each v3 history carries the "policy-rules" patch marker (so its replay exercises
    the policy path), and no v2 history does."""
    for path in FILES:
        if path.parent == HISTORIES / "v3":
            assert patches(path) == {"separation-of-duties", "policy-rules"}, path.name
        elif path.parent == HISTORIES / "v2":
            assert "policy-rules" not in patches(path), path.name


def test_v4_approvals_start_their_payout_child_and_older_ones_do_not():
    def children(path: Path) -> list[str]:
        events = json.loads(path.read_text())["events"]
        return [
            e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowType"]["name"]
            for e in events
            if "startChildWorkflowExecutionInitiatedEventAttributes" in e
        ]

    assert children(HISTORIES / "v4" / "approve_three_levels.json") == [PAYOUT_WORKFLOW]
    assert children(HISTORIES / "v4" / "reject_at_level_two.json") == []
    older = {HISTORIES / "v1", HISTORIES / "v2", HISTORIES / "v3"}
    assert all(not children(path) for path in FILES if path.parent in older)


def activities_scheduled(path: Path) -> set[str]:
    return {
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in json.loads(path.read_text())["events"]
        if "activityTaskScheduledEventAttributes" in e
    }


def test_v5_histories_record_fast_transitions():
    """v5 (workflow.patched("fast-transitions")): the record pushes, no publish activity;
    every v2 path is recorded again."""
    v2 = stems(HISTORIES / "v2")
    v5 = [path for path in FILES if path.parent == HISTORIES / "v5"]
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
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(), **extra)
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


@workflow.defn(name=PAYOUT_WORKFLOW)
class PayoutWithoutLedger(PayoutWorkflow):
    """An incompatible change of the saga: the ledger step dropped."""

    @workflow.run
    async def run(self, inp: PayoutInput) -> Outcome:
        from approvals.workflow import payout

        saved = payout.Step.ORDER
        payout.Step.ORDER = (payout.Step.BUDGET, payout.Step.BATCH)
        try:
            return await super().run(inp)
        finally:
            payout.Step.ORDER = saved


async def test_payout_replay_catches_a_change_that_would_break_running_payouts(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = f"{HISTORY_KEYS},{settings.TEMPORAL_PAYLOAD_KEYS}"
    replayer = Replayer(
        workflows=[PayoutWithoutLedger],
        workflow_runner=UnsandboxedWorkflowRunner(),
        data_converter=data_converter(),
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(HISTORIES / "payout" / "v1" / "paid.json"))


def test_v6_histories_were_made_with_every_patch_together():
    """v6 was recorded from the merged code (policy rules, payout child, fast transitions
    at once): every run carries the three patches taken at its start, the approved ones
    also the payout patch and exactly one Payout child."""
    not_approved = {
        "admin_request_waits_then_withdrawn",
        "escalations_then_expiry",
        "needs_approver_then_reroute",
        "reject_at_level_two",
        "withdraw_while_pending",
    }
    v6 = [path for path in FILES if path.parent == HISTORIES / "v6"]
    assert stems(HISTORIES / "v5") <= {path.stem for path in v6}
    for path in v6:
        found = patches(path)
        assert {"separation-of-duties", "policy-rules", "fast-transitions"} <= found, path.name
        approved = path.stem not in not_approved
        assert ("payout" in found) == approved, path.name
        events = json.loads(path.read_text())["events"]
        children = [e for e in events if "startChildWorkflowExecutionInitiatedEventAttributes" in e]
        assert len(children) == (1 if approved else 0), path.name


def local_activities(path: Path) -> list[str]:
    """The types of the local activities a history's markers record, in order."""
    found = []
    for e in json.loads(path.read_text())["events"]:
        marker = e.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") != "core_local_activity":
            continue
        data = marker["details"]["data"]["payloads"][0]["data"]
        found.append(json.loads(base64.b64decode(data))["activity_type"])
    return found


def test_v7_histories_route_and_record_the_start_locally():
    """v7 (workflow.patched("local-first-steps")): the start's routing and first record
    are local activities of the start's task, exactly once each; every later record is
    a regular activity (scheduled once its Update is committed); every v6 path again."""
    v7 = [path for path in FILES if path.parent == HISTORIES / "v7"]
    assert stems(HISTORIES / "v6") <= {path.stem for path in v7}
    for path in v7:
        assert "local-first-steps" in patches(path), path.name
        local = local_activities(path)
        assert local[:2] == ["resolve_route", "record_first_steps"], path.name
        assert local.count("record_first_steps") == 1, path.name
        assert "record_first_steps" not in activities_scheduled(path), path.name
    older = [path for path in FILES if path.parent == HISTORIES / "v6"]
    assert all(not local_activities(path) for path in older)
    decided = HISTORIES / "v7" / "approve_three_levels.json"
    assert "record_transition" in activities_scheduled(decided)


def upserts(path: Path) -> int:
    return sum(
        1
        for e in json.loads(path.read_text())["events"]
        if "upsertWorkflowSearchAttributesEventAttributes" in e
    )


def test_v8_histories_take_every_patch_from_one_marker():
    """v8 (workflow.patched("all-of-2026-12")): one patch marker stands for all the
    others (none of them is written), the start routes and records locally as in v7,
    and unchanged search attributes are not upserted again: fewer upserts on every path."""
    v8 = [path for path in FILES if path.parent == HISTORIES / "v8"]
    assert stems(HISTORIES / "v7") <= {path.stem for path in v8}
    for path in v8:
        assert patches(path) == {"all-of-2026-12"}, path.name
        assert local_activities(path)[:2] == ["resolve_route", "record_first_steps"], path.name
        v7 = HISTORIES / "v7" / path.name
        assert upserts(path) < upserts(v7), path.name
    older = [
        path for path in FILES if path.parent.name in {"v1", "v2", "v3", "v4", "v5", "v6", "v7"}
    ]
    assert all("all-of-2026-12" not in patches(path) for path in older)
    approved = HISTORIES / "v8" / "approve_three_levels.json"
    events = json.loads(approved.read_text())["events"]
    assert sum("startChildWorkflowExecutionInitiatedEventAttributes" in e for e in events) == 1
