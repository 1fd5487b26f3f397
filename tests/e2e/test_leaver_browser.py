"""A leaver's levels move on at once: max is deactivated while emma's request waits
on him; it arrives in diana's open inbox without a reload, within seconds."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services import user_deactivate
from approvals.models import ExpenseRequest
from tests.support.browser import login, wait_ws
from tests.support.requests import submit, wait_pending_level
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_deactivating_max_moves_emma_request_to_diana_live(live_app, new_page):
    diana = new_page()
    login(diana, live_app, "diana")
    diana.goto(f"{live_app.url}/inbox/")
    wait_ws(diana)
    diana.evaluate("window.__sameDocument = true")

    request = submit(User.objects.get(username="emma"), "500.00", title="Train to Hamburg")
    wait_pending_level(request, 1)
    # The re-route finds its requests in the projection: wait until it shows max.
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])

    user_deactivate(user=User.objects.get(username="max"))

    row = diana.locator(f"[data-testid=inbox-row][data-request-id='{request.pk}']")
    row.wait_for(timeout=10_000)  # "within seconds"
    assert diana.evaluate("window.__sameDocument === true")  # live, no reload
    assert "Train to Hamburg" in row.inner_text()
    request.refresh_from_db()
    assert request.pending_approvers == ["diana"]
    assert request.audit.filter(kind="rerouted").exists()
