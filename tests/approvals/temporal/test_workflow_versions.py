"""`manage.py workflow_versions` against the real dev server, and the patch registry.

The 1.0 baseline has no patch, so a tiny workflow of its own proves the counting:
some runs start without the patch (the code before it), some take it, one runs
`deprecate_patch` after the deprecation, one has finished; the command reads
visibility (`TemporalChangeVersion`, ExecutionStatus, StartTime) and must count each
group, and say when the old branch and then the deprecate_patch call may go.
"""

from __future__ import annotations

import ast
import asyncio
import io
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from approvals.management.commands.workflow_versions import live_patches
from approvals.workflow.contract import WORKFLOW_TYPE
from tests.support import ROOT

PROBE = "VersionsProbe"
PATCH = "probe-patch"


@workflow.defn(name=PROBE)
class Probe:
    """Waits until told to finish; `mode` says how its start meets the patch."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self, mode: str) -> bool:
        if mode == "patched":
            taken = workflow.patched(PATCH)
        elif mode == "deprecated":
            workflow.deprecate_patch(PATCH)
            taken = True
        else:  # the code before the patch: no call at all
            taken = False
        await workflow.wait_condition(lambda: self.done)
        return taken

    @workflow.signal
    def finish(self) -> None:
        self.done = True


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("workflow_versions", *args, stdout=out)
    return out.getvalue()


def report(*args: str) -> dict:
    return json.loads(command(*args, "--json"))


async def poll(args: tuple[str, ...], done) -> dict:
    """The command's JSON for one patch, once `done(use)` (visibility lags a little)."""
    deadline = time.monotonic() + 30
    while True:
        (use,) = (await asyncio.to_thread(report, *args))["patches"]
        if done(use) or time.monotonic() > deadline:
            return use
        await asyncio.sleep(0.3)


async def test_open_runs_without_a_patch_are_counted_from_visibility(temporal_server):
    client = await Client.connect(temporal_server.address)
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    prefix = f"probe-{uuid.uuid4().hex[:8]}"
    runner = UnsandboxedWorkflowRunner()  # the test module imports Django
    async with Worker(client, task_queue=queue, workflows=[Probe], workflow_runner=runner):
        handles = {}

        async def start(mode: str, n: int, key: str = "") -> None:
            for i in range(n):
                handle = await client.start_workflow(
                    Probe.run, mode, id=f"{prefix}-{key or mode}-{i}", task_queue=queue
                )
                await handle.query("__stack_trace")  # its start task ran: marker written
                handles[f"{key or mode}-{i}"] = handle

        await start("old", 2)  # the code before the patch
        await start("patched", 3)  # the code with workflow.patched
        await start("patched", 1, key="finished")
        await handles["finished-0"].signal(Probe.finish)
        assert await handles["finished-0"].result() is True
        await asyncio.sleep(0.2)
        deprecated_at = datetime.now(UTC)  # the deploy that makes it deprecate_patch
        await asyncio.sleep(0.2)
        await start("deprecated", 1)
        oldest_old = (await handles["old-0"].describe()).start_time

        args = ("--type", PROBE, "--patch", PATCH)
        use = await poll(args, lambda u: (u["open_runs"], u["with_patch"]) == (6, 4))
        # deprecate_patch sets TemporalChangeVersion too: 3 patched + 1 deprecated.
        assert (use["open_runs"], use["without"], use["with_patch"]) == (6, 2, 4), use
        assert use["oldest_without"] == oldest_old.isoformat()
        assert use["advice"].startswith("keep workflow.patched")
        text = await asyncio.to_thread(command, *args)
        assert f"{PROBE}: 6 open runs" in text
        assert f"{PATCH}: 2 started without it, oldest started {oldest_old.isoformat()}" in text

        for key in ["old-0", "old-1"]:
            await handles[key].signal(Probe.finish)
            assert await handles[key].result() is False
        use = await poll(args, lambda u: u["without"] == 0)
        assert (use["open_runs"], use["without"], use["with_patch"]) == (4, 0, 4)
        assert use["advice"].startswith("old branch may go")

        since = ("--deprecated-since", deprecated_at.isoformat())
        use = await poll((*args, *since), lambda u: u["open_runs"] == 4)
        assert use["with_before_deprecation"] == 3, use  # the deprecated run does not count
        assert use["advice"].startswith("keep workflow.deprecate_patch")
        for key in ["patched-0", "patched-1", "patched-2"]:
            await handles[key].signal(Probe.finish)
            await handles[key].result()
        use = await poll((*args, *since), lambda u: u["open_runs"] == 1)
        assert (use["with_patch"], use["with_before_deprecation"]) == (1, 0), use
        assert use["advice"].startswith("deprecate_patch may go")
        text = await asyncio.to_thread(command, *args, *since)
        assert "1 took it (0 before its deprecation" in text

        await handles["deprecated-0"].signal(Probe.finish)
        await handles["deprecated-0"].result()


def test_the_baseline_has_no_live_patch_and_says_so(temporal_server):
    text = command()
    for workflow_type in live_patches():  # approvals' and the plugged apps' (payouts)
        assert f"{workflow_type}: " in text
    assert f"{WORKFLOW_TYPE}: " in text and "no live patch (baseline 1.0)" in text


def test_a_patch_without_its_type_is_refused():
    with pytest.raises(CommandError, match="--patch needs --type"):
        call_command("workflow_versions", "--patch", "x")
    with pytest.raises(CommandError, match="--deprecated-since needs --patch"):
        call_command("workflow_versions", "--type", PROBE, "--deprecated-since", "2030-01-01")
    with pytest.raises(CommandError, match="time zone"):
        call_command(
            "workflow_versions", "--type", PROBE, "--patch", "x", "--deprecated-since", "2030-01-01"
        )


def patch_calls() -> set[str]:
    """The ids of every workflow.patched / deprecate_patch call in the workflow packages
    (approvals/workflow/, payouts/workflow/)."""
    found = set()
    packages = [ROOT / "approvals" / "workflow", ROOT / "payouts" / "workflow"]
    for path in (path for package in packages for path in package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"patched", "deprecate_patch"}
            ):
                arg = node.args[0] if node.args else None
                assert isinstance(arg, ast.Constant), f"{path}:{node.lineno}: a literal patch id"
                found.add(arg.value)
    return found


def test_the_registry_lists_every_patch_call():
    """The PATCHES of approvals/workflow/versions.py and payouts/workflow/versions.py name
    each patch the code still calls (and nothing else), so workflow_versions counts every
    live patch; the payout workflows are at their 1.0 baseline."""
    patches = live_patches()
    assert {"Payout", "PayoutRun"} <= set(patches)
    listed = {patch for ids in patches.values() for patch in ids}
    assert patch_calls() == listed
