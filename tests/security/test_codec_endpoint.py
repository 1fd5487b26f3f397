"""/codec/: Temporal's remote codec protocol, for administrators only.

Per role (anonymous, employee, admin session, bearer token), CORS for the
configured Temporal UI origin, CSRF for sessions but not for the token, and
the real `temporal` CLI showing a decoded history through `--codec-endpoint`.
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from django.test import Client

from scripts.run import temporal_binary
from tests.support.requests import submit, wait_pending_level

pytestmark = pytest.mark.django_db

TOKEN = "codec-token-for-tests-0123456789"
UI = "http://127.0.0.1:8233"


@pytest.fixture(autouse=True)
def codec_settings(settings):
    settings.CODEC_TOKEN = TOKEN
    settings.TEMPORAL_UI_ORIGIN = UI
    return settings


def body(*values) -> str:
    payloads = [
        {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(json.dumps(v).encode()).decode(),
        }
        for v in values
    ]
    return json.dumps({"payloads": payloads})


def post(client, operation: str, data: str, **headers):
    return client.post(f"/codec/{operation}", data, content_type="application/json", **headers)


def meta(payload: dict, key: str) -> bytes:
    return base64.b64decode(payload["metadata"][key])


def test_anonymous_is_refused(client):
    for operation in ("encode", "decode"):
        response = post(client, operation, body("x"))
        assert response.status_code == 401
        assert "payloads" not in response.json()


def test_employee_and_auditor_without_superuser_are_refused(client, demo_org):
    for name in ("emma", "max"):
        client.force_login(demo_org[name])
        assert post(client, "decode", body("x")).status_code == 403
        assert post(client, "encode", body("x")).status_code == 403


def test_wrong_or_unset_token_is_refused(client, settings):
    assert post(client, "decode", body("x"), HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    settings.CODEC_TOKEN = ""
    unset = post(client, "decode", body("x"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert unset.status_code == 401


def test_admin_session_round_trips_payloads(client, demo_org):
    client.force_login(demo_org["admin"])
    encoded = post(client, "encode", body({"title": "Dinner"}, 42))
    assert encoded.status_code == 200
    payloads = encoded.json()["payloads"]
    assert len(payloads) == 2
    assert meta(payloads[0], "encoding") == b"binary/encrypted"
    assert b"Dinner" not in base64.b64decode(payloads[0]["data"])
    decoded = post(client, "decode", json.dumps({"payloads": payloads}))
    assert decoded.status_code == 200
    first, second = decoded.json()["payloads"]
    assert json.loads(base64.b64decode(first["data"])) == {"title": "Dinner"}
    assert meta(first, "encoding") == b"json/plain"
    assert json.loads(base64.b64decode(second["data"])) == 42


def test_admin_session_needs_csrf_but_token_does_not(demo_org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(demo_org["admin"])
    assert post(browser, "decode", body("x")).status_code == 403  # no CSRF token
    tool = Client(enforce_csrf_checks=True)
    response = post(tool, "decode", body("x"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200


def test_cors_answers_only_the_temporal_ui_origin(client):
    preflight = client.options(
        "/codec/decode",
        HTTP_ORIGIN=UI,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-namespace,authorization",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == UI
    assert preflight["Access-Control-Allow-Credentials"] == "true"
    assert "X-Namespace" in preflight["Access-Control-Allow-Headers"]
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    answer = post(client, "decode", body("x"), HTTP_ORIGIN=UI, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer["Access-Control-Allow-Origin"] == UI
    foreign = client.options("/codec/decode", HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign
    answer = post(
        client,
        "decode",
        body("x"),
        HTTP_ORIGIN="http://evil.example",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert "Access-Control-Allow-Origin" not in answer


def test_bad_body_other_namespace_and_unknown_operation(client):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert post(client, "decode", "not json", **auth).status_code == 400
    assert post(client, "decode", body("x"), HTTP_X_NAMESPACE="other", **auth).status_code == 400
    assert post(client, "decode", body("x"), HTTP_X_NAMESPACE="default", **auth).status_code == 200
    assert post(client, "compress", body("x"), **auth).status_code == 404
    assert client.get("/codec/decode", **auth).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_temporal_cli_shows_decoded_history_through_the_codec_endpoint(
    demo_org, worker, temporal_server, live_server
):
    title = "CLI-visible-only-through-codec"
    request = submit(demo_org["emma"], "500.00", title=title)
    wait_pending_level(request, 1)
    show = [
        temporal_binary(),
        "workflow",
        "show",
        "--address",
        temporal_server.address,
        "--workflow-id",
        f"expense-{request.pk}",
        "--output",
        "json",
    ]
    without = subprocess.run(show, capture_output=True, text=True, timeout=60, check=True)
    [sealed] = started_input(without.stdout)
    assert meta(sealed, "encoding") == b"binary/encrypted"
    assert title.encode() not in base64.b64decode(sealed["data"])
    with_codec = subprocess.run(
        [
            *show,
            "--codec-endpoint",
            f"{live_server.url}/codec",
            "--codec-auth",
            f"Bearer {TOKEN}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [opened] = started_input(with_codec.stdout)
    assert meta(opened, "encoding") == b"json/plain"
    assert json.loads(base64.b64decode(opened["data"]))["title"] == title


def started_input(cli_json: str) -> list[dict]:
    started = json.loads(cli_json)["events"][0]
    return started["workflowExecutionStartedEventAttributes"]["input"]["payloads"]
