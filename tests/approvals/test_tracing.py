"""One decision, traced from the web request through the Update to the worker's handling."""

from __future__ import annotations

import pytest
from django.test import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from approvals.temporal import client as temporal_client
from core import tracing
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.servers import WorkerThread
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
EXPORTER = InMemorySpanExporter()


@pytest.fixture
def traced(task_queue):
    """Tracing on with an in-memory exporter; clients and the worker made after it."""
    if not tracing.setup(exporter=EXPORTER):
        pytest.fail("tracing did not switch on")
    temporal_client.reset_client()
    worker = WorkerThread(task_queue).start()
    EXPORTER.clear()
    yield EXPORTER
    worker.stop()
    tracing.teardown()
    temporal_client.reset_client()


def test_a_decision_is_one_trace_from_the_web_request_to_the_worker(demo_org, traced):
    request = submit(demo_org["emma"], "70.00", title="Traced")
    wait_pending_level(request, 1)
    traced.clear()
    boss = Client()
    boss.force_login(demo_org["max"])
    response = boss.post(f"/requests/{request.pk}/decide/", {"action": "approve"})
    assert response.status_code == 302
    wait_status(request, "approved")

    def spans_of_the_decision():
        spans = traced.get_finished_spans()
        web = [s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith("POST")]
        update = [s for s in spans if s.name == "StartWorkflowUpdate:decide"]
        handled = [s for s in spans if s.name == "HandleUpdate:decide"]
        return (web[0], update[0], handled[0]) if web and update and handled else None

    web, update, handled = wait_for(
        spans_of_the_decision, timeout=20, message="the decision's spans never all arrived"
    )
    # The web request is the root; the client's Update is a child span in its trace.
    assert web.parent is None
    assert update.context.trace_id == web.context.trace_id
    assert update.parent is not None
    # The worker's handling: the SDK puts an Update handler's span in the workflow's
    # own trace (the one its start began) and *links* it to the caller's span, whose
    # context travelled in the Update's headers. Follow that link back to the web.
    linked = {(link.context.trace_id, link.context.span_id) for link in handled.links}
    assert (update.context.trace_id, update.context.span_id) in linked
    assert handled.attributes.get("temporalWorkflowID") == f"expense-{request.pk}"
    validated = [s for s in traced.get_finished_spans() if s.name == "ValidateUpdate:decide"]
    assert validated and any(
        link.context.trace_id == web.context.trace_id for link in validated[0].links
    )
    # The activities the decision caused run in the workflow's trace, after the handler.
    wait_for(
        lambda: [
            s
            for s in traced.get_finished_spans()
            if s.name == "RunActivity:record_transition"
            and s.context.trace_id == handled.context.trace_id
            and s.start_time >= handled.start_time
        ],
        message="no activity span after the Update in the workflow's trace",
    )
