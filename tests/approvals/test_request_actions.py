"""The request page's controls against the real workflow: extend the deadline, the
administrator override, and the home page's blocks (real Temporal, PostgreSQL)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.utils import timezone
from temporalio.service import RPCError

from accounts.models import Delegation
from approvals.models import AuditEntry, ExpenseRequest
from approvals.temporal import client as temporal_client
from approvals.workflow.contract import workflow_id
from tests.support.requests import submit, wait_audit, wait_pending_level, wait_status
from tests.support.waiting import wait_for
from tests.support.web import HTMX, client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_workflows(worker):
    """Terminate what these tests leave waiting: the session's Temporal server is shared,
    and running workflows pending on max would fill his inbox in later tests."""
    yield
    started = ExpenseRequest.objects.exclude(workflow_started_at=None).values_list("pk", flat=True)
    ids = [workflow_id(pk) for pk in started]

    async def run(client):
        for wf in ids:
            with contextlib.suppress(RPCError):
                await client.get_workflow_handle(wf).terminate("test finished")

    temporal_client.call(run)


def _pending(user, amount="300.00", title="Train tickets", approver="max"):
    request = submit(user, amount, title=title)
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == [approver])
    request.refresh_from_db()
    return request


def test_the_current_approver_extends_and_the_due_time_moves(demo_org, worker):
    request = _pending(demo_org["emma"])
    before = request.due_at
    max_ = client_for(demo_org["max"])
    page = max_.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="extend-deadline"' in page
    response = max_.post(
        f"/requests/{request.pk}/extend/", {"amount": "2", "unit": "days", "reason": "Away"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.due_at == before + timedelta(days=2)
    page = max_.get(f"/requests/{request.pk}/").content.decode()
    assert "The deadline is now" in page
    assert request.due_at.isoformat() in page  # the stepper's <time datetime>
    wait_audit(request, "deadline_extended")
    entry = AuditEntry.objects.get(request=request, kind="deadline_extended")
    assert (entry.actor_username, entry.comment) == ("max", "Away")


def test_extensions_beyond_the_maximum_and_by_others_are_refused_in_words(demo_org, worker):
    request = _pending(demo_org["emma"], "2000.00")  # two levels: diana is in the chain
    before = request.due_at
    max_, diana, emma = (client_for(demo_org[n]) for n in ("max", "diana", "emma"))
    too_long = max_.post(f"/requests/{request.pk}/extend/", {"amount": "31", "unit": "days"})
    assert too_long.status_code == 400
    assert "at most 30 days" in too_long.content.decode()
    for bad in ({"amount": "x", "unit": "days"}, {"amount": "1", "unit": "weeks"}, {}):
        assert max_.post(f"/requests/{request.pk}/extend/", bad).status_code == 400
    # diana sees the request (level 2 is hers) but not the control; the workflow refuses her.
    assert (
        'data-testid="extend-deadline"'
        not in diana.get(f"/requests/{request.pk}/").content.decode()
    )
    refused = diana.post(
        f"/requests/{request.pk}/extend/", {"amount": "1", "unit": "days"}, headers=HTMX
    )
    assert refused.status_code == 200
    assert "Only the current approver or an administrator can extend the deadline." in (
        refused.content.decode()
    )
    german = diana.post(
        f"/requests/{request.pk}/extend/",
        {"amount": "1", "unit": "days"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert german.status_code == 400
    assert "Frist" in german.content.decode()
    own = emma.post(f"/requests/{request.pk}/extend/", {"amount": "1", "unit": "days"})
    assert "You cannot extend the deadline of your own request." in own.content.decode()
    request.refresh_from_db()
    assert request.due_at == before


def test_an_admin_overrides_a_level_waiting_on_someone_else(demo_org, worker):
    request = _pending(demo_org["emma"])
    admin = client_for(demo_org["admin"])
    page = admin.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="override"' in page and 'data-testid="extend-deadline"' in page
    no_reason = admin.post(f"/requests/{request.pk}/override/", {"action": "approve"})
    assert no_reason.status_code == 400
    assert "An administrator override needs a reason." in no_reason.content.decode()
    done = admin.post(
        f"/requests/{request.pk}/override/",
        {"action": "approve", "reason": "max is on leave", "level": "1"},
    )
    assert done.status_code == 302
    wait_status(request, "approved")
    wait_audit(request, "decided")
    entry = AuditEntry.objects.get(request=request, kind="decided")
    assert entry.detail["override"] is True and entry.comment == "max is on leave"
    page = client_for(demo_org["emma"]).get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="step-override"' in page and "Ada Admin" in page


def test_override_is_for_admins_and_never_on_their_own_request(demo_org, worker):
    request = _pending(demo_org["emma"])
    max_ = client_for(demo_org["max"])
    forged = max_.post(f"/requests/{request.pk}/override/", {"action": "approve", "reason": "x"})
    assert forged.status_code == 403
    own = submit(demo_org["admin"], "300.00", title="Admin's own")
    wait_for(lambda: ExpenseRequest.objects.get(pk=own.pk).status == "pending")
    admin = client_for(demo_org["admin"])
    page = admin.get(f"/requests/{own.pk}/").content.decode()
    assert 'data-testid="override"' not in page
    assert 'data-testid="override-own-request"' in page
    refused = admin.post(f"/requests/{own.pk}/override/", {"action": "approve", "reason": "mine"})
    assert refused.status_code == 400
    assert "You cannot decide on your own request." in refused.content.decode()
    assert not AuditEntry.objects.filter(request=own, kind="decided").exists()


def test_home_shows_what_waits_where_mine_stand_and_delegations(demo_org, worker):
    emma, max_, diana = demo_org["emma"], demo_org["max"], demo_org["diana"]
    first = _pending(emma, title="First")
    second = _pending(emma, title="Second")
    # second is overdue in the projection (as the workflow would say after its deadline).
    ExpenseRequest.objects.filter(pk=second.pk).update(due_at=timezone.now() - timedelta(hours=1))
    today = timezone.localdate()
    Delegation.objects.create(user=max_, delegate=diana, starts_on=today, ends_on=today)
    home = client_for(max_).get("/").content.decode()
    assert "2 requests wait for your decision" in home
    assert 'data-testid="waiting-overdue"' in home and "1 overdue" in home
    assert f'data-testid="waiting-oldest">Waiting longest: <a href="/requests/{first.pk}/"' in home
    assert 'data-testid="delegation-given" data-delegate="diana"' in home
    assert "Diana Dietrich decides for you until" in home
    # diana stands in for max today: his requests wait for her too.
    home = client_for(diana).get("/").content.decode()
    assert "2 requests wait for your decision" in home
    assert "You decide for Max Müller until" in home
    assert home.count('data-testid="waiting-for-whom"') == 2 and "for Max Müller" in home
    # emma: her open requests and where they stand, in display names.
    home = client_for(emma).get("/", headers=HTMX).content.decode()
    assert '<div id="home-body"' in home
    assert "<html" not in home  # htmx gets the partial
    assert home.count('data-testid="mine-row"') == 2
    assert "level 1 of 1, waiting for Max Müller" in home
    assert "Nothing is waiting for you." in home
    assert 'data-testid="home-attention"' not in home
    admin_home = client_for(demo_org["admin"]).get("/").content.decode()
    assert 'data-testid="attention-overdue" data-count="1"' in admin_home


def test_a_pushed_refresh_keeps_the_words_an_action_just_showed(demo_org, worker):
    """The override's answer says what happened; the live refresh that follows (an htmx GET
    on request-changed) must not send an empty #messages over it (CI flake of session 9)."""
    request = _pending(demo_org["emma"])
    admin = client_for(demo_org["admin"])
    done = admin.post(
        f"/requests/{request.pk}/override/",
        {"action": "approve", "reason": "max is on leave", "level": "1"},
        headers=HTMX,
    ).content.decode()
    assert '<div id="messages" hx-swap-oob="true">' in done
    assert "Approved as an administrator override." in done
    wait_status(request, "approved")
    refresh = admin.get(
        f"/requests/{request.pk}/", headers={**HTMX, "HX-Trigger": "request-body"}
    ).content.decode()
    assert 'id="request-body"' in refresh
    assert 'id="messages"' not in refresh
