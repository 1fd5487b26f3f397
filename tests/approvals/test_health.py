"""/healthz: database and Temporal reachability, 503 naming what is down."""

import time

import pytest

from tests.support.servers import temporal_unreachable

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_and_temporal_answer(client, temporal_server):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["temporal"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_names_temporal_when_it_is_unreachable(client, settings):
    with temporal_unreachable(settings):
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["temporal"]
    assert body["checks"]["temporal"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    # The one timing in the contract: /healthz answers within 2 s even then.
    assert elapsed < 2.5


def test_healthz_answers_only_get(client):
    assert client.post("/healthz").status_code == 405
