"""Policy rules on the real stack (workflow patch "policy-rules"): the dev server, the
real worker and activities, the demo organisation and its published version 1 (the
contract's default policy).

Group levels: every member is in PendingApprovers (so in their inbox, by the same
visibility query), the first to decide takes the level, the others' rows leave live
(a real websocket on a real Redis layer). Separation of duties holds for groups. A
request pins its version; publishing another changes nothing in running workflows.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalStep, ExpenseRequest
from approvals.policy import services as policy_services
from approvals.policy.rules import demo_policy
from approvals.workflow.contract import LevelKind
from tests.support.requests import (
    decide,
    refusal,
    state_of,
    submit,
    wait_closed,
    wait_pending_level,
    wait_state,
    wait_status,
)
from tests.support.visibility import wait_visible
from tests.support.ws import Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def chain(state) -> list[tuple[str, str, list[str]]]:
    return [(lv.kind, lv.label, list(lv.approvers)) for lv in state.levels]


def publish_it_from(org, cents: int) -> int:
    """Publish a version whose IT rule starts at `cents` (EUR), in force today."""
    draft = policy_services.policy_draft_open(by=org["admin"])
    rules = demo_policy()
    next(r for r in rules.rules if r.adds[0].group == "IT").when.min_cents = cents
    policy_services.policy_draft_save(draft=draft, rules=rules)
    policy_services.policy_publish(
        draft=draft, by=org["admin"], effective_from=timezone.localdate()
    )
    return draft.number


def test_a_finance_level_waits_on_every_member_and_the_first_one_takes_it(demo_org, worker):
    org = demo_org
    request = submit(org["emma"], "6000.00", title="Offsite")
    state = wait_pending_level(request, 1)
    assert chain(state) == [
        (LevelKind.MANAGER, "manager", ["max"]),
        (LevelKind.MANAGER, "manager", ["diana"]),
        (LevelKind.GROUP, "finance", ["felix", "fiona"]),
    ]
    assert state.policy_version == "1"
    decide(request, org["max"])
    decide(request, org["diana"], level=2)
    state = wait_pending_level(request, 3)
    assert state.pending_approvers == ["felix", "fiona"]
    wait_visible(request, PendingApprovers=["felix", "fiona"], ApprovalStatus="pending")
    state = decide(request, org["fiona"], level=3)
    assert state.status == "approved" and state.levels[2].decided_by == "fiona"
    assert "no longer awaiting" in refusal(request, org["felix"], level=3)
    wait_status(request, "approved")
    step = ApprovalStep.objects.get(request=request, level=3)
    assert (step.kind, step.label, step.decided_by) == ("group", "finance", "fiona")
    client = Client()
    client.force_login(org["emma"])
    body = client.get(f"/api/v1/requests/{request.pk}").json()
    assert body["policy_version"] == 1
    assert [(s["kind"], s["label"]) for s in body["steps"]] == [
        ("manager", "manager"),
        ("manager", "manager"),
        ("group", "finance"),
    ]


def test_an_it_level_for_equipment_from_500_eur(demo_org, worker):
    request = submit(demo_org["emma"], "700.00", title="Laptop", category="equipment")
    state = wait_pending_level(request, 1)
    assert chain(state) == [
        (LevelKind.MANAGER, "manager", ["max"]),
        (LevelKind.GROUP, "IT", ["ivan"]),
    ]
    decide(request, demo_org["max"])
    assert wait_pending_level(request, 2).pending_approvers == ["ivan"]
    assert decide(request, demo_org["ivan"], level=2).status == "approved"


def test_a_group_member_who_requested_or_approved_cannot_take_the_group_level(demo_org, worker):
    org = demo_org
    # Felix asks: fiona (his manager) and victor approve as managers; the finance level
    # would be felix (the requester) or fiona (approved already): it goes to the admins.
    request = submit(org["felix"], "6000.00", title="Audit tool")
    state = wait_pending_level(request, 1)
    assert [lv.approvers for lv in state.levels] == [["fiona"], ["victor"], ["felix", "fiona"]]
    decide(request, org["fiona"])
    decide(request, org["victor"], level=2)
    state = wait_pending_level(request, 3)
    assert state.pending_approvers == ["admin"]
    assert "already" in refusal(request, org["fiona"], level=3)  # not at two levels
    assert decide(request, org["admin"], level=3).status == "approved"
    approvers = [d.actor for d in state_of(request).decisions if d.action == "approve"]
    assert approvers == ["fiona", "victor", "admin"]


def test_fiona_asks_and_felix_alone_takes_the_finance_level(demo_org, worker):
    request = submit(demo_org["fiona"], "6000.00", title="Team training")
    state = wait_pending_level(request, 1)
    # Fiona reports to victor; the second manager level goes to the admins.
    assert [lv.approvers for lv in state.levels] == [["victor"], ["admin"], ["felix", "fiona"]]
    decide(request, demo_org["victor"])
    decide(request, demo_org["admin"], level=2)
    assert wait_pending_level(request, 3).pending_approvers == ["felix"]


ORIGIN = (b"origin", b"http://127.0.0.1")


def socket(cookie: bytes) -> Socket:
    return Socket([ORIGIN, (b"host", b"127.0.0.1"), (b"cookie", cookie)])


async def receive_until(communicator, predicate, timeout: float = 30) -> list[str]:
    seen: list[str] = []
    while True:
        try:
            message = await communicator.receive_from(timeout=timeout)
        except TimeoutError:
            pytest.fail(f"no matching live message; got {len(seen)}: {seen[-3:]}")
        seen.append(message)
        if predicate(message):
            return seen


def test_the_other_members_row_leaves_live_when_one_decides(redis_layer, demo_org, worker):
    org = demo_org
    cookies = {name: session_cookie(org[name]) for name in ("felix", "fiona")}

    async def scenario():
        request = await sync_to_async(submit)(org["emma"], "6000.00", title="Offsite")
        await sync_to_async(wait_pending_level)(request, 1)
        await sync_to_async(decide)(request, org["max"])
        # Connected before diana's decision: the push of level 3 follows its commit at
        # once (fast transitions), so a socket opened after it could miss the row.
        felix, fiona = socket(cookies["felix"]), socket(cookies["fiona"])
        assert await felix.connect() and await fiona.connect()
        try:
            await sync_to_async(decide)(request, org["diana"], level=2)
            await sync_to_async(wait_pending_level)(request, 3)
            row_added = re.compile(rf'id="inbox-row-{request.pk}"(?![^>]*hx-swap-oob="delete")')
            await receive_until(felix, row_added.search)
            await receive_until(fiona, row_added.search)
            await sync_to_async(decide)(request, org["fiona"], level=3)
            row_gone = f'<div id="inbox-row-{request.pk}" hx-swap-oob="delete"></div>'
            seen = await receive_until(felix, lambda html: row_gone in html)
            assert 'data-testid="status"' in seen[-1] and ">approved<" in seen[-1]
            await receive_until(fiona, lambda html: row_gone in html)
        finally:
            await felix.disconnect()
            await fiona.disconnect()

    async_to_sync(scenario)()


def test_publishing_a_version_changes_nothing_in_a_running_workflow(demo_org, worker):
    org = demo_org
    old = submit(org["emma"], "700.00", title="Monitor", category="equipment")
    before = wait_pending_level(old, 1)
    assert [lv.label for lv in before.levels] == ["manager", "IT"]
    assert publish_it_from(org, 100_000) == 2  # IT only from 1,000 EUR now
    after = state_of(old)
    assert chain(after) == chain(before) and after.seq == before.seq
    new = submit(org["emma"], "700.00", title="Monitor too", category="equipment")
    assert ExpenseRequest.objects.get(pk=new.pk).policy_version == 2
    assert [lv.label for lv in wait_pending_level(new, 1).levels] == ["manager"]
    # The old one keeps its version to the end, resubmission included.
    decide(old, org["max"], "request_changes", comment="Which model?")
    wait_state(old, lambda s: s.status == "changes_requested")
    services.expense_resubmit(
        request=old, actor=org["emma"], title="Monitor 27in", amount=Decimal("800.00")
    )
    state = wait_pending_level(old, 1)
    assert [lv.label for lv in state.levels] == ["manager", "IT"]
    decide(old, org["max"])
    wait_pending_level(old, 2)
    assert decide(old, org["ivan"], level=2).status == "approved"
    assert len(wait_closed(old, "approved").levels) == 2
    assert decide(new, org["max"]).status == "approved"


def test_routing_evaluates_the_pinned_version_and_a_missing_one_fails_for_good(demo_org):
    """What the resolve_route activity answers (called as the worker calls it)."""
    from temporalio.exceptions import ApplicationError

    from approvals.worker.activities import resolve_route
    from approvals.workflow.contract import RouteFacts, RouteRequest

    facts = RouteFacts(amount_cents=70_000, category="software")
    route = resolve_route(RouteRequest(1, "emma", 0, policy_version="1", facts=facts))
    assert (route.ladder, route.admins) == (["max", "diana", "victor"], ["admin"])
    levels = [(s.label, s.approvers) for s in route.levels]
    assert levels == [("manager", ["max"]), ("IT", ["ivan"])]
    assert resolve_route(RouteRequest(1, "emma", 0)).levels == []  # no version: levels_for
    with pytest.raises(ApplicationError) as info:
        resolve_route(RouteRequest(1, "emma", 0, policy_version="99", facts=facts))
    assert info.value.non_retryable and info.value.type == "NoSuchPolicyVersion"
