"""The process's Temporal client for synchronous Django code.

Django views are synchronous; the Temporal client is asyncio. One daemon
thread owns an event loop and the one client of this process; `call()` runs a
coroutine there and waits at most a timeout, so a view never hangs on a
missing worker or server and never connects per request. (Async code with its
own loop, such as the worker, connects its own client: one per loop.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from django.conf import settings
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from .codec import data_converter

T = TypeVar("T")


class TemporalUnavailable(Exception):
    """Temporal did not answer in time or could not be reached."""


class _Bridge:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._connecting: asyncio.Future | None = None
        self.timers: list[list[float]] = []  # see timed_calls()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="temporal-client", daemon=True
                )
                thread.start()
                self._loop = loop
            return self._loop

    async def _get_client(self) -> Client:
        if self._client is None:
            self._client = await connect()
        return self._client

    def call(self, fn: Callable[[Client], Awaitable[T]], *, timeout: float | None = None) -> T:
        loop = self._ensure_loop()

        async def run() -> T:
            return await fn(await self._get_client())

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        started = time.perf_counter()
        try:
            return future.result(timeout or settings.TEMPORAL_CALL_TIMEOUT)
        except FutureTimeout as exc:
            future.cancel()
            raise TemporalUnavailable("Temporal did not answer in time.") from exc
        except RuntimeError as exc:  # connect failures surface as RuntimeError
            if "connect" in str(exc).lower() or "transport" in str(exc).lower():
                raise TemporalUnavailable(str(exc)) from exc
            raise
        finally:
            for waits in self.timers:
                waits.append(time.perf_counter() - started)

    def reset(self) -> None:
        """Forget the client (tests pointing at another server)."""
        self._client = None


_bridge = _Bridge()


_worker_runtime: Runtime | None = None


def worker_runtime() -> Runtime | None:
    """The worker process's SDK runtime serving Temporal's metrics on WORKER_METRICS_PORT.

    Created once per process (it binds the port); None when the port is not set,
    and the SDK's default runtime is used.
    """
    global _worker_runtime
    port = str(getattr(settings, "WORKER_METRICS_PORT", "") or "").strip()
    if not port:
        return None
    if _worker_runtime is None:
        bind = f"{settings.WORKER_METRICS_BIND}:{int(port)}"
        # Names as Temporal's docs and alerts use them: `_total` counters, seconds.
        metrics = PrometheusConfig(
            bind, counters_total_suffix=True, unit_suffix=True, durations_as_seconds=True
        )
        _worker_runtime = Runtime(telemetry=TelemetryConfig(metrics=metrics))
    return _worker_runtime


async def connect(address: str | None = None, *, worker: bool = False) -> Client:
    """A client whose data converter encrypts and authenticates payloads (codec.py);
    `worker=True` for the worker's, which carries the metrics runtime."""
    from core import tracing

    runtime = worker_runtime() if worker else None
    extra = {"runtime": runtime} if runtime is not None else {}
    return await Client.connect(
        address or settings.TEMPORAL_ADDRESS,
        namespace=settings.TEMPORAL_NAMESPACE,
        data_converter=data_converter(),
        # Tracing on: client spans here, and (a worker built from this client) workflow
        # and activity spans continuing the caller's trace.
        interceptors=tracing.interceptors(),
        **extra,
    )


def call(fn: Callable[[Client], Awaitable[T]], *, timeout: float | None = None) -> T:
    """Run `fn(client)` on the process's client; raise TemporalUnavailable on timeout."""
    return _bridge.call(fn, timeout=timeout)


def reset_client() -> None:
    _bridge.reset()


@contextlib.contextmanager
def timed_calls() -> Iterator[list[float]]:
    """Collect how long each `call()` of this process waits while inside (benchmarks)."""
    waits: list[float] = []
    _bridge.timers.append(waits)
    try:
        yield waits
    finally:
        _bridge.timers.remove(waits)
