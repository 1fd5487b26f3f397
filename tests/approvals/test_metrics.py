"""`/metrics`: who may scrape, and business counters moving after real decisions."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from approvals import services
from tests.support import ROOT
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(client: Client | None = None, **headers) -> dict[tuple, float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_is_open_from_loopback_and_needs_the_token_from_elsewhere(db, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 200  # the test client is 127.0.0.1
    away = Client(REMOTE_ADDR="10.1.2.3")
    assert away.get("/metrics").status_code == 403
    assert away.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert away.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    # Through a proxy on the same host: not loopback, the token is needed.
    proxied = Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 403
    # Whatever header a proxy (or a client) sets, and whatever it claims: the token.
    for header in (
        "Forwarded",
        "X-Real-IP",
        "X-Forwarded-Host",
        "Via",
        "True-Client-IP",
        "X-Client-IP",
        "CF-Connecting-IP",
    ):
        for claim in ("for=127.0.0.1", "127.0.0.1", "::1"):
            claimed = Client().get("/metrics", headers={header: claim})
            assert claimed.status_code == 403, (header, claim)
            authorised = Client().get(
                "/metrics", headers={header: claim, "Authorization": "Bearer s3cret-token"}
            )
            assert authorised.status_code == 200
    # Behind configured proxies the loopback peer is the proxy: never open.
    settings.TRUSTED_PROXY_COUNT = 1
    assert Client().get("/metrics").status_code == 403
    settings.TRUSTED_PROXY_COUNT = 0
    assert Client().get("/metrics").status_code == 200
    settings.METRICS_TOKEN = ""
    assert away.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_counters_move_after_real_decisions(demo_org, worker):
    before = scrape()
    request = submit(demo_org["emma"], "90.00", title="Metrics")
    wait_pending_level(request, 1)
    max_client = Client()
    max_client.force_login(demo_org["max"])
    assert max_client.get("/inbox/").status_code == 200
    response = max_client.post(f"/requests/{request.pk}/decide/", {"action": "approve"})
    assert response.status_code == 302
    wait_status(request, "approved")
    second = submit(demo_org["emma"], "95.00", title="By mail link")
    state = wait_pending_level(second, 1)
    services.decision_signal(
        request=second,
        actor=demo_org["max"],
        action="reject",
        comment="Not this one",
        decision_id=str(uuid.uuid4()),
        level=state.current_level,
    )
    wait_status(second, "rejected")

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # The projection is written just before the audit rows are counted: wait for both.
    def counted():
        scraped = scrape()
        done = (
            value(scraped, "approvals_requests", status="rejected") == 1
            and (
                value(scraped, "approvals_decisions_total", action="reject", channel="signal")
                - value(before, "approvals_decisions_total", action="reject", channel="signal")
            )
            == 1
        )
        return scraped if done else None

    after = wait_for(counted, timeout=20, message="the signal decision was never counted")

    assert moved("approvals_decisions_total", action="approve", channel="update") == 1
    assert moved("approvals_decisions_total", action="reject", channel="signal") == 1
    assert moved("approvals_time_to_decision_seconds_count", level="1") == 2
    assert moved("approvals_view_latency_seconds_count", view="inbox") == 1
    assert moved("approvals_view_latency_seconds_count", view="decide") == 1
    assert value(after, "approvals_requests", status="approved") == 1
    assert value(after, "approvals_requests", status="rejected") == 1
    assert value(after, "approvals_requests", status="pending") == 0
    for gauge in (
        "approvals_requests_needing_approver",
        "approvals_requests_overdue",
        "approvals_failed_side_effects",
        "approvals_ops_issues_open",
    ):
        assert (gauge, ()) in after, gauge


def test_counters_of_several_processes_add_up_with_a_multiproc_dir(tmp_path):
    """Two processes count into PROMETHEUS_MULTIPROC_DIR; a third one's scrape sums them."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "1",
    }
    count = (
        "import django; django.setup(); from approvals import metrics; "
        "metrics.DECISIONS.labels(action='approve', channel='update').inc(); "
        "metrics.ESCALATIONS.inc()"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, cwd=ROOT, check=True)
    read = (
        "import django; django.setup(); from approvals import metrics; "
        "from prometheus_client import CollectorRegistry, generate_latest, multiprocess; "
        "r = CollectorRegistry(); multiprocess.MultiProcessCollector(r); "
        "print(generate_latest(r).decode())"
    )
    text = subprocess.run(
        [sys.executable, "-c", read], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    assert value(samples, "approvals_decisions_total", action="approve", channel="update") == 2
    assert value(samples, "approvals_escalations_total") == 2


def test_escalations_reminders_and_expiries_count_once_per_audit_row(demo_org):
    from decimal import Decimal

    from approvals.effects import projection
    from approvals.models import ExpenseRequest
    from approvals.workflow.contract import StepEvent

    expense = ExpenseRequest.objects.create(
        requester=demo_org["emma"], title="Counted", amount=Decimal("5.00"), category="travel"
    )
    at = "2030-01-07T09:00:00+00:00"
    events = [
        StepEvent(kind="reminder", level=1, detail={"seq": 3, "at": at}),
        StepEvent(kind="escalated", level=1, detail={"seq": 4, "at": at}),
        StepEvent(kind="expired", level=1, detail={"seq": 5, "at": at}),
    ]
    names = ("approvals_reminders_total", "approvals_escalations_total", "approvals_expiries_total")

    def counts():
        return [REGISTRY.get_sample_value(name) or 0 for name in names]

    before = counts()
    projection.append_audit(expense.pk, events)
    projection.append_audit(expense.pk, events)  # a retried activity adds nothing
    assert [a - b for a, b in zip(counts(), before, strict=True)] == [1, 1, 1]
