"""Drive the real app from a script (scripts/make_histories.py): an in-memory
Temporal dev server, the real worker in a thread, and requests submitted and
waited for through the public services. Call after `django.setup()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from scripts.run import dev_server_command, free_port, wait_for_port


@contextlib.contextmanager
def dev_server() -> Iterator[str]:
    """A `temporal server start-dev` with its data in memory; yields its address."""
    port = free_port()
    command = dev_server_command(port, free_port(), Path(""))
    i = command.index("--db-filename")  # no file: in memory
    del command[i : i + 2]
    proc = subprocess.Popen(
        [*command, "--headless"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if not wait_for_port(port, 60, proc):
            raise RuntimeError("the Temporal dev server did not start")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


@contextlib.contextmanager
def worker_thread() -> Iterator[None]:
    """The real worker (`approvals.worker.worker.run`, no reconciler) in a thread with
    its own event loop, polling settings.TEMPORAL_TASK_QUEUE until the block ends."""
    from approvals.worker import worker

    started = threading.Event()
    box: dict = {}

    def main() -> None:
        async def serve() -> None:
            box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
            started.set()
            await worker.run(box["stop"], reconcile=False)

        asyncio.run(serve())

    thread = threading.Thread(target=main, name="worker", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)


def submit(user, amount: str, *, title: str, category: str = "travel"):
    """Submit a request in EUR (travel unless told) through the service, as the form does."""
    from approvals import services

    request = services.expense_submit(
        requester=user,
        title=title,
        amount=Decimal(amount),
        currency="EUR",
        category=category,
        description="",
    )
    request.refresh_from_db()
    return request


def wait_state(request, predicate: Callable, timeout: float = 30):
    """Poll the workflow's status query until `predicate(state)` holds; return the state."""
    from approvals import services

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = services.status_query(request)
        if predicate(state):
            return state
        time.sleep(0.05)
    raise RuntimeError(f"request {request.pk} did not reach the expected state in {timeout}s")


def wait_pending_level(request, level: int, timeout: float = 30):
    return wait_state(
        request,
        lambda s: s.status == "pending" and s.current_level == level and bool(s.pending_approvers),
        timeout,
    )


class FailingMailBackend:
    """A mail backend whose server refuses every message for good (make_histories)."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})
