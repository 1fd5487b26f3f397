"""The worker process serves the Temporal SDK's metrics on WORKER_METRICS_PORT."""

from __future__ import annotations

import urllib.request

import pytest
from django.db import connection

from scripts.run import free_port
from tests.support.processes import ManagedProcess, process_env
from tests.support.servers import wait_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_serves_temporal_sdk_metrics(tmp_path, task_queue, temporal_server):
    env = process_env(
        database_name=connection.settings_dict["NAME"],
        temporal=temporal_server.address,
        task_queue=task_queue,
    )
    port, app_port = free_port(), free_port()
    env.update(
        WORKER_METRICS_PORT=str(port),
        WORKER_METRICS_BIND="127.0.0.1",
        WORKER_APP_METRICS_PORT=str(app_port),
    )
    worker = ManagedProcess(["run_worker"], env, tmp_path / "worker.log")
    worker.start()
    try:
        wait_port(port, 60)

        def sdk_metrics() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            return text if "temporal_" in text and task_queue in text else ""

        # The SDK's own series, labelled with our task queue (pollers, slots, requests).
        text = wait_for(sdk_metrics, timeout=30, message="no Temporal SDK metrics served")
        assert "temporal_request" in text or "temporal_worker" in text
        wait_port(app_port, 10)
        with urllib.request.urlopen(f"http://127.0.0.1:{app_port}/metrics", timeout=5) as r:
            assert "approvals_decisions_total" in r.read().decode()
    finally:
        worker.stop()
