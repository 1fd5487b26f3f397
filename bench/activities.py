"""What each activity of a request's first transition and of a decision costs.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/approvals_bench_activities \
        .venv/bin/python bench/activities.py [ROUNDS]

No Temporal and no HTTP: the activity functions themselves (through
temporalio's ActivityEnvironment, as the worker calls them) on PostgreSQL,
with production settings (DEBUG off, the connection pool), mail to Django's
in-memory backend and the live push to Redis (`BENCH_REDIS_URL`, default
db 9), nobody listening. The database is dropped, created, migrated and
loaded with `seed_demo`; then ROUNDS (200) requests of emma's, each through
resolve_route → record_first_steps → send_notifications (the start) and
record_transition of max's approval (a decision).

Prints, per activity: p50 and p95 wall time, SQL statements per call (BEGIN,
COMMIT and savepoints not counted) and the process CPU per call; then the first transition's total.
Interleaving is by request (route, record, mail, decision, next request), so
load drift falls on every activity alike. Speed is measured here, never
asserted in tests.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/approvals_bench_activities"


def setup() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-activities-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("TEMPORAL_PAYLOAD_KEYS", "bench:" + "A" * 43 + "=")  # a throw-away key
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault(
        "REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)


class Counter:
    """SQL statements of one call (a connection execute wrapper)."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def main(rounds: int) -> None:
    setup()
    from django.db import connection
    from temporalio.testing import ActivityEnvironment

    from accounts.models import User
    from approvals.models import ExpenseRequest
    from approvals.worker import activities
    from approvals.workflow.contract import (
        ApprovalState,
        LevelState,
        RouteRequest,
        StepEvent,
        Transition,
    )

    emma = User.objects.get(username="emma")
    env = ActivityEnvironment()
    samples: dict[str, list[tuple[float, float, int]]] = {}

    def timed(name: str, fn, arg):
        counter = Counter()
        cpu, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(counter):
            result = env.run(fn, arg)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        samples.setdefault(name, []).append((wall, cpu, counter.statements))
        return result

    for i in range(rounds + 10):  # 10 warm-up rounds
        expense = ExpenseRequest.objects.create(
            requester=emma,
            title=f"Bench {i}",
            amount=Decimal("120.00"),
            category="travel",
            status="queued",
        )
        at = "2030-01-07T09:00:00+00:00"
        ask = RouteRequest(expense.pk, "emma", 0)
        route = timed("resolve_route", activities.resolve_route, ask)
        approver = route.ladder[0]
        level = LevelState(level=1, approvers=[approver], original_approvers=[approver])
        state = ApprovalState(
            request_id=expense.pk,
            requester="emma",
            requester_display="Emma Engel",
            title=expense.title,
            amount_cents=12000,
            currency="EUR",
            submitted_at=at,
            status="pending",
            current_level=1,
            levels=[level],
            seq=2,
            pending_approvers=[approver],
            due_at="2030-01-10T09:00:00+00:00",
        )
        events = [
            StepEvent(
                kind="submitted",
                actor="emma",
                actor_display="Emma Engel",
                actor_role="requester",
                detail={"seq": 1, "at": at},
            ),
            StepEvent(
                kind="assigned",
                level=1,
                recipients=[approver],
                channel="timer",
                detail={"seq": 2, "at": at, "due_at": state.due_at},
            ),
        ]
        first = Transition(state=state, events=events, publish=True, local=True)
        timed("record_first_steps", activities.record_first_steps, first)
        timed("send_notifications", activities.send_notifications, first)
        level.status, level.decided_by, level.decided_at = "approved", approver, at
        state.status, state.seq, state.pending_approvers, state.due_at = "approved", 4, [], ""
        decided = [
            StepEvent(
                kind="decided",
                level=1,
                actor=approver,
                actor_display="Max",
                actor_role="manager",
                channel="update",
                detail={"seq": 3, "at": at, "action": "approve"},
            ),
            StepEvent(kind="completed", detail={"seq": 4, "at": at, "outcome": "approved"}),
        ]
        timed(
            "record_transition (decision)",
            activities.record_transition,
            Transition(state=state, events=decided, previous_pending=[approver], publish=True),
        )

    print(f"activities — {rounds} rounds after 10 warm-up, PostgreSQL, Redis push")
    print("| activity | p50 ms | p95 ms | CPU ms | SQL statements |")
    print("|---|---:|---:|---:|---:|")
    first_total = []
    for name, rows in samples.items():
        rows = rows[10:]
        walls = sorted(r[0] * 1000 for r in rows)
        cpu = statistics.mean(r[1] * 1000 for r in rows)
        p95 = walls[int(len(walls) * 0.95) - 1]
        print(
            f"| {name} | {statistics.median(walls):.2f} | {p95:.2f} | {cpu:.2f} |"
            f" {statistics.mean(r[2] for r in rows):.1f} |"
        )
        if name != "record_transition (decision)":
            first_total.append(cpu)
    print(f"first transition, CPU in this process: {sum(first_total):.2f} ms per request")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    sys.stdout.flush()
    os._exit(0)
