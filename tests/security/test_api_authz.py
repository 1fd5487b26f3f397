"""Authorization matrix of the JSON API with personal access tokens: every operation ×
every caller (employee, manager, delegate, admin, outsider, anonymous, a token without
the operation's scope, a revoked and an expired token).

The world: emma's request pending at level 1 (max decides it), maria standing in for max
today. Bodies are valid, so the answer shows what the door and then the workflow say;
nothing that changes the request runs before the last step (emma's withdraw).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as people
from accounts.models import AccessToken
from approvals.models import ExpenseRequest
from tests.support.api import ALL_SCOPES, ApiClient, token_for
from tests.support.requests import delegate, submit, wait_pending_level
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = (
    "employee",  # emma, the requester
    "manager",  # max, the approver of level 1
    "delegate",  # maria, decides for max today
    "admin",
    "outsider",  # finn: not in the chain
    "anonymous",
    "wrong_scope",  # max's token with every scope but the operation's
    "revoked",  # max's revoked token
    "expired",  # max's expired token
)
PEOPLE = {"employee": "emma", "manager": "max", "delegate": "maria", "admin": "admin"}
PEOPLE["outsider"] = "finn"

# operation: (method, path, body, scope, answers in the order of CALLERS)
DENIED = (401, 403, 401, 401)  # anonymous, wrong scope, revoked, expired
OPERATIONS = {
    "list mine": ("get", "/requests", None, "read", (200, 200, 200, 200, 200, *DENIED)),
    "detail": ("get", "/requests/{pk}", None, "read", (200, 200, 200, 200, 404, *DENIED)),
    "status": ("get", "/requests/{pk}/status", None, "read", (200, 200, 200, 200, 404, *DENIED)),
    "inbox": ("get", "/inbox", None, "read", (200, 200, 200, 200, 200, *DENIED)),
    "submit": (
        "post",
        "/requests",
        {"title": "Matrix", "amount": "20.00", "currency": "EUR", "category": "meals"},
        "submit",
        (201, 201, 201, 201, 201, *DENIED),
    ),
    # A reject without a comment: every one who may see it is refused by the workflow.
    "decision": (
        "post",
        "/requests/{pk}/decision",
        {"action": "reject"},
        "decide",
        (409, 409, 409, 409, 404, *DENIED),
    ),
    # Not requested: nobody resubmits (the requester is told changes were not requested).
    "resubmit": (
        "post",
        "/requests/{pk}/resubmit",
        {"title": "Matrix request", "amount": "300.00"},
        "submit",
        (409, 409, 409, 409, 404, *DENIED),
    ),
    # The approver and an admin extend; the requester and a delegate may not (the rules).
    "extend": (
        "post",
        "/requests/{pk}/extend",
        {"seconds": 60},
        "decide",
        (409, 200, 409, 200, 404, *DENIED),
    ),
    # Last: only the requester withdraws (emma is the last caller).
    "withdraw": (
        "post",
        "/requests/{pk}/withdraw",
        {},
        "submit",
        (200, 409, 409, 409, 404, *DENIED),
    ),
}


@pytest.fixture
def world(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    delegate(demo_org["max"], demo_org["maria"])
    return {"request": request.pk, "users": demo_org}


def _caller(kind: str, scope: str, users) -> ApiClient:
    if kind in PEOPLE:
        return ApiClient(token_for(users[PEOPLE[kind]], scope))
    if kind == "anonymous":
        return ApiClient()
    max_ = users["max"]
    if kind == "wrong_scope":
        return ApiClient(token_for(max_, *[s for s in ALL_SCOPES if s != scope]))
    token, secret = people.token_create(owner=max_, name=kind, scopes=list(ALL_SCOPES))
    if kind == "revoked":
        people.token_revoke(token=token)
    else:
        AccessToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    return ApiClient(secret)


def test_every_api_operation_answers_every_caller_as_the_matrix_says(world):
    failures = []
    checked = 0
    order = [*[c for c in CALLERS if c != "employee"], "employee"]
    for name, (method, path, body, scope, answers) in OPERATIONS.items():
        assert len(answers) == len(CALLERS), name
        url = path.format(pk=world["request"])
        for kind in order:
            api = _caller(kind, scope, world["users"])
            response = api.get(url) if method == "get" else api.post(url, body)
            expected = answers[CALLERS.index(kind)]
            checked += 1
            if response.status_code != expected:
                failures.append(
                    f"{method.upper()} {url} ({name}) as {kind}: expected {expected}, "
                    f"got {response.status_code} {response.content[:200]!r}"
                )
    print(f"\nAPI authorization matrix: {len(OPERATIONS)} operations x {len(CALLERS)} = {checked}")
    assert not failures, "\n".join(failures)
    assert ExpenseRequest.objects.get(pk=world["request"]).status == "withdrawn"


def test_every_api_operation_is_in_the_matrix():
    from approvals.api import api

    operations = {
        (method.lower(), path.removeprefix("/api/v1"))
        for path, item in api.get_openapi_schema()["paths"].items()
        for method in item
    }
    listed = {(method, path) for method, path, *_ in OPERATIONS.values()}
    assert operations == listed
