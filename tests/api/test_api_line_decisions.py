"""The decision endpoint with line rejections (issue 26): accepted, and every bad line
rejection a 422 in the caller's words, with nothing decided."""

from __future__ import annotations

import pytest
from django.utils import translation

from approvals.labels import refusal_text
from approvals.workflow.contract import Refusal
from tests.support.api import api_for, wait_projected
from tests.support.reports import submit_report
from tests.support.requests import state_of, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_approve_rejects_lines_through_the_api(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    answer = api_for(demo_org["max"], "read", "decide").post(
        f"/requests/{request.pk}/decision",
        {"action": "approve", "rejected_lines": [{"line": 4, "reason": "Guest list missing"}]},
    )
    assert answer.status_code == 200, answer.content
    state = answer.json()
    assert state["status"] == "pending" and state["pending_approvers"] == ["diana"]
    assert [(x["n"], x["status"]) for x in state["lines"]] == [
        (1, "open"),
        (2, "open"),
        (3, "open"),
        (4, "rejected"),
    ]
    assert state["lines"][3]["reason"] == "Guest list missing"
    assert state["decisions"][0]["rejected_lines"] == [{"n": 4, "reason": "Guest list missing"}]
    # diana's status call shows the same lines (get_status returns them).
    status = api_for(demo_org["diana"], "read").get(f"/requests/{request.pk}/status")
    assert status.status_code == 200 and status.json()["lines"][3]["rejected_by"] == "max"


@pytest.mark.parametrize(
    ("body", "code", "params", "loc"),
    [
        (
            {"action": "approve", "rejected_lines": [{"line": 2, "reason": "  "}]},
            Refusal.LINE_REASON_REQUIRED,
            {"line": 2},
            [0, "reason"],
        ),
        (
            {
                "action": "approve",
                "rejected_lines": [{"line": 2, "reason": "a"}, {"line": 2, "reason": "b"}],
            },
            Refusal.LINE_TWICE,
            {"line": 2},
            [1, "line"],
        ),
        (
            {"action": "reject", "comment": "no", "rejected_lines": [{"line": 2, "reason": "a"}]},
            Refusal.LINES_ONLY_WHEN_APPROVING,
            {},
            [],
        ),
        (
            {"action": "approve", "rejected_lines": [{"line": 9, "reason": "Not mine"}]},
            Refusal.LINE_UNKNOWN,
            {"line": 9},
            [],
        ),  # the workflow's validator says so
    ],
    ids=["no reason", "a line twice", "on a reject", "no such line"],
)
def test_a_bad_line_rejection_is_a_422_in_words(demo_org, worker, body, code, params, loc):
    request = submit_report(demo_org["emma"])
    before = wait_pending_level(request, 1)
    wait_projected(request, ["max"])
    for language in ("en", "de"):
        api = api_for(demo_org["max"], "decide")
        api.headers["Accept-Language"] = language
        answer = api.post(f"/requests/{request.pk}/decision", body)
        assert answer.status_code == 422, answer.content
        (error,) = answer.json()["detail"]
        with translation.override(language):
            assert error["msg"] == refusal_text(code, params)
        assert error["type"] == code
        assert error["loc"] == ["body", "payload", "rejected_lines", *loc]
    after = state_of(request)
    assert after.seq == before.seq and after.decisions == []


def test_a_line_that_is_no_number_is_ninjas_422(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    answer = api_for(demo_org["max"], "decide").post(
        f"/requests/{request.pk}/decision",
        {"action": "approve", "rejected_lines": [{"line": 0, "reason": "x"}]},
    )
    assert answer.status_code == 422
    assert state_of(request).decisions == []


def test_someone_who_may_not_see_the_report_gets_the_404_not_the_line_refusal(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    answer = api_for(demo_org["finn"], "decide").post(
        f"/requests/{request.pk}/decision",
        {"action": "approve", "rejected_lines": [{"line": 9, "reason": "x"}]},
    )
    assert answer.status_code == 404
    assert state_of(request).decisions == []
