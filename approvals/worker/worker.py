"""The worker: ExpenseApproval workflows, the scheduled ones (digest, overdue report),
the payout saga and payout run,
their activities and the reconciler.

Runs as `manage.py run_worker`, or inside the web process in embedded mode
(`manage.py serve --with-worker`), where an in-memory channel layer then
reaches every websocket of that process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from ..metrics import serve_worker_metrics
from ..temporal.client import connect
from ..workflow.payout import PayoutRunWorkflow, PayoutWorkflow
from ..workflow.periodic import DailyDigestWorkflow, OverdueReportWorkflow
from ..workflow.workflow import ExpenseApprovalWorkflow
from .activities import ACTIVITIES, bind_loop
from .payout_activities import PAYOUT_ACTIVITIES
from .periodic import PERIODIC_ACTIVITIES

log = logging.getLogger(__name__)


def build_worker(client: Client, *, task_queue: str | None = None) -> Worker:
    with contextlib.suppress(RuntimeError):  # built outside a loop: pushes use their own
        bind_loop(asyncio.get_running_loop())
    threads = int(getattr(settings, "TEMPORAL_ACTIVITY_THREADS", 16))
    return Worker(
        client,
        task_queue=task_queue or settings.TEMPORAL_TASK_QUEUE,
        workflows=[
            ExpenseApprovalWorkflow,
            DailyDigestWorkflow,
            OverdueReportWorkflow,
            PayoutWorkflow,
            PayoutRunWorkflow,
        ],
        activities=[*ACTIVITIES, *PERIODIC_ACTIVITIES, *PAYOUT_ACTIVITIES],
        # Activities and local activities share the thread pool (ORM work): no more in
        # flight than threads, so none waits for a thread after it has started.
        activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="activity"),
        max_concurrent_activities=threads,
        max_concurrent_local_activities=threads,
        # Bounded cache: evicted workflows replay from history when next touched.
        max_cached_workflows=int(getattr(settings, "TEMPORAL_MAX_CACHED_WORKFLOWS", 500)),
        workflow_runner=(
            sandbox_runner()
            if getattr(settings, "TEMPORAL_WORKFLOW_SANDBOX", True)
            else UnsandboxedWorkflowRunner()
        ),
    )


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The sandbox with the workflow package passed through: it is Django-free and
    deterministic (tests/config/test_layout.py), so each run (and each replay after an
    eviction) does not re-import it, and cached runs share one copy of its modules.
    `approvals.calendar` (pure, no I/O but zoneinfo's) too: re-imported in the sandbox,
    its ZoneInfo objects would be the sandbox's restricted proxies, which datetime refuses."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "approvals.workflow", "approvals.calendar"
        )
    )


async def reconcile_forever(stop: asyncio.Event, passes: tuple = ()) -> None:
    """Start workflows of requests saved while Temporal was unreachable, then run the
    `passes` the process adds (functions returning how many things they mended), every
    RECONCILE_INTERVAL_SECONDS. The management commands (the composition root) add the
    leaver sweep; this module imports nothing above itself."""
    from ..temporal.starter import reconcile_queued

    while not stop.is_set():
        for mend in (reconcile_queued, *passes):
            try:
                done = await sync_to_async(mend, thread_sensitive=False)()
                if done:
                    log.info("reconciler: %s mended %d", mend.__name__, done)
            except Exception:
                log.exception("reconciler pass %s failed; next pass retries", mend.__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.RECONCILE_INTERVAL_SECONDS)


async def connect_with_retry(stop: asyncio.Event) -> Client | None:
    delay = 0.5
    while not stop.is_set():
        try:
            return await connect(worker=True)
        except Exception as exc:  # the server may still be starting
            log.warning(
                "Temporal not reachable at %s (%s); retrying", settings.TEMPORAL_ADDRESS, exc
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5)
    return None


async def run(stop: asyncio.Event, *, reconcile: bool = True, passes: tuple = ()) -> None:
    """Run until `stop` is set; if the worker dies (server gone too long), start it again."""
    client = await connect_with_retry(stop)
    if client is None:
        return
    serve_worker_metrics()
    tasks = [asyncio.create_task(reconcile_forever(stop, passes))] if reconcile else []
    try:
        while not stop.is_set():
            worker = build_worker(client)
            log.info(
                "worker polling task queue %r at %s",
                settings.TEMPORAL_TASK_QUEUE,
                settings.TEMPORAL_ADDRESS,
            )
            run_task = asyncio.create_task(worker.run())
            stop_task = asyncio.create_task(stop.wait())
            await asyncio.wait({run_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            if run_task.done():
                stop_task.cancel()
                error = run_task.exception()
                log.error("worker stopped (%s); restarting in 2 s", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2)
                continue
            await worker.shutdown()
            with contextlib.suppress(Exception):
                await run_task
    finally:
        for task in tasks:
            task.cancel()
