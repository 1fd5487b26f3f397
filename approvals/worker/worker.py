"""The worker: ExpenseApproval workflows, the scheduled ones (digest, overdue report),
those the apps built on approvals plug in (approvals/ports.py: TemporalParts; payouts:
the payout saga and payout run), their activities and the reconciler; and the receipt
reader on its own queue (OCR).

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

from core.metrics import serve_worker_metrics

from .. import ports
from ..ocr.activities import OCR_ACTIVITIES
from ..ocr.workflow import ReadReceiptWorkflow
from ..temporal.client import connect
from ..workflow.periodic import DailyDigestWorkflow, OverdueReportWorkflow
from ..workflow.workflow import ExpenseApprovalWorkflow
from .activities import ACTIVITIES, bind_loop
from .periodic import PERIODIC_ACTIVITIES

log = logging.getLogger(__name__)


def build_worker(client: Client, *, task_queue: str | None = None) -> Worker:
    with contextlib.suppress(RuntimeError):  # built outside a loop: pushes use their own
        bind_loop(asyncio.get_running_loop())
    threads = int(getattr(settings, "TEMPORAL_ACTIVITY_THREADS", 16))
    plugged = ports.temporal_parts()  # e.g. the payout saga and run, on the same queue
    return Worker(
        client,
        task_queue=task_queue or settings.TEMPORAL_TASK_QUEUE,
        workflows=[
            ExpenseApprovalWorkflow,
            DailyDigestWorkflow,
            OverdueReportWorkflow,
            *(w for parts in plugged for w in parts.workflows),
        ],
        activities=[
            *ACTIVITIES,
            *PERIODIC_ACTIVITIES,
            *(a for parts in plugged for a in parts.activities),
        ],
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


def build_ocr_worker(client: Client, *, task_queue: str | None = None) -> Worker:
    """The receipt reader on its own task queue (TEMPORAL_OCR_TASK_QUEUE) with its own
    small pool (OCR_CONCURRENCY, 2 by default; Tesseract runs on one thread each): a
    burst of photos queues here and never takes a thread or a slot from approvals."""
    slots = max(1, int(getattr(settings, "OCR_CONCURRENCY", 2)))
    return Worker(
        client,
        task_queue=task_queue or settings.TEMPORAL_OCR_TASK_QUEUE,
        workflows=[ReadReceiptWorkflow],
        activities=OCR_ACTIVITIES,
        activity_executor=ThreadPoolExecutor(max_workers=slots, thread_name_prefix="ocr"),
        max_concurrent_activities=slots,
        max_concurrent_workflow_tasks=4,
        max_cached_workflows=50,
        workflow_runner=sandbox_runner()
        if getattr(settings, "TEMPORAL_WORKFLOW_SANDBOX", True)
        else UnsandboxedWorkflowRunner(),
    )


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The sandbox with the workflow package passed through: it is Django-free and
    deterministic (tests/config/test_layout.py), so each run (and each replay after an
    eviction) does not re-import it, and cached runs share one copy of its modules.
    `approvals.calendar` (pure, no I/O but zoneinfo's) too: re-imported in the sandbox,
    its ZoneInfo objects would be the sandbox's restricted proxies, which datetime refuses.
    `redis` too, though no workflow imports it: the channel layer's asyncio pools, left
    behind by pushes, are finalized whenever the collector runs, and their `__del__`
    imports from redis; inside an activation that re-imported (compiled) the whole
    package in the sandbox, a tenth of the worker's CPU under load (BENCHMARKS.md).
    The plugged apps' workflow packages (payouts.workflow) are passed through alike."""
    plugged = [m for parts in ports.temporal_parts() for m in parts.passthrough_modules]
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "approvals.workflow", "approvals.calendar", "redis", *plugged
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


async def run(
    stop: asyncio.Event,
    *,
    reconcile: bool = True,
    passes: tuple = (),
    approvals: bool = True,
    ocr: bool | None = None,
) -> None:
    """Run until `stop` is set; if a worker dies (server gone too long), start it again.
    `approvals` polls the approval queue, `ocr` (default: OCR_WORKER) the receipt queue;
    `run_worker --ocr-only` is a process for receipts alone."""
    if ocr is None:
        ocr = bool(getattr(settings, "OCR_WORKER", True))
    client = await connect_with_retry(stop)
    if client is None:
        return
    serve_worker_metrics()
    tasks = [asyncio.create_task(reconcile_forever(stop, passes))] if reconcile else []
    try:
        while not stop.is_set():
            workers = ([build_worker(client)] if approvals else []) + (
                [build_ocr_worker(client)] if ocr else []
            )
            log.info(
                "worker polling task queues %r at %s",
                [w.task_queue for w in workers],
                settings.TEMPORAL_ADDRESS,
            )
            run_tasks = {asyncio.create_task(w.run()) for w in workers}
            stop_task = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                run_tasks | {stop_task}, return_when=asyncio.FIRST_COMPLETED
            )
            if stop_task not in done:
                stop_task.cancel()
                error = next(t for t in done if t in run_tasks).exception()
                log.error("worker stopped (%s); restarting in 2 s", error)
                for w in workers:
                    with contextlib.suppress(Exception):
                        await w.shutdown()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2)
                continue
            for w in workers:
                await w.shutdown()
            for task in run_tasks:
                with contextlib.suppress(Exception):
                    await task
    finally:
        for task in tasks:
            task.cancel()
