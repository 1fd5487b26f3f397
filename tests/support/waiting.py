"""Polling and concurrency helpers (no fixed sleeps in tests: poll for the condition)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections


def wait_for(predicate, timeout: float = 20, interval: float = 0.05, message: str = ""):
    """Poll until `predicate()` is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or f"condition not met within {timeout}s")


def at_the_same_time(*calls):
    """Run the calls in threads released together; returns (results, errors) by index."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # collected for the test to inspect
            errors[i] = exc
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors
