"""deploy/prometheus/alerts.yml: every rule complete, every approvals_* metric real."""

from __future__ import annotations

import re

import pytest
import yaml
from django.test import Client

from tests.support import ROOT

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_rule_has_expr_for_labels_and_annotations():
    all_rules = rules()
    assert len(all_rules) >= 10
    names = [rule["alert"] for rule in all_rules]
    assert len(names) == len(set(names)), "alert names must be unique"
    for rule in all_rules:
        name = rule["alert"]
        assert isinstance(rule.get("expr"), str) and rule["expr"].strip(), name
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), name
        assert rule.get("labels", {}).get("severity") in {"info", "warning", "critical"}, name
        annotations = rule.get("annotations", {})
        assert annotations.get("summary") and annotations.get("description"), name


def test_temporal_recommended_and_our_own_alerts_are_there():
    exprs = " ".join(rule["expr"] for rule in rules())
    for metric in (
        "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
        "temporal_activity_schedule_to_start_latency_seconds_bucket",
        "temporal_workflow_task_execution_failed_total",
        "temporal_activity_execution_failed_total",
        "temporal_long_request_failure_total",
        "approvals_requests_overdue",
        "approvals_failed_side_effects",
        "approvals_requests_needing_approver",
    ):
        assert metric in exprs, metric


@pytest.mark.django_db
def test_every_approvals_metric_an_alert_uses_is_served_at_metrics():
    served = Client().get("/metrics").content.decode()
    families = set(re.findall(r"^# TYPE (approvals_\w+) ", served, re.M))
    used = set(re.findall(r"\b(approvals_\w+)", " ".join(rule["expr"] for rule in rules())))
    for name in used:
        base = re.sub(r"_(total|bucket|count|sum)$", "", name)
        assert name in families or base in families, f"{name} is not served at /metrics"
