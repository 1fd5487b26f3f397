"""services.expense_submit and workflow_start: saved first, started after commit, once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from approvals import services
from approvals.models import ExpenseRequest
from approvals.temporal import starter
from tests.support.requests import describe, start_again, submit, wait_pending_level, wait_status
from tests.support.servers import bring_temporal_back, take_temporal_down
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def temporal_down(settings, temporal_server):
    """Point the process's client at a port where nothing listens, then back."""
    take_temporal_down(settings)
    yield
    bring_temporal_back(settings, temporal_server)


def test_submit_saves_the_request_and_starts_its_workflow(demo_org, worker):
    request = submit(demo_org["emma"], "120.00", title="Taxi", description="Airport")
    assert request.workflow_started_at is not None
    assert (request.title, request.amount, request.currency) == ("Taxi", Decimal("120.00"), "EUR")
    assert request.policy_snapshot["max_amount_cents"] == 100_000_000
    description = describe(request.pk)
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.workflow_type == "ExpenseApproval"
    state = wait_pending_level(request, 1)
    assert state.pending_approvers == ["max"] and state.amount_cents == 12_000
    wait_status(request, "pending")


def test_workflow_starts_only_after_the_transaction_commits(demo_org, worker):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        request = services.expense_submit(
            requester=demo_org["emma"],
            title="Never saved",
            amount=Decimal("10.00"),
            currency="EUR",
            category="meals",
        )
        raise Abort
    assert not ExpenseRequest.objects.filter(pk=request.pk).exists()
    with pytest.raises(RPCError) as missing:
        describe(request.pk)
    assert missing.value.status == RPCStatusCode.NOT_FOUND


def test_submit_with_temporal_down_keeps_the_request_queued(demo_org, temporal_down):
    request = submit(demo_org["emma"], "75.00", title="Hotel")
    assert request.status == "queued"
    assert request.workflow_started_at is None
    assert ExpenseRequest.objects.filter(pk=request.pk, title="Hotel").exists()


def test_submit_page_with_temporal_down_tells_the_user_plainly(client, demo_org, temporal_down):
    client.force_login(demo_org["emma"])
    data = {"title": "Hotel", "amount": "75.00", "currency": "EUR", "category": "travel"}
    response = client.post("/requests/new/", data, follow=True)
    request = ExpenseRequest.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert response.redirect_chain == [(f"/requests/{request.pk}/", 302)]
    assert "will start automatically as soon as it is back" in html
    assert "You do not need to submit it again." in html
    assert 'data-testid="status" data-status="queued">queued<' in html
    assert 'data-testid="queued-note"' in html
    assert request.status == "queued" and request.workflow_started_at is None


def test_workflow_start_is_idempotent_and_one_workflow_exists(demo_org, worker):
    request = submit(demo_org["emma"], "60.00")
    first_run = describe(request.pk).run_id
    # As if the acknowledgement had been lost: the service tries again.
    ExpenseRequest.objects.filter(pk=request.pk).update(workflow_started_at=None)
    starter.workflow_start(request_id=request.pk)
    request.refresh_from_db()
    assert request.workflow_started_at is not None
    assert describe(request.pk).run_id == first_run
    with pytest.raises(WorkflowAlreadyStartedError):
        start_again(request)


def test_a_finished_request_is_never_started_again(demo_org, worker):
    request = submit(demo_org["emma"], "60.00")
    wait_pending_level(request, 1)
    services.expense_withdraw(request=request, actor=demo_org["emma"])
    wait_status(request, "withdrawn")
    closed = wait_for(
        lambda: (lambda d: d if d.status == WorkflowExecutionStatus.COMPLETED else None)(
            describe(request.pk)
        )
    )
    run_id = closed.run_id
    ExpenseRequest.objects.filter(pk=request.pk).update(workflow_started_at=None)
    starter.workflow_start(request_id=request.pk)
    description = describe(request.pk)
    assert description.run_id == run_id
    assert description.status == WorkflowExecutionStatus.COMPLETED
    request.refresh_from_db()
    assert request.status == "withdrawn"
