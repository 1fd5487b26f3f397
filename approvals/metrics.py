"""Business metrics (`approvals_*`) for Prometheus, and the text served at `/metrics`.

Two kinds:

- Counters and histograms incremented where the thing happens: decisions by
  Update in `services/decisions.py`; decisions by Signal, escalations,
  reminders, expiries and time to decision when the audit row is first written
  (`effects/projection.append_audit`, so a retried activity never counts
  twice); failed side effects in `effects/notifications.record_failure`; view
  latency by the `timed` decorator.
- Gauges read from the projection at scrape time (`ProjectionCollector`):
  requests by status, requests waiting on nobody, overdue, queued too long,
  failed mails, open ops issues. They are exact whichever process scrapes.

Multi-process: with `PROMETHEUS_MULTIPROC_DIR` set (one directory shared by
every process of the host, emptied at start) the scrape aggregates every
process's counters. Without it, each process serves its own; the worker
process can serve its counters on `WORKER_APP_METRICS_PORT`.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from functools import wraps

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

DECISIONS = Counter(
    "approvals_decisions_total", "Decisions applied, by action and channel.", ["action", "channel"]
)
TIME_TO_DECISION = Histogram(
    "approvals_time_to_decision_seconds",
    "Time from a level's assignment to its decision.",
    ["level"],
    buckets=(60, 300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400),
)
ESCALATIONS = Counter("approvals_escalations_total", "Levels escalated at their deadline.")
REMINDERS = Counter("approvals_reminders_total", "Reminders sent before a deadline.")
EXPIRIES = Counter("approvals_expiries_total", "Requests expired after the last escalation.")
SIDE_EFFECT_FAILURES = Counter(
    "approvals_side_effect_failures_total", "Side effects that failed for good.", ["kind"]
)
VIEW_LATENCY = Histogram(
    "approvals_view_latency_seconds",
    "Latency of the inbox and decision views.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
VISIBILITY_CALLS = Counter(
    "approvals_visibility_calls_total",
    "Visibility calls made (List/CountWorkflowExecutions), by call, priority and outcome.",
    ["call", "priority", "outcome"],
)
VISIBILITY_WAIT = Histogram(
    "approvals_visibility_wait_seconds",
    "Time a visibility call waited for the budget's token.",
    ["priority"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
VISIBILITY_THROTTLED = Counter(
    "approvals_visibility_throttled_total",
    "Visibility calls not made: budget spent (reason=budget) or Temporal refused (server).",
    ["priority", "reason"],
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
INBOX_RESULTS = Counter(
    "approvals_inbox_results_total",
    "Inbox results served, by source: fresh (cached, unchanged), fetched, coalesced "
    "(another request's call), stale (last good when throttled), record (the projection).",
    ["source"],
)
QUEUED_TOO_LONG = timedelta(minutes=1)


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


class ProjectionCollector(Collector):
    """Gauges computed from the projection at scrape time (a few indexed counts)."""

    def collect(self):
        from django.db.models import Count
        from django.utils import timezone

        from .models import ExpenseRequest, Notification, OpsIssue, RequestStatus

        now = timezone.now()
        by_status = GaugeMetricFamily(
            "approvals_requests", "Requests by status (from the projection).", labels=["status"]
        )
        counts = dict(
            ExpenseRequest.objects.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in RequestStatus.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        pending = ExpenseRequest.objects.filter(status=RequestStatus.PENDING)
        yield GaugeMetricFamily(
            "approvals_requests_needing_approver",
            "Pending requests that wait on nobody (no one can decide them).",
            value=pending.exclude(waiting_reason="").count(),
        )
        yield GaugeMetricFamily(
            "approvals_requests_overdue",
            "Pending requests past their level's deadline (SLA breached).",
            value=pending.filter(due_at__lt=now).count(),
        )
        yield GaugeMetricFamily(
            "approvals_requests_queued_too_long",
            "Requests saved but without a workflow for more than a minute.",
            value=ExpenseRequest.objects.filter(
                status=RequestStatus.QUEUED,
                workflow_started_at__isnull=True,
                created_at__lt=now - QUEUED_TOO_LONG,
            ).count(),
        )
        yield GaugeMetricFamily(
            "approvals_failed_side_effects",
            "Mails that failed for good and were not resent yet.",
            value=Notification.objects.filter(status="failed").count(),
        )
        yield GaugeMetricFamily(
            "approvals_ops_issues_open",
            "Activities failing repeatedly (attempt 3 or more), not yet recovered.",
            value=OpsIssue.objects.filter(resolved_at__isnull=True).count(),
        )


_projection = CollectorRegistry(auto_describe=False)
_projection.register(ProjectionCollector())


def exposition() -> tuple[bytes, str]:
    """The whole scrape: this host's counters (all processes when multi-process) + gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_projection), CONTENT_TYPE_LATEST


_served = False


def serve_worker_metrics() -> None:
    """Serve this process's counters on WORKER_APP_METRICS_PORT (the worker), once, if set."""
    global _served
    port = os.environ.get("WORKER_APP_METRICS_PORT", "").strip()
    if port and not _served:
        from prometheus_client import start_http_server

        start_http_server(int(port), addr=os.environ.get("WORKER_METRICS_BIND", "0.0.0.0"))
        _served = True
