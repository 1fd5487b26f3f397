"""The container's entrypoint and build steps, run here without a Docker engine.

The entrypoint refuses unsafe production settings, migrates (unless told not
to, as on the worker), registers the Temporal Schedules for the worker's command
(or when told to) and then execs the command; the image's collectstatic
step works with production settings.
"""

from __future__ import annotations

import os
import sys
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest

from approvals.temporal.schedules import schedule_ids
from tests.support import ROOT
from tests.support.processes import django_eval, run
from tests.support.schedules import cleanup, cli_schedule_ids, run_async
from tests.support.servers import free_port

ENTRYPOINT = ROOT / "docker-entrypoint.sh"
ADMIN_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/approvals")


@pytest.fixture
def scratch_database():
    """An empty PostgreSQL database of this test's own (named after the test DB and the
    pytest-xdist worker, so parallel workers never drop each other's)."""
    name = os.environ.get("DATABASE_TEST_NAME", "test_approvals") + "_entrypoint"
    name += os.environ.get("PYTEST_XDIST_WORKER", "")
    parts = urlsplit(ADMIN_URL)
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parts._replace(path=f"/{name}").geturl()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def applied_migrations(url: str) -> int:
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0]
        if exists is None:
            return 0
        return conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]


def entrypoint(env: dict[str, str], *command: str):
    return run(["sh", str(ENTRYPOINT), *command], env, timeout=180)


def test_entrypoint_migrates_then_runs_the_command(production_env, scratch_database):
    production_env["DATABASE_URL"] = scratch_database
    result = entrypoint(production_env, "python", "-c", "print('command started')")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("command started")
    assert "System check identified no issues" in result.stdout
    assert applied_migrations(scratch_database) > 0


def test_entrypoint_skips_migrations_when_asked_as_the_worker_does(
    production_env, scratch_database
):
    production_env.update(DATABASE_URL=scratch_database, DJANGO_MIGRATE="0")
    result = entrypoint(production_env, "python", "-c", "print('worker started')")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "worker started" in result.stdout
    assert applied_migrations(scratch_database) == 0


def test_entrypoint_refuses_to_start_without_a_secret(production_env, scratch_database):
    del production_env["SECRET_KEY"]
    production_env["DATABASE_URL"] = scratch_database
    result = entrypoint(production_env, "python", "-c", "print('should not run')")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "should not run" not in result.stdout
    assert applied_migrations(scratch_database) == 0


def test_entrypoint_refuses_to_start_with_debug_on(production_env, scratch_database):
    production_env.update(DATABASE_URL=scratch_database, DJANGO_DEBUG="1")
    result = entrypoint(production_env, "python", "-c", "print('should not run')")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment
    assert "should not run" not in result.stdout


def test_image_collectstatic_step_builds_a_hashed_manifest(production_env, tmp_path):
    # The Dockerfile's build step: production settings, a throwaway secret.
    env = dict(production_env, SECRET_KEY="collectstatic-only-not-used-at-run-time")
    result = run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    assert result.returncode == 0, result.stderr
    static_root = tmp_path / "staticfiles"
    assert (static_root / "staticfiles.json").exists()
    assert list(static_root.glob("css/app.*.css.gz")), "whitenoise compressed nothing"
    url = django_eval(
        "__import__('django.templatetags.static', fromlist=['static']).static('css/app.css')",
        production_env,
    )
    assert url.returncode == 0, url.stderr
    assert url.stdout.strip() != '"/static/css/app.css"'
    assert url.stdout.strip().startswith('"/static/css/app.')


def test_dockerfile_runs_as_non_root_through_the_entrypoint():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    runtime = lines[lines.index("FROM python:3.11-slim-bookworm AS runtime") :]
    assert any(line.startswith("USER app") for line in runtime)
    assert 'ENTRYPOINT ["/app/docker-entrypoint.sh"]' in runtime
    assert any("collectstatic" in line for line in lines)
    assert os.access(ENTRYPOINT, os.X_OK)


@pytest.fixture
def schedules_on(temporal_server):
    """The shared dev server; the schedules the entrypoint registers are deleted after."""
    yield temporal_server.address
    cleanup(temporal_server.address, schedule_ids())


def _task_queues(address: str) -> set[str]:
    async def queues(client) -> set[str]:
        return {
            (await client.get_schedule_handle(i).describe()).schedule.action.task_queue
            for i in schedule_ids()
        }

    return run_async(queues, address)


def test_the_worker_command_registers_the_schedules_before_it_starts(production_env, schedules_on):
    queue = f"entrypoint-{uuid.uuid4().hex[:8]}"
    production_env.update(
        DJANGO_MIGRATE="0", TEMPORAL_ADDRESS=schedules_on, TEMPORAL_TASK_QUEUE=queue
    )
    # `sh -c '…' run_worker`: the worker's command line, with a stand-in that exits.
    result = entrypoint(production_env, "sh", "-c", "echo worker started", "run_worker")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("worker started")
    for schedule_id in schedule_ids():
        assert f"schedule {schedule_id}: created" in result.stdout
    assert set(schedule_ids()) <= set(cli_schedule_ids(schedules_on))
    assert _task_queues(schedules_on) == {queue}


def test_the_web_command_registers_no_schedules_unless_asked(production_env, schedules_on):
    production_env.update(DJANGO_MIGRATE="0", TEMPORAL_ADDRESS=schedules_on)
    result = entrypoint(production_env, "python", "-c", "print('web started')")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "schedule " not in result.stdout
    assert not set(schedule_ids()) & set(cli_schedule_ids(schedules_on))
    production_env["REGISTER_SCHEDULES"] = "1"  # e.g. a web container with the worker inside
    result = entrypoint(production_env, "python", "-c", "print('web started')")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(schedule_ids()) <= set(cli_schedule_ids(schedules_on))


def test_the_worker_does_not_start_when_temporal_cannot_be_reached(production_env):
    production_env.update(
        DJANGO_MIGRATE="0",
        TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        REGISTER_SCHEDULES_WAIT="2",
    )
    result = entrypoint(production_env, "sh", "-c", "echo should not run", "run_worker")
    assert result.returncode != 0
    assert "Temporal is not reachable" in result.stderr
    assert "should not run" not in result.stdout


def test_the_ocr_worker_registers_no_schedules(production_env, schedules_on):
    """`run_worker --ocr-only` (compose's `ocr` service) reads receipts only: it neither
    registers the schedules nor waits for Temporal to do so."""
    production_env.update(DJANGO_MIGRATE="0", TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")
    result = entrypoint(production_env, "sh", "-c", "echo ocr started", "run_worker", "--ocr-only")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ocr started")
    assert "schedule " not in result.stdout
