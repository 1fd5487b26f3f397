"""Metrics plumbing for Prometheus: the text served at `/metrics`, the worker's own
endpoint, and the web tier's metrics (admission, view latency).

The names keep the `approvals_*` prefix of the contract (DESIGN.md, the alerts in
deploy/prometheus/alerts.yml). The business metrics, and the gauges an app computes at
scrape time, live in the app (`approvals/metrics.py`); an app hands its scrape-time
registry to `exposition`.

Multi-process: with `PROMETHEUS_MULTIPROC_DIR` set (one directory shared by
every process of the host, emptied at start) the scrape aggregates every
process's counters. Without it, each process serves its own; the worker
process can serve its counters on `WORKER_APP_METRICS_PORT`.
"""

from __future__ import annotations

import os
import time
from functools import wraps

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

VIEW_LATENCY = Histogram(
    "approvals_view_latency_seconds",
    "Latency of the inbox and decision views.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEB_SHED = Counter(
    "approvals_web_shed_total",
    "Requests a web process answered 503 (Retry-After) instead of queueing them further: "
    "kind=badge (over the in-flight bound), page or form (waited WEB_QUEUE_WAIT for a slot).",
    ["kind"],
)
WEB_QUEUED = Histogram(
    "approvals_web_queue_seconds",
    "Time a request waited for one of the web process's WEB_MAX_INFLIGHT slots.",
    ["kind"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def timed(view: str):
    """Record a view's latency under `view`."""

    def decorate(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                VIEW_LATENCY.labels(view=view).observe(time.perf_counter() - start)

        return wrapper

    return decorate


def exposition(*scraped: CollectorRegistry) -> tuple[bytes, str]:
    """The whole scrape: this host's counters (all processes when multi-process), then
    the registries in `scraped` (gauges computed at scrape time, exact in any process)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    text = generate_latest(registry) + b"".join(generate_latest(r) for r in scraped)
    return text, CONTENT_TYPE_LATEST


_served = False


def serve_worker_metrics() -> None:
    """Serve this process's counters on WORKER_APP_METRICS_PORT (the worker), once, if set."""
    global _served
    port = os.environ.get("WORKER_APP_METRICS_PORT", "").strip()
    if port and not _served:
        from prometheus_client import start_http_server

        start_http_server(int(port), addr=os.environ.get("WORKER_METRICS_BIND", "0.0.0.0"))
        _served = True
