"""The JSON API end to end on the real Temporal dev server and worker: submit, the
inbox, decisions (Updates) and their refusals, withdraw, resubmit, extend, status,
idempotency, the rate limit, session auth with CSRF, outages, the call record."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from approvals.labels import refusal_text
from approvals.models import ApiCall, ExpenseRequest
from tests.support.api import ApiClient, api_for, token_for, wait_projected
from tests.support.requests import submit, wait_pending_level, wait_state, wait_status
from tests.support.servers import temporal_unreachable
from tests.support.visibility import clear_inbox
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def wait_in_inbox(api: ApiClient, pk: int) -> dict:
    """Poll the API inbox (visibility lags a little) until request `pk` is in it."""

    def row():
        rows = api.get("/inbox").json()["rows"]
        return next((r for r in rows if r["request_id"] == pk), None)

    return wait_for(row, message=f"request {pk} never reached the API inbox")


def test_submit_inbox_approve_by_token_and_the_audit_names_the_token(demo_org, worker):
    emma = api_for(demo_org["emma"], "submit", "read")
    answer = emma.post(
        "/requests",
        {"title": "Conference", "amount": "450.00", "currency": "EUR", "category": "travel"},
    )
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    assert answer.json()["requester"] == "emma" and answer.json()["amount"] == "450.00"
    request = ExpenseRequest.objects.get(pk=pk)
    wait_pending_level(request, 1)

    max_api = ApiClient(token_for(demo_org["max"], "read", "decide", name="max-phone"))
    row = wait_in_inbox(max_api, pk)
    assert row["requester"] == "emma" and row["amount_cents"] == 45000
    decided = max_api.post(f"/requests/{pk}/decision", {"action": "approve"})
    assert decided.status_code == 200, decided.content
    state = decided.json()
    assert state["status"] == "approved"
    assert state["decisions"][-1]["actor"] == "max"

    call = ApiCall.objects.get(request_id=pk, action="api-decision")
    assert call.token_name == "max-phone" and call.username == "max" and call.status_code == 200
    page = client_for(demo_org["admin"]).get(f"/audit/{pk}/").content.decode()
    assert "via API token max-phone" in page
    # emma lists her own requests, filtered by status.
    wait_status(request, "approved")
    mine = emma.get("/requests", status="approved").json()
    assert [item["id"] for item in mine["items"]] == [pk]
    assert emma.get("/requests", status="pending").json()["count"] == 0


def test_refusal_is_409_with_its_code_in_the_callers_language(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    wait_projected(request, ["max"])
    # emma holds a decide token, but it is her own request.
    for language in ("en", "de"):
        api = api_for(demo_org["emma"], "decide", HTTP_ACCEPT_LANGUAGE=language)
        api.headers["Accept-Language"] = language
        answer = api.post(f"/requests/{request.pk}/decision", {"action": "approve"})
        assert answer.status_code == 409
        with translation.override(language):
            words = refusal_text("OwnRequest")
        assert answer.json() == {"code": "OwnRequest", "message": words}
    # German words really are German.
    with translation.override("de"):
        assert refusal_text("OwnRequest") != "You cannot decide on your own request."
    # A reject without a comment is refused by the workflow's rules too.
    answer = api_for(demo_org["max"]).post(f"/requests/{request.pk}/decision", {"action": "reject"})
    assert answer.status_code == 409 and answer.json()["code"] == "CommentRequired"


def test_an_approver_decides_before_the_projection_shows_the_level(demo_org, worker):
    """The validator, not the projection, decides: a lagging projection never 404s the
    approver of a fresh level."""
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    wait_projected(request, ["max"])  # then no later write of this transition comes
    ExpenseRequest.objects.filter(pk=request.pk).update(pending_approvers=[], chain_usernames=[])
    answer = api_for(demo_org["max"]).post(
        f"/requests/{request.pk}/decision", {"action": "approve"}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "approved"


def test_a_request_the_caller_may_not_see_is_a_404_like_a_missing_one(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    finn = api_for(demo_org["finn"])
    missing = request.pk + 10_000
    for path in ("/requests/{}", "/requests/{}/status"):
        foreign, absent = finn.get(path.format(request.pk)), finn.get(path.format(missing))
        assert foreign.status_code == absent.status_code == 404
    foreign = finn.post(f"/requests/{request.pk}/decision", {"action": "approve"})
    absent = finn.post(f"/requests/{missing}/decision", {"action": "approve"})
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == absent.json()
    assert wait_state(request, lambda s: s.status == "pending").decisions == []


def test_submit_is_validated_like_the_form(demo_org):
    api = api_for(demo_org["emma"], "submit")
    answer = api.post(
        "/requests", {"title": "  ", "amount": "0", "currency": "EUR", "category": "boats"}
    )
    assert answer.status_code == 422
    errors = {e["loc"][-1]: e["msg"] for e in answer.json()["detail"]}
    assert errors["amount"] == "The amount must be greater than zero."
    assert set(errors) == {"title", "amount", "category"}
    # ninja's own 422 for a body of the wrong shape, in the same documented form.
    answer = api.post("/requests", {"title": "x"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][0] == "body"
    assert not ExpenseRequest.objects.exists()


def test_submit_token_submits_once(demo_org, worker):
    """The form's one-time `submit_token`, through the API: a retry gets the first request."""
    api = api_for(demo_org["emma"], "submit")
    body = {"title": "Taxi", "amount": "40.00", "currency": "EUR", "category": "travel"}
    token = str(uuid.uuid4())
    first = api.post("/requests", {**body, "submit_token": token})
    again = api.post("/requests", {**body, "submit_token": token})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert ExpenseRequest.objects.count() == 1
    # Another token (or none) is another request; finn's same token is his own.
    assert api.post("/requests", {**body, "submit_token": str(uuid.uuid4())}).status_code == 201
    assert api.post("/requests", body).status_code == 201
    finn = api_for(demo_org["finn"], "submit")
    assert finn.post("/requests", {**body, "submit_token": token}).status_code == 201
    assert ExpenseRequest.objects.count() == 4


def test_rate_limit_per_token_is_429_with_retry_after(demo_org, settings):
    settings.API_RATE_LIMIT = 3
    cache.clear()
    busy, calm = api_for(demo_org["emma"]), api_for(demo_org["emma"])
    statuses = [busy.get("/requests").status_code for _ in range(4)]
    if statuses[-1] == 200:  # the minute turned over mid-way: the next window counts anew
        statuses = [busy.get("/requests").status_code for _ in range(4)]
    assert statuses[-1] == 429
    limited = busy.get("/requests")
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert calm.get("/requests").status_code == 200  # per token, not per person
    assert ApiCall.objects.filter(status_code=429).exists()


def test_session_callers_need_the_csrf_token(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(demo_org["max"])
    path = f"/api/v1/requests/{request.pk}/decision"
    body = {"action": "approve"}
    refused = browser.post(path, body, content_type="application/json")
    assert refused.status_code == 403
    assert wait_state(request, lambda s: s.status == "pending").decisions == []
    # With the CSRF cookie and header, as the page's htmx sends them, it goes through.
    browser.get("/inbox/")
    csrf = browser.cookies["csrftoken"].value
    answer = browser.post(
        path, body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "approved"
    assert ApiCall.objects.get(action="api-decision", status_code=200).token_name == ""
    # Reads need no CSRF token; anonymous callers get 401.
    assert browser.get(f"/api/v1/requests/{request.pk}").status_code == 200
    assert Client().get(f"/api/v1/requests/{request.pk}").status_code == 401


def test_withdraw_resubmit_extend_and_status(demo_org, worker):
    emma, max_ = api_for(demo_org["emma"]), api_for(demo_org["max"])
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    status = emma.get(f"/requests/{request.pk}/status")
    assert status.status_code == 200 and status.json()["pending_approvers"] == ["max"]
    extended = max_.post(f"/requests/{request.pk}/extend", {"seconds": 3600, "reason": "away"})
    assert extended.status_code == 200, extended.content
    # Only the approver (or an admin) extends.
    assert emma.post(f"/requests/{request.pk}/extend", {"seconds": 60}).status_code == 409
    changes = max_.post(
        f"/requests/{request.pk}/decision",
        {"action": "request_changes", "comment": "Which trip?"},
    )
    assert changes.status_code == 200 and changes.json()["status"] == "changes_requested"
    resubmitted = emma.post(
        f"/requests/{request.pk}/resubmit",
        {"title": "Train to Hamburg", "amount": "280.00", "comment": "the Hamburg trip"},
    )
    assert resubmitted.status_code == 200, resubmitted.content
    assert resubmitted.json()["status"] == "pending" and resubmitted.json()["title"] == (
        "Train to Hamburg"
    )
    # max may see it but only the requester withdraws: the workflow's refusal.
    refused = max_.post(f"/requests/{request.pk}/withdraw", {})
    assert refused.status_code == 409 and refused.json()["code"] == "OnlyRequesterWithdraws"
    withdrawn = emma.post(f"/requests/{request.pk}/withdraw", {"reason": "not needed"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_outage_is_a_503_with_the_words(demo_org, worker, settings):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    wait_projected(request, ["max"])  # max may see it: told of the outage, not a 404
    api = api_for(demo_org["max"])
    with temporal_unreachable(settings, call_timeout=1):
        answer = api.post(f"/requests/{request.pk}/decision", {"action": "approve"})
        inbox = api.get("/inbox")
    assert answer.status_code == 503 and answer.json()["code"] == "Unavailable"
    assert inbox.status_code == 503 and inbox.json()["code"] == "Unavailable"


def test_inbox_page_tokens_are_signed_for_the_caller(demo_org, worker):
    clear_inbox("max")  # earlier tests' workflows on the session server would fill a page
    api = api_for(demo_org["max"])
    assert api.get("/inbox", page="forged").status_code == 400
    assert api.get("/inbox").json()["next_page"] == ""


def test_docs_need_a_sign_in_and_the_schema_a_sign_in_or_a_token(demo_org):
    anonymous = Client()
    assert anonymous.get("/api/v1/docs").status_code == 302
    assert anonymous.get("/api/v1/openapi.json").status_code == 302
    assert client_for(demo_org["emma"]).get("/api/v1/docs").status_code == 200
    schema = ApiClient(token_for(demo_org["emma"], "read")).get("/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.1")
    decision = schema.json()["paths"]["/api/v1/requests/{pk}/decision"]["post"]
    assert {"200", "401", "403", "404", "409", "422", "429", "503"} <= set(decision["responses"])
