"""Structured logs: JSON lines with request id, workflow id and trace id."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from core.observability import ContextFilter, JsonFormatter, RequestIdMiddleware
from tests.support import ROOT


@pytest.fixture
def json_lines():
    """A JSON handler on a test logger, as settings install it with LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("approvals.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_web_request_logs_its_request_id_and_returns_it(json_lines):
    logger, lines = json_lines

    def view(request):
        logger.info("inside the view")
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/x"))
    (line,) = lines()
    assert line["message"] == "inside the view" and line["level"] == "INFO"
    assert line["request_id"] == response["X-Request-ID"] and len(line["request_id"]) == 32
    logger.info("after the request")
    assert "request_id" not in lines()[-1]  # the id does not leak into later work


def test_a_sane_incoming_request_id_is_kept_and_a_forged_one_replaced(db):
    assert Client().get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    forged = Client().get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level":"evil"}')
    assert forged["X-Request-ID"] != 'x"\n{"level":"evil"}' and len(forged["X-Request-ID"]) == 32


def test_an_activity_logs_its_workflow_id(json_lines):
    logger, lines = json_lines

    @activity.defn(name="log_something")
    def log_something() -> None:
        logger.warning("from an activity")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="expense-42")
    env.run(log_something)
    (line,) = lines()
    assert line["workflow_id"] == "expense-42" and line["level"] == "WARNING"


def test_a_log_inside_a_span_carries_its_trace_id(json_lines):
    trace = pytest.importorskip("opentelemetry.trace")
    from opentelemetry.sdk.trace import TracerProvider

    logger, lines = json_lines
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logger.info("traced")
    (line,) = lines()
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert trace.get_current_span().get_span_context().is_valid is False


def test_log_format_json_makes_the_whole_process_log_json_lines():
    env = {**os.environ, "DJANGO_DEBUG": "1", "LOG_FORMAT": "json"}
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('approvals').error('broken %s', 'mail', exc_info=ValueError('x'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    mine = [line for line in lines if line["logger"] == "approvals"]
    assert mine and mine[0]["message"] == "broken mail" and mine[0]["level"] == "ERROR"
    assert "ValueError" in mine[0]["exception"]
