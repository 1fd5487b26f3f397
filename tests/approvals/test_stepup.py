"""Step-up before approving more than STEP_UP_EUR (default 10,000): with the password
when the person has no passkey (passkeys in Chromium: tests/e2e/test_identity_browser.py).

Nothing is decided until it is confirmed, on every path: the inbox row (htmx), the
request page, bulk approval, the mail link, the administrator override and the API.
Real dev server and worker; the state is read back from the workflow.
"""

from __future__ import annotations

import uuid

import pytest

from accounts.models import IdentityEvent
from accounts.services import token_create
from approvals import links
from tests.support.requests import state_of, submit, wait_pending_level
from tests.support.web import client_for, post_decision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def large(demo_org, worker):
    request = submit(demo_org["emma"], "12000.00", title="Trade fair stand")
    wait_pending_level(request, 1)
    return request


def level_of(request) -> int:
    return state_of(request).current_level


def test_the_inbox_asks_for_the_password_and_decides_only_after_it(demo_org, large):
    client = client_for(demo_org["max"])
    asked = post_decision(client, large.pk)
    html = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="step-up"' in html
    assert 'name="password"' in html and 'data-method="password"' in html
    assert 'data-testid="decision-done"' not in html
    assert level_of(large) == 1

    wrong = post_decision(client, large.pk, password="not-it")
    assert "That password is not correct." in wrong.content.decode()
    assert level_of(large) == 1
    assert IdentityEvent.objects.filter(kind="step_up_failed", subject_username="max").exists()

    done = post_decision(client, large.pk, password="demo")
    assert 'data-testid="decision-done"' in done.content.decode()
    assert done["HX-Retarget"] == f"#inbox-row-{large.pk}"
    assert level_of(large) == 2
    event = IdentityEvent.objects.get(kind="step_up", subject_username="max")
    assert event.details == {"purpose": f"approve:{large.pk}", "method": "password"}


def test_small_approvals_and_rejections_never_ask(demo_org, worker, large):
    small = submit(demo_org["emma"], "500.00")
    wait_pending_level(small, 1)
    client = client_for(demo_org["max"])
    assert 'data-testid="decision-done"' in post_decision(client, small.pk).content.decode()
    rejected = post_decision(client, large.pk, action="reject", comment="Too expensive")
    assert 'data-testid="decision-done"' in rejected.content.decode()
    assert state_of(large).status == "rejected"


def test_the_request_page_shows_the_prompt_as_a_page(demo_org, large):
    client = client_for(demo_org["max"])
    form = {
        "action": "approve",
        "decision_id": str(uuid.uuid4()),
        "level": 1,
        "next": f"/requests/{large.pk}/",
    }
    asked = client.post(f"/requests/{large.pk}/decide/", form)
    html = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="step-up"' in html
    assert f'value="/requests/{large.pk}/"' in html  # where it goes on afterwards
    assert level_of(large) == 1
    refused = client.post(f"/requests/{large.pk}/decide/", {**form, "password": "nope"})
    assert refused.status_code == 403 and level_of(large) == 1
    done = client.post(f"/requests/{large.pk}/decide/", {**form, "password": "demo"})
    assert done.status_code == 302 and done["Location"] == f"/requests/{large.pk}/"
    assert level_of(large) == 2


def test_bulk_approval_leaves_large_reports_for_a_single_confirmed_approval(demo_org, large):
    client = client_for(demo_org["max"])
    answer = client.post(
        "/inbox/bulk-approve/", {"request_ids": [large.pk]}, headers={"HX-Request": "true"}
    )
    assert "approve it on its own" in answer.content.decode()
    assert level_of(large) == 1


def test_the_mail_link_asks_too(demo_org, large):
    client = client_for(demo_org["max"])
    claim = links.LinkClaim("max", large.pk, 1, 1, "approve", links.new_decision_id())
    path = f"/links/{links.make_token(claim)}/"
    page = client.get(path).content.decode()
    assert 'data-testid="step-up"' in page and 'name="password"' in page
    refused = client.post(path, {"comment": ""})
    assert refused.status_code == 403 and level_of(large) == 1
    done = client.post(path, {"comment": "", "password": "demo"})
    assert done.status_code == 200 and 'data-testid="link-outcome"' in done.content.decode()
    assert state_of(large).decisions[0].actor == "max"


def test_the_administrator_override_asks_too(demo_org, large):
    client = client_for(demo_org["admin"])
    form = {
        "action": "approve",
        "reason": "max is away",
        "decision_id": str(uuid.uuid4()),
        "level": 1,
    }
    asked = client.post(f"/requests/{large.pk}/override/", form)
    assert 'data-testid="step-up"' in asked.content.decode()
    assert level_of(large) == 1
    done = client.post(f"/requests/{large.pk}/override/", {**form, "password": "demo"})
    assert done.status_code == 302 and level_of(large) == 2


def test_the_api_refuses_tokens_and_stale_sessions_in_words(demo_org, large, settings):
    _token, secret = token_create(owner=demo_org["max"], name="script", scopes=["decide"])
    body = {"action": "approve"}
    by_token = client_for(demo_org["emma"]).post(  # the token decides who acts
        f"/api/v1/requests/{large.pk}/decision",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert by_token.status_code == 403
    assert "Access tokens cannot approve it" in by_token.json()["detail"]
    assert level_of(large) == 1

    settings.STEP_UP_FRESH_SECONDS = -1  # the sign-in is no longer fresh
    session = client_for(demo_org["max"])
    stale = session.post(
        f"/api/v1/requests/{large.pk}/decision", body, content_type="application/json"
    )
    assert stale.status_code == 403 and level_of(large) == 1
    # A stranger learns nothing: the same 404 as for a missing request.
    stranger = client_for(demo_org["maria"]).post(
        f"/api/v1/requests/{large.pk}/decision", body, content_type="application/json"
    )
    assert stranger.status_code == 404

    settings.STEP_UP_FRESH_SECONDS = 300  # a sign-in a moment ago is a fresh confirmation
    fresh = client_for(demo_org["max"]).post(
        f"/api/v1/requests/{large.pk}/decision", body, content_type="application/json"
    )
    assert fresh.status_code == 200, fresh.content
    assert fresh.json()["current_level"] == 2


def test_repeated_wrong_passwords_lock_the_step_up(demo_org, large, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = client_for(demo_org["max"])
    for _ in range(3):
        post_decision(client, large.pk, password="wrong")
    locked = post_decision(client, large.pk, password="demo")
    assert "Too many failed confirmations" in locked.content.decode()
    assert level_of(large) == 1
