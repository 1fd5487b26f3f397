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


async def connect(address: str | None = None) -> Client:
    """A client whose data converter encrypts and authenticates payloads (codec.py)."""
    return await Client.connect(
        address or settings.TEMPORAL_ADDRESS,
        namespace=settings.TEMPORAL_NAMESPACE,
        data_converter=data_converter(),
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
