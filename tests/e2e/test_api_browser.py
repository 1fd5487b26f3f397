"""The README's API session for real: max makes a token on /accounts/tokens/ in the
browser, then a script (plain HTTP to the live app) lists his inbox and approves.
The API docs page renders under the CSP."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support.browser import login
from tests.support.requests import submit, wait_pending_level
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def call(app, method: str, path: str, token: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{app.url}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback
        return response.status, json.loads(response.read())


def test_token_from_the_page_lists_the_inbox_and_approves(live_app, new_page, demo_org):
    expense = submit(demo_org["emma"], "300.00", title="Team lunch")
    wait_pending_level(expense, 1)
    page = new_page()
    login(page, live_app, "max")
    page.goto(f"{live_app.url}/accounts/tokens/")
    page.fill("input[name=name]", "cli")
    page.check("input[name=scopes][value=decide]")
    page.click("[data-testid=create-token]")
    token = page.inner_text("[data-testid=token]").strip()
    assert token.startswith("apv_")
    # Listed from now on, without the secret.
    page.goto(f"{live_app.url}/accounts/tokens/")
    assert page.locator("[data-testid=token-row]").count() == 1
    assert token not in page.content()

    def in_inbox():
        status, body = call(live_app, "GET", "/inbox", token)
        return status == 200 and any(r["request_id"] == expense.pk for r in body["rows"])

    wait_for(in_inbox, message="the request never reached max's API inbox")
    status, state = call(
        live_app, "POST", f"/requests/{expense.pk}/decision", token, {"action": "approve"}
    )
    assert status == 200 and state["status"] == "approved"

    page.goto(f"{live_app.url}/api/v1/docs")
    page.wait_for_selector("#swagger-ui .info", state="attached")
