"""Business metrics (`approvals_*`) for Prometheus; `/metrics` serves them with
`core.metrics.exposition(PROJECTION)`.

Two kinds:

- Counters and histograms incremented where the thing happens: decisions by
  Update in `services/decisions.py`; decisions by Signal, escalations,
  reminders, expiries and time to decision when the audit row is first written
  (`effects/projection.append_audit`, so a retried activity never counts
  twice); failed side effects in `effects/notifications.record_failure`; view
  latency by `core.metrics.timed`.
- Gauges read from the projection at scrape time (`ProjectionCollector`, in
  `PROJECTION`): requests by status, requests waiting on nobody, overdue,
  queued too long, failed mails, open ops issues. They are exact whichever
  process scrapes.

The web tier's metrics (admission, view latency), the multi-process scrape and the
worker's own endpoint are plumbing: `core/metrics.py`.
"""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
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
INBOX_RESULTS = Counter(
    "approvals_inbox_results_total",
    "Inbox results served, by source: fresh (cached, unchanged), events (cached, with "
    "the events since: no call needed), refreshing (older than the safety net, the call "
    "made in the background), fetched, coalesced (another request's call), stale (last "
    "good when throttled), record (the projection).",
    ["source"],
)
INBOX_PAGES = Counter(
    "approvals_inbox_pages_total",
    "Inbox pages: rendered, reused as rendered before for the same rows, or trimmed (the "
    "last page without the rows that left since) (views/inbox_pages.py).",
    ["outcome"],
)
QUEUED_TOO_LONG = timedelta(minutes=1)


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


# The scrape-time gauges, handed to core.metrics.exposition by the /metrics view.
PROJECTION = CollectorRegistry(auto_describe=False)
PROJECTION.register(ProjectionCollector())
