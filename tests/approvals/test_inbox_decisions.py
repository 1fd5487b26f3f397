"""Deciding from the inbox: approve, reject, request changes; every refusal; bulk approve.

Each refusal is checked against the workflow itself (get_status): nothing changed.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from approvals import services
from tests.support.requests import state_of, submit, wait_pending_level, wait_status
from tests.support.web import (
    HTMX,
    NOT_YOURS,
    assert_refused,
    client_for,
    post_decision,
    wait_inbox,
    wait_not_in_inbox,
)

pytestmark = pytest.mark.django_db(transaction=True)


def assert_unchanged(request, level: int, approvers: list[str], decisions: int = 0) -> None:
    state = state_of(request)
    assert state.status == "pending"
    assert state.current_level == level
    assert state.pending_approvers == approvers
    assert len(state.decisions) == decisions


def test_manager_approves_from_inbox_row_is_removed_at_once(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    response = post_decision(max_, request.pk, "approve")
    assert response.status_code == 200
    # The row is replaced by the confirmation now, before visibility catches up.
    assert response["HX-Retarget"] == f"#inbox-row-{request.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert 'data-testid="decision-done"' in html
    assert "Approved: now waiting for Diana Dietrich." in html
    assert f'id="inbox-row-{request.pk}"' not in html
    state = state_of(request)
    assert state.current_level == 2 and state.pending_approvers == ["diana"]
    assert state.decisions[-1].actor == "max" and state.decisions[-1].action == "approve"
    wait_not_in_inbox(max_, request.pk)
    wait_inbox(client_for(demo_org["diana"]), {request.pk}, exact=False)


def test_director_rejects_with_comment_and_request_is_rejected(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=demo_org["max"], action="approve")
    response = post_decision(
        client_for(demo_org["diana"]), request.pk, "reject", comment="Too much"
    )
    assert "Rejected." in response.content.decode()
    wait_status(request, "rejected")
    assert state_of(request).decisions[-1].comment == "Too much"


def test_request_changes_needs_a_comment_and_then_works(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    assert_refused(
        post_decision(max_, request.pk, "request_changes", comment="  "),
        "A comment is required to reject or to request changes.",
    )
    assert_unchanged(request, 1, ["max"])
    response = post_decision(max_, request.pk, "request_changes", comment="Add the receipt")
    assert "Changes requested." in response.content.decode()
    assert state_of(request).status == "changes_requested"


def test_plain_post_redirects_back_with_a_message(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    response = max_.post(
        f"/requests/{request.pk}/decide/",
        {"action": "reject", "comment": "No", "next": "https://evil.example/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/inbox/"  # a foreign `next` is ignored
    assert f"#{request.pk}: Rejected." in response.content.decode()
    wait_status(request, "rejected")


def test_same_decision_sent_twice_is_applied_once(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    decision_id = str(uuid.uuid4())
    for _ in range(2):
        response = post_decision(max_, request.pk, "approve", decision_id=decision_id)
        assert 'data-testid="decision-done"' in response.content.decode()
    state = state_of(request)
    assert [d.actor for d in state.decisions] == ["max"]
    assert state.current_level == 2


# ------------------------------------------------------------------ refusals
def test_someone_elses_request_is_refused_like_a_missing_one(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    finn = client_for(demo_org["finn"])
    foreign = post_decision(finn, request.pk, "approve")
    missing = post_decision(finn, 999_999_999, "approve")
    assert_refused(foreign, NOT_YOURS)
    assert_refused(missing, NOT_YOURS)
    # Same words either way: the POST learns nothing about the request.
    assert foreign.content.decode().replace(
        str(request.pk), "N"
    ) == missing.content.decode().replace("999999999", "N")
    assert_unchanged(request, 1, ["max"])


def test_requester_cannot_decide_own_request(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    assert_refused(
        post_decision(client_for(demo_org["emma"]), request.pk, "approve"),
        "You cannot decide on your own request.",
    )
    assert_unchanged(request, 1, ["max"])


def test_director_cannot_approve_level_one(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    assert_refused(
        post_decision(client_for(demo_org["diana"]), request.pk, "approve"),
        "You are not the approver of this level.",
    )
    assert_unchanged(request, 1, ["max"])


def test_stale_post_for_a_decided_level_is_refused(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    assert (
        'data-testid="decision-done"' in post_decision(max_, request.pk, level=1).content.decode()
    )
    # Whether the stale form names its level or not, the words say it moved on.
    assert_refused(
        post_decision(max_, request.pk, "reject", comment="changed my mind", level=1), "moved on"
    )
    assert_refused(post_decision(max_, request.pk, "reject", comment="changed my mind"), "moved on")
    assert_unchanged(request, 2, ["diana"], decisions=1)


def test_post_for_a_finished_request_is_refused(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    post_decision(max_, request.pk, "approve")
    wait_status(request, "approved")
    response = post_decision(max_, request.pk, "reject", comment="too late")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="decision-refused"' in html
    assert "closed" in html or "no longer awaiting" in html
    assert state_of(request).status == "approved"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"action": "approve!"}, "Choose approve, reject or request changes."),
        ({"action": ""}, "Choose approve, reject or request changes."),
        ({"action": "reject"}, "A comment is required to reject or to request changes."),
        ({"action": "approve", "comment": "x" * 2001}, "at most 2000 characters"),
        ({"action": "approve", "level": "eleven"}, "Enter a whole number."),
    ],
)
def test_malformed_decision_is_explained_and_changes_nothing(demo_org, worker, data, words):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    response = client_for(demo_org["max"]).post(
        f"/requests/{request.pk}/decide/", data, headers={**HTMX, "HX-Target": "row-msg-1"}
    )
    assert_refused(response, words)
    assert_unchanged(request, 1, ["max"])


def test_decision_without_csrf_token_is_forbidden(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    forger = client_for(demo_org["max"], enforce_csrf_checks=True)
    response = forger.post(f"/requests/{request.pk}/decide/", {"action": "approve"})
    assert response.status_code == 403
    response = forger.post("/inbox/bulk-approve/", {"request_ids": [request.pk]})
    assert response.status_code == 403
    assert_unchanged(request, 1, ["max"])


def test_anonymous_and_get_cannot_decide(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    response = Client().post(f"/requests/{request.pk}/decide/", {"action": "approve"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client_for(demo_org["max"]).get(f"/requests/{request.pk}/decide/").status_code == 405
    assert_unchanged(request, 1, ["max"])


# ----------------------------------------------------------------------- bulk
def test_bulk_approve_mixed_valid_and_stale_rows(demo_org, worker):
    emma, finn, max_ = demo_org["emma"], demo_org["finn"], demo_org["max"]
    fresh = [submit(emma, "200.00", title=f"Fresh {i}") for i in range(2)]
    stale = submit(emma, "4000.00", title="Already approved")
    foreign = submit(finn, "200.00", title="Maria's")
    for request in [*fresh, stale, foreign]:
        wait_pending_level(request, 1)
    services.decision_record(request=stale, actor=max_, action="approve")

    ids = [fresh[0].pk, stale.pk, foreign.pk, fresh[1].pk, 999_999_999, fresh[0].pk]
    response = client_for(max_).post("/inbox/bulk-approve/", {"request_ids": ids}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    results = {
        int(pk): ok
        for pk, ok in re.findall(
            r'data-testid="bulk-result" data-request-id="(\d+)" data-ok="(\d)"', html
        )
    }
    # One result per distinct row, in the order chosen.
    assert results == {
        fresh[0].pk: "1",
        stale.pk: "0",
        foreign.pk: "0",
        fresh[1].pk: "1",
        999_999_999: "0",
    }
    assert re.search(rf"#{stale.pk}: [^<]*moved on", html), html
    assert f"#{foreign.pk}: {NOT_YOURS}" in html
    # Approved rows leave the page; refused ones get their words in the row.
    for request in fresh:
        assert f'<div id="inbox-row-{request.pk}" hx-swap-oob="delete"></div>' in html
        wait_status(request, "approved")
    assert f'id="row-msg-{stale.pk}" hx-swap-oob="innerHTML"' in html
    assert_unchanged(stale, 2, ["diana"], decisions=1)
    assert_unchanged(foreign, 1, ["maria"])


def test_bulk_approve_explains_an_empty_or_garbled_selection(demo_org, worker):
    max_ = client_for(demo_org["max"])
    html = max_.post("/inbox/bulk-approve/", {}, headers=HTMX).content.decode()
    assert "Select at least one request." in html
    html = max_.post(
        "/inbox/bulk-approve/", {"request_ids": ["12", "DROP TABLE"]}, headers=HTMX
    ).content.decode()
    assert "DROP TABLE is not a request number." in html
    assert 'data-testid="bulk-result"' not in html  # nothing was sent
    response = max_.post("/inbox/bulk-approve/", {}, follow=True)
    assert "Select at least one request." in response.content.decode()


# ------------------------------------------------------------------ live state
def test_row_opens_the_live_state_from_the_workflow(demo_org, worker):
    request = submit(demo_org["emma"], "4000.00")
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    html = max_.get(f"/requests/{request.pk}/live/").content.decode()
    assert 'data-testid="live-status">pending<' in html
    assert 'data-testid="live-level">1 of 2<' in html
    assert 'data-username="max">Max Müller<' in html
    assert 'data-testid="live-due"' in html
    services.decision_record(request=request, actor=demo_org["max"], action="approve")
    # The query answers from the workflow at once, whatever the projection says.
    html = max_.get(f"/requests/{request.pk}/live/").content.decode()
    assert 'data-testid="live-level">2 of 2<' in html
    assert 'data-username="diana">Diana Dietrich<' in html
    assert "Level 1: approved by Max Müller" in html


def test_live_state_is_only_for_people_who_may_see_the_request(demo_org, worker):
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    assert client_for(demo_org["finn"]).get(f"/requests/{request.pk}/live/").status_code == 404
    assert client_for(demo_org["emma"]).get(f"/requests/{request.pk}/live/").status_code == 200
    assert client_for(demo_org["finn"]).get("/requests/999999999/live/").status_code == 404
