"""Committed histories (made by scripts/make_histories.py) must all replay against
today's workflow code: a change that would break workflows already running fails
here, in CI, instead of in production. One folder per version of each workflow
type (docs/versioning.md): tests/histories/<MAJOR.MINOR>/ for ExpenseApproval,
tests/histories/payout/<MAJOR.MINOR>/ for the Payout saga and the PayoutRun (its
child and its weekly run). 1.0 is the baseline, recorded without any patch.
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
from approvals.workflow.effects import Effects
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from payouts.workflow.contract import PAYOUT_WORKFLOW, Outcome, PayoutInput
from payouts.workflow.workflow import PayoutRunWorkflow, PayoutWorkflow
from scripts.make_histories import HISTORY_KEYS, VERSION, scenarios_names

HISTORIES = Path(__file__).resolve().parents[2] / "histories"
# Each workflow type's folder of version folders.
TYPES = {"approval": HISTORIES, "payout": HISTORIES / "payout"}
VERSIONS = sorted(
    path for base in TYPES.values() for path in base.iterdir() if VERSION.match(path.name)
)
FILES = sorted(path for version in VERSIONS for path in version.glob("*.json"))
WORKFLOWS = [ExpenseApprovalWorkflow, PayoutWorkflow, PayoutRunWorkflow]
BASELINE = HISTORIES / "1.0"


def load(path: Path) -> WorkflowHistory:
    data = json.loads(path.read_text())
    started = data["events"][0]["workflowExecutionStartedEventAttributes"]
    return WorkflowHistory.from_json(started.get("workflowId", path.stem), data)


def history_id(path: Path) -> str:
    return str(path.relative_to(HISTORIES).with_suffix(""))


def events(path: Path) -> list[dict]:
    return json.loads(path.read_text())["events"]


def test_every_committed_history_is_in_a_version_folder():
    assert BASELINE in VERSIONS and HISTORIES / "payout" / "1.0" in VERSIONS
    assert sorted(HISTORIES.rglob("*.json")) == FILES
    # Only version folders (and payout/) beside the README: no v1..v8 left over.
    stray = [
        p.name
        for base in TYPES.values()
        for p in base.iterdir()
        if p.is_dir() and not VERSION.match(p.name) and p != HISTORIES / "payout"
    ]
    assert stray == []


# Scenarios of behaviour added after 1.0, recorded in the version of their patch.
SINCE = {
    "1.1": {  # 26-expense-lines: per-line decisions
        "line_rejected_then_approved",
        "every_line_rejected",
        "line_rejected_then_resubmitted",
    },
    "1.2": {"calendar_working_time"},  # 31-business-calendar: deadlines in working time
}


def test_the_baseline_has_a_history_for_every_scenario():
    later = set().union(*SINCE.values())
    assert {path.stem for path in BASELINE.glob("*.json")} == set(scenarios_names()) - later
    for version, names in SINCE.items():
        assert names <= set(scenarios_names())
        assert {p.stem for p in (HISTORIES / version).glob("*.json")} >= names, version
    assert {path.stem for path in (HISTORIES / "payout" / "1.0").glob("*.json")} >= {
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
    for event in events(path):
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker.get("markerName") == "core_patch":
            for payload in marker["details"]["patch-data"]["payloads"]:
                found.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def activities_scheduled(path: Path) -> set[str]:
    return {
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events(path)
        if "activityTaskScheduledEventAttributes" in e
    }


def local_activities(path: Path) -> list[str]:
    """The types of the local activities a history's markers record, in order."""
    found = []
    for e in events(path):
        marker = e.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") != "core_local_activity":
            continue
        data = marker["details"]["data"]["payloads"][0]["data"]
        found.append(json.loads(base64.b64decode(data))["activity_type"])
    return found


def children(path: Path) -> list[str]:
    return [
        e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowType"]["name"]
        for e in events(path)
        if "startChildWorkflowExecutionInitiatedEventAttributes" in e
    ]


NOT_APPROVED = {
    "admin_request_waits_then_withdrawn",
    "escalations_then_expiry",
    "needs_approver_then_reroute",
    "reject_at_level_two",
    "withdraw_while_pending",
}


@pytest.mark.parametrize("path", sorted((HISTORIES / "1.1").glob("*.json")), ids=lambda p: p.stem)
def test_1_1_histories_took_the_per_line_patch(path):
    """Each decision with line rejections (an Update, or a signal that carries them and is
    ignored) took 26-expense-lines; the report whose every line was rejected ends rejected
    without a payout, the others start exactly one."""
    assert patches(path) == {"26-expense-lines"}, path.name
    assert "TemporalChangeVersion" in path.read_text(), path.name
    approved = path.stem != "every_line_rejected"
    assert children(path) == ([PAYOUT_WORKFLOW] if approved else []), path.name


@pytest.mark.parametrize("path", sorted((HISTORIES / "1.2").glob("*.json")), ids=lambda p: p.stem)
def test_1_2_histories_took_the_calendar_patch_at_the_start(path):
    """A run in working time took 31-business-calendar at its start, before any other
    command, and was approved (one Payout child)."""
    assert patches(path) == {"31-business-calendar"}, path.name
    history = events(path)
    started = next(i for i, e in enumerate(history) if "markerRecordedEventAttributes" in e)
    assert started < 5, "the patch is taken before anything else"
    assert children(path) == [PAYOUT_WORKFLOW]


@pytest.mark.parametrize("path", sorted(BASELINE.glob("*.json")), ids=lambda p: p.stem)
def test_baseline_histories_show_the_1_0_behaviour(path):
    """1.0 was recorded without any patch marker (and so no TemporalChangeVersion), with
    every behaviour the patches before it brought: the start routes and records through
    local activities of its own task; later records are regular activities that push
    (no publish_transition); each approved run starts exactly one Payout child."""
    assert patches(path) == set(), path.name
    assert "TemporalChangeVersion" not in path.read_text(), path.name
    local = local_activities(path)
    assert local[:2] == ["resolve_route", "record_first_steps"], path.name
    assert local.count("record_first_steps") == 1, path.name
    kinds = activities_scheduled(path)
    assert "record_first_steps" not in kinds and "publish_transition" not in kinds
    assert not kinds & {"resolve_chain", "resolve_escalation"}, kinds
    approved = path.stem not in NOT_APPROVED
    assert children(path) == ([PAYOUT_WORKFLOW] if approved else []), path.name


@pytest.mark.parametrize("runner", ["default sandbox", "worker's sandbox"])
@pytest.mark.parametrize("path", FILES, ids=[history_id(path) for path in FILES])
async def test_committed_history_replays_on_todays_workflow(path, runner, settings):
    # Encrypted with the committed test key of make_histories.
    from approvals.worker.worker import sandbox_runner

    settings.TEMPORAL_PAYLOAD_KEYS = f"{HISTORY_KEYS},{settings.TEMPORAL_PAYLOAD_KEYS}"
    extra = {"workflow_runner": sandbox_runner()} if runner == "worker's sandbox" else {}
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(), **extra)
    result = await replayer.replay_workflow(load(path))  # raises on nondeterminism
    assert result.replay_failure is None


class RecordOnly(Effects):
    """An incompatible change: every record a regular activity, no mail."""

    async def flush(self) -> None:
        while self.outbox:
            self.outbox = []
            await workflow.execute_activity(
                "record_transition",
                self.m.state,
                start_to_close_timeout=timedelta(seconds=30),
            )


@workflow.defn(name=WORKFLOW_TYPE)
class WorkflowWithoutMail(ExpenseApprovalWorkflow):
    @workflow.run
    async def run(self, inp: ApprovalInput) -> ApprovalState:
        self.fx = RecordOnly(self.m)
        return await super().run(inp)


async def test_replay_catches_a_change_that_would_break_running_approvals(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = f"{HISTORY_KEYS},{settings.TEMPORAL_PAYLOAD_KEYS}"
    replayer = Replayer(
        workflows=[WorkflowWithoutMail],
        workflow_runner=UnsandboxedWorkflowRunner(),
        data_converter=data_converter(),
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(BASELINE / "approve_three_levels.json"))


@workflow.defn(name=PAYOUT_WORKFLOW)
class PayoutWithoutLedger(PayoutWorkflow):
    """An incompatible change of the saga: the ledger step dropped."""

    @workflow.run
    async def run(self, inp: PayoutInput) -> Outcome:
        from payouts.workflow import workflow as payout

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
        await replayer.replay_workflow(load(HISTORIES / "payout" / "1.0" / "paid.json"))
