"""`manage.py workflow_versions` against the real dev server, and the patch registry.

The 1.0 baseline has no patch, so a tiny workflow of its own proves the counting:
some runs start without the patch (the code before it), some take it, some run
`deprecate_patch`, one has finished; the command reads visibility
(`TemporalChangeVersion`, ExecutionStatus, StartTime) and must count each group.
"""

from __future__ import annotations

import ast
import asyncio
import io
import json
import time
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from approvals.workflow.contract import WORKFLOW_TYPE
from approvals.workflow.versions import PATCHES
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


async def test_open_runs_without_a_patch_are_counted_from_visibility(temporal_server):
    client = await Client.connect(temporal_server.address)
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    prefix = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[Probe]):
        handles = {}
        for mode, n in [("old", 2), ("patched", 3), ("deprecated", 1), ("finished", 1)]:
            for i in range(n):
                handles[f"{mode}-{i}"] = await client.start_workflow(
                    Probe.run,
                    "patched" if mode == "finished" else mode,
                    id=f"{prefix}-{mode}-{i}",
                    task_queue=queue,
                )
        for handle in handles.values():  # every start task done: markers written
            await handle.query("__stack_trace")
        await handles["finished-0"].signal(Probe.finish)
        assert await handles["finished-0"].result() is True
        oldest_old = (await handles["old-0"].describe()).start_time

        args = ("--type", PROBE, "--patch", PATCH)
        deadline = time.monotonic() + 30
        while True:  # visibility is eventually consistent
            found = await asyncio.to_thread(report, *args)
            (use,) = found["patches"]
            if (use["open_runs"], use["with_patch"]) == (6, 3) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        assert found["open_runs"] == {PROBE: 6}  # the finished run is not open
        # deprecate_patch writes a marker replay may skip, and no TemporalChangeVersion:
        # such a run needs neither branch, so it counts as "without".
        assert use["without"] == 3 and use["with_patch"] == 3, use
        assert use["oldest_without"] == oldest_old.isoformat()
        assert use["advice"].startswith("keep workflow.patched")
        text = await asyncio.to_thread(command, *args)
        assert f"{PROBE}: 6 open runs" in text
        assert f"{PATCH}: 3 started without it, oldest started {oldest_old.isoformat()}" in text

        for key in ["old-0", "old-1", "deprecated-0"]:
            await handles[key].signal(Probe.finish)
            await handles[key].result()
        deadline = time.monotonic() + 30
        while True:
            (use,) = (await asyncio.to_thread(report, *args))["patches"]
            if use["without"] == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        assert (use["open_runs"], use["without"], use["with_patch"]) == (3, 0, 3)
        assert use["advice"].startswith("old branch may go")

        for key in ["patched-0", "patched-1", "patched-2"]:
            await handles[key].signal(Probe.finish)
            await handles[key].result()
        deadline = time.monotonic() + 30
        while True:
            (use,) = (await asyncio.to_thread(report, *args))["patches"]
            if use["open_runs"] == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        assert use["with_patch"] == 0 and use["advice"].startswith("no open run carries it")


def test_the_baseline_has_no_live_patch_and_says_so(temporal_server):
    text = command()
    for workflow_type in PATCHES:
        assert f"{workflow_type}: " in text
    assert f"{WORKFLOW_TYPE}: " in text and "no live patch (baseline 1.0)" in text


def test_a_patch_without_its_type_is_refused():
    with pytest.raises(CommandError, match="--patch needs --type"):
        call_command("workflow_versions", "--patch", "x")


def patch_calls() -> set[str]:
    """The ids of every workflow.patched / deprecate_patch call in approvals/workflow/."""
    found = set()
    for path in (ROOT / "approvals" / "workflow").rglob("*.py"):
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
    """versions.PATCHES names each patch the code still calls (and nothing else), so
    workflow_versions counts every live patch; at the 1.0 baseline there is none."""
    listed = {patch for ids in PATCHES.values() for patch in ids}
    assert patch_calls() == listed
