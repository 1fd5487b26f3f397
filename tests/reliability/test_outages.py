"""Outages: Temporal unreachable from the web layer, the database unreachable
from the worker. Nothing is lost; everything resumes by itself."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest
from django.db import connection

from approvals import services
from approvals.models import AuditEntry, ExpenseRequest
from tests.support.processes import ManagedProcess, process_env
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.servers import WorkerThread, bring_temporal_back, take_temporal_down
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def temporal_down(settings, temporal_server):
    """Point the web layer at a closed port (views give up after 2 s); yields a
    function that brings Temporal back with the usual call timeout."""
    usual = settings.TEMPORAL_CALL_TIMEOUT
    settings.TEMPORAL_CALL_TIMEOUT = 2
    take_temporal_down(settings)

    def restore() -> None:
        # A fresh worker replays the workflow before it answers an Update: on a
        # loaded 2-core machine that took longer than the outage's 2 s.
        settings.TEMPORAL_CALL_TIMEOUT = usual
        bring_temporal_back(settings, temporal_server)

    yield restore
    restore()


def admin_sql(sql: str, params: list | None = None) -> None:
    """Run SQL from the maintenance database (a database cannot lock itself out)."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(sql, params)


def test_views_answer_plainly_while_temporal_is_down_and_work_resumes_after(
    demo_org, task_queue, temporal_down, settings
):
    emma, max_ = demo_org["emma"], demo_org["max"]
    # An existing pending request, started while Temporal was up.
    temporal_down()
    worker = WorkerThread(task_queue).start()
    try:
        earlier = submit(emma, "200.00", title="before the outage")
        wait_pending_level(earlier, 1)
    finally:
        worker.stop()

    take_temporal_down(settings)
    emma_web, max_web = client_for(emma), client_for(max_)

    started = time.monotonic()
    response = emma_web.post(
        "/requests/new/",
        {
            "title": "during the outage",
            "amount": "150.00",
            "currency": "EUR",
            "category": "travel",
            "description": "",
        },
        follow=True,
    )
    submit_seconds = time.monotonic() - started
    assert response.status_code == 200
    assert "will start automatically" in response.content.decode()
    queued = ExpenseRequest.objects.get(title="during the outage")
    assert queued.status == "queued" and queued.workflow_started_at is None

    response = max_web.get("/inbox/")
    assert response.status_code == 200
    assert "not reachable" in response.content.decode()

    response = max_web.post(
        f"/requests/{earlier.pk}/decide/",
        {"action": "approve", "decision_id": uuid.uuid4().hex, "level": 1},
        follow=True,
    )
    assert response.status_code == 200
    assert "not reachable" in response.content.decode()
    earlier.refresh_from_db()
    assert earlier.status == "pending"  # nothing applied

    # Temporal is back: the worker's reconciler starts the queued request.
    temporal_down()
    settings.RECONCILE_INTERVAL_SECONDS = 0.5
    worker = WorkerThread(task_queue, reconcile=True).start()
    try:
        wait_status(queued, "pending", timeout=30)
        state = services.decision_record(request=earlier, actor=max_, action="approve")
        assert state.status == "approved"
        wait_status(earlier, "approved")
    finally:
        worker.stop()
    print(f"\nsubmit with Temporal down answered in {submit_seconds:.2f}s")


def test_activity_retries_while_the_database_refuses_the_worker(
    tmp_path, demo_org, task_queue, temporal_server, settings
):
    """The worker's database goes away mid-flight; the decision is kept and projected later."""
    # A query waits for the worker subprocess to poll: on a busy machine its start alone
    # can take longer than the views' 5 s (this test is about the database, not the start).
    settings.TEMPORAL_CALL_TIMEOUT = 30
    name = connection.settings_dict["NAME"]
    env = process_env(database_name=name, temporal=temporal_server.address, task_queue=task_queue)
    env["PGAPPNAME"] = "approvals-worker-under-test"
    worker = ManagedProcess(["run_worker"], env, tmp_path / "worker.log")
    worker.start()
    try:
        request = submit(demo_org["emma"], "300.00")
        # The worker subprocess may still be starting (under -n 2 it took longer than 20 s).
        wait_pending_level(request, 1, timeout=120)
        wait_for(lambda: AuditEntry.objects.filter(request=request, kind="assigned").exists())
        admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            ["approvals-worker-under-test"],
        )
        try:
            state = services.decision_record(
                request=request, actor=demo_org["max"], action="approve"
            )
            assert state.status == "approved"  # the workflow has it: the decision is not lost
            time.sleep(3)  # the worker's activity fails and retries meanwhile
            assert not AuditEntry.objects.filter(request=request, kind="decided").exists()
        finally:
            admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        wait_for(
            lambda: AuditEntry.objects.filter(request=request, kind="completed").exists(),
            timeout=60,
            message="the projection never caught up after the database came back",
        )
        assert AuditEntry.objects.filter(request=request, kind="decided").count() == 1
        wait_status(request, "approved")
    finally:
        worker.stop()
