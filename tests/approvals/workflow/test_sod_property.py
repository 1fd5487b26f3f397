"""Separation of duties as a property, on the workflow's own transition code.

`steps.Steps` is the mixin that changes the approval state (activation with
`rules.route_level`, decisions, escalation, re-routes). Here it runs without
Temporal: a subclass supplies `_emit` (as outbox.Outbox does, minus the
search attributes), the routing lookups from a random org chart, and a clock
(`temporalio.workflow.now` is patched). Hypothesis then drives random
decisions by allowed and disallowed people (delegates, admins with and
without override), escalations, leavers, re-routes and resubmissions, and
checks the invariant after every step: a request that needs N levels is
approved by N different people (principals of delegates included), never by
its requester, and no person acts at two levels of one round.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from temporalio import workflow

from approvals.workflow import rules
from approvals.workflow.contract import (
    Action,
    Actor,
    ApprovalState,
    DecisionInput,
    LevelStatus,
    Managers,
    PolicySnapshot,
    RerouteInput,
    ResubmitInput,
    Route,
    RouteFacts,
    Status,
    StepEvent,
    StepKind,
    Via,
    WaitingReason,
)
from approvals.workflow.policy import (
    ALL,
    ANY,
    GROUP,
    MANAGER,
    PERSON,
    Conditions,
    LevelRule,
    PolicyRule,
    PolicyRules,
    evaluate,
)
from approvals.workflow.steps import Steps
from tests.support.orgchart import Org, assert_separation_of_duties, orgs

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


# ------------------------------------------------------- the real transitions
class Harness(Steps):
    """The workflow's transition code (steps.Steps) with fake I/O and a fake clock."""

    def __init__(
        self, org: Org, requester: str, levels: int, policy: PolicyRules | None = None,
        amount: int = 100,
    ) -> None:
        self.org = org
        self.policy, self.amount = policy, amount
        self.clock = START
        self.events: list[StepEvent] = []
        self.levels_needed = levels
        self.m = rules.Machine(
            state=ApprovalState(
                request_id=1, requester=requester, requester_display=requester, title="T",
                amount_cents=100, currency="EUR", submitted_at=START.isoformat(),
                status=Status.PENDING, current_level=0, levels=[],
            ),
            policy=PolicySnapshot(sla_seconds=3600, reminder_seconds=1800, max_escalations=2),
            version=2,
            policy_rules=policy is not None,  # patch "policy-rules": the chain is the specs
        )

    # What outbox.Outbox._emit does to the state (search attributes aside).
    def _emit(self, event: StepEvent) -> None:
        rules.record_step(self.m, event, self._now())
        self.events.append(event)

    # What the routing activities answer from the org chart of today.
    async def _resolve_route(self) -> Route:
        requester = self.m.state.requester
        route = self.org.route(requester)
        if self.policy is not None:  # what resolve_route answers for a pinned version
            facts = RouteFacts(amount_cents=self.amount, category="equipment")
            route.levels = evaluate(facts, self.org.snapshot(requester), self.policy)
        return route

    async def _managers(self, people: list[str]) -> Managers:
        return self.org.managers_of(people)


def run(coro):
    """Run a coroutine whose awaits never suspend (the fakes above answer at once)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("a fake lookup suspended")


# ------------------------------------------------------------------ actions
def start(h: Harness) -> None:
    h._emit(StepEvent(kind=StepKind.SUBMITTED, actor=h.m.state.requester))
    route = run(h._resolve_route())
    if h.policy is not None:
        h.levels_needed = len(route.levels)
    h._install_route(route, h.levels_needed)
    h.m.ready = True


def decide(h: Harness, draw) -> None:
    state = h.m.state
    waiting_on = state.pending_approvers if state.status == Status.PENDING else []
    delegates = h.org.delegates_of(waiting_on)
    who = draw(st.sampled_from(["approver", "approver", "delegate", "admin", "anyone"]))
    pool = {
        "approver": waiting_on,
        "delegate": delegates,
        "admin": h.org.active_admins(),
    }.get(who) or h.org.people()
    actor = h.org.actor(draw(st.sampled_from(pool)))
    action = draw(st.sampled_from(
        [Action.APPROVE] * 5 + [Action.REQUEST_CHANGES, Action.REQUEST_CHANGES, Action.REJECT]
    ))
    d = DecisionInput(
        decision_id=f"d{state.seq}",
        actor=actor,
        action=action,
        comment=draw(st.sampled_from(["ok", "ok", "", "  "])),
        level=draw(st.sampled_from([0, 0, state.current_level, state.current_level - 1,
                                    state.current_level + 1])),
        override=actor.is_admin and draw(st.sampled_from([True, True, False])),
    )
    if rules.decision_refusal(h.m, d) is not None:
        return
    # What the workflow checks beyond the rules before it applies a decision.
    assert state.status == Status.PENDING and h.m.ready and not h.m.busy
    on_behalf_of = rules.authority(h.m, d)[0]
    barred = rules.excluded(h.m)
    if d.action == Action.APPROVE:
        assert d.actor.username not in barred, "an excluded person was allowed to approve"
        assert on_behalf_of not in barred, "a delegate approved for an excluded principal"
    h._apply_decision(d, Via.UPDATE)


def time_out(h: Harness) -> None:
    """Let the level's deadline pass: escalation (or expiry), never approval."""
    m = h.m
    if m.state.status != Status.PENDING or m.due is None:
        return
    before = len(m.state.decisions)
    h.clock = m.due
    run(h._on_timer())
    assert len(m.state.decisions) == before, "a timer decided"


def leave(h: Harness, draw) -> None:
    """Someone is deactivated; the workflow's reroute Update runs for them."""
    candidates = [p for p in h.org.people() if p != h.m.state.requester]
    if not candidates:
        return
    leaver = draw(st.sampled_from(candidates))
    h.org.gone.add(leaver)
    reroute(h, RerouteInput(leaver=leaver, reroute_id=f"r{h.m.state.seq}"))


def reroute(h: Harness, r: RerouteInput) -> None:
    if rules.reroute_refusal(h.m) is not None:
        return
    h.m.busy = True  # as ExpenseApprovalWorkflow.reroute does
    try:
        run(h._reroute_leaver(r) if r.leaver else h._reroute_again(r))
    finally:
        h.m.busy = False


def resubmit(h: Harness, draw) -> None:
    """The requester's resubmission: what ExpenseApprovalWorkflow.resubmit does (v2)."""
    m = h.m
    r = ResubmitInput(actor=Actor(username=m.state.requester), title="T2", amount_cents=200)
    if rules.resubmit_refusal(m, r) is not None:
        return
    m.busy = True
    try:
        h.amount = draw(st.sampled_from(AMOUNTS))
        route = run(h._resolve_route())
        m.state.round += 1
        m.state.status = Status.PENDING
        h._emit(StepEvent(kind=StepKind.RESUBMITTED, detail={"round": m.state.round}))
        h.levels_needed = len(route.levels) if h.policy else draw(st.integers(1, 3))
        h._install_route(route, h.levels_needed)
    finally:
        m.busy = False


# --------------------------------------------------------------- invariant
def check(h: Harness) -> None:
    m, state = h.m, h.m.state
    assert_separation_of_duties(state, h.levels_needed)
    # The state is consistent.
    assert 1 <= state.current_level <= len(state.levels)
    for lv in state.levels[: state.current_level - 1]:
        assert lv.status == LevelStatus.APPROVED and lv.decided_by
    if state.status != Status.PENDING:
        assert state.pending_approvers == [] and m.due is None and state.due_at == ""
        assert state.waiting_reason == WaitingReason.NONE
        return
    level = rules.current(m)
    assert level.status == LevelStatus.PENDING
    for lv in state.levels[state.current_level:]:
        assert lv.status == LevelStatus.WAITING
    assert state.pending_approvers == sorted(set(level.approvers))
    # Whoever the level waits on may take it: neither the requester nor an approver.
    assert not set(level.approvers) & rules.excluded(m), (level.approvers, rules.excluded(m))
    if level.approvers:
        assert m.due is not None and state.waiting_reason == WaitingReason.NONE
        assert state.due_at == level.due_at == m.due.isoformat()
    else:
        assert m.due is None and state.due_at == ""
        assert state.waiting_reason == WaitingReason.NEEDS_APPROVER
        assert any(e.kind == StepKind.NEEDS_APPROVER for e in h.events)


ACTIONS = ["decide"] * 6 + ["time_out", "time_out", "leave", "reroute_again"] + ["resubmit"] * 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=orgs(), data=st.data())
def test_separation_of_duties_holds_on_every_path(org, data):
    draw = data.draw
    requester = draw(st.sampled_from(org.people()), label="requester")
    h = Harness(org, requester, levels=draw(st.integers(1, 3), label="levels"))
    with mock.patch.object(workflow, "now", lambda: h.clock):
        start(h)
        check(h)
        for _ in range(draw(st.integers(1, 20), label="steps")):
            if h.m.state.status in Status.TERMINAL:
                break
            action = draw(st.sampled_from(ACTIONS), label="action")
            h.clock += timedelta(seconds=1)
            if action == "decide":
                decide(h, draw)
            elif action == "time_out":
                time_out(h)
            elif action == "leave":
                leave(h, draw)
            elif action == "reroute_again":
                reroute(h, RerouteInput(leaver=""))
            else:
                resubmit(h, draw)
            check(h)
    event(f"outcome: {h.m.state.status} {h.m.state.waiting_reason}".strip())
    for kind in sorted({e.kind for e in h.events}):
        event(f"step: {kind}")
    if any(d.on_behalf_of for d in h.m.state.decisions):
        event("a delegate decided")
    if any(d.override for d in h.m.state.decisions):
        event("an admin override")


AMOUNTS = [100, 60_000, 150_000, 600_000, 1_500_000]


@st.composite
def policies(draw) -> PolicyRules:
    """Random policy versions: management by amount plus 0-3 rules adding groups (any one
    member or every member), named people or the n-th manager."""
    adds = st.one_of(
        st.builds(LevelRule, kind=st.just(GROUP), group=st.sampled_from(["finance", "IT"]),
                  mode=st.sampled_from([ANY, ALL])),
        st.builds(LevelRule, kind=st.just(PERSON), person=st.sampled_from(["p0", "p1", "p2"])),
        st.builds(LevelRule, kind=st.just(MANAGER), manager=st.integers(1, 4)),
    )
    rule = st.builds(
        PolicyRule, name=st.just("r"),
        when=st.builds(Conditions, min_cents=st.sampled_from([0, 50_000, 500_000])),
        adds=st.lists(adds, min_size=1, max_size=2),
    )
    return PolicyRules(rules=draw(st.lists(rule, max_size=3)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org=orgs(), policy=policies(), data=st.data())
def test_separation_of_duties_holds_with_group_levels(org, policy, data):
    """The same paths with chains made by policy rules: group levels (any one member, or
    one level per member), named people and n-th managers after the management levels."""
    draw = data.draw
    requester = draw(st.sampled_from(org.people()), label="requester")
    h = Harness(org, requester, levels=0, policy=policy,
                amount=draw(st.sampled_from(AMOUNTS), label="amount"))
    with mock.patch.object(workflow, "now", lambda: h.clock):
        start(h)
        check(h)
        for _ in range(draw(st.integers(1, 20), label="steps")):
            if h.m.state.status in Status.TERMINAL:
                break
            action = draw(st.sampled_from(ACTIONS), label="action")
            h.clock += timedelta(seconds=1)
            if action == "decide":
                decide(h, draw)
            elif action == "time_out":
                time_out(h)
            elif action == "leave":
                leave(h, draw)
            elif action == "reroute_again":
                reroute(h, RerouteInput(leaver=""))
            else:
                resubmit(h, draw)
            check(h)
    kinds = {lv.kind for lv in h.m.state.levels}
    event(f"level kinds: {sorted(kinds)}")
    event(f"outcome: {h.m.state.status} {h.m.state.waiting_reason}".strip())
    if any(lv.kind == "group" and len(lv.original_approvers) > 1 for lv in h.m.state.levels):
        event("a group level with several members")


def test_the_harness_reaches_every_outcome():
    """The property above is only as good as its paths: one example of each by hand."""
    org = Org({"emma": "max", "max": "diana", "diana": None}, ["admin"],
              {"maria": ["max"]})
    org.reports_to["maria"] = "diana"
    h = Harness(org, "emma", levels=3)
    with mock.patch.object(workflow, "now", lambda: h.clock):
        start(h)
        assert h.m.state.pending_approvers == ["max"]
        d = DecisionInput("a", org.actor("maria"), Action.APPROVE)  # for max
        assert rules.decision_refusal(h.m, d) is None
        h._apply_decision(d, Via.UPDATE)
        check(h)
        assert h.m.state.pending_approvers == ["diana"]
        time_out(h)  # diana has no manager: the admins
        check(h)
        assert h.m.state.pending_approvers == ["admin"]
        h._apply_decision(DecisionInput("b", org.actor("admin"), Action.APPROVE), Via.UPDATE)
        check(h)
        # Level 3 would be the admins' (diana is the top): admin approved, nobody left.
        assert h.m.state.waiting_reason == WaitingReason.NEEDS_APPROVER
        assert h.m.state.pending_approvers == []
        org.admins.append("admin2")
        reroute(h, RerouteInput(leaver=""))  # an admin appointed: route again
        check(h)
        assert h.m.state.pending_approvers == ["admin2"]
        h._apply_decision(DecisionInput("c", org.actor("admin2"), Action.APPROVE), Via.UPDATE)
        check(h)
        assert h.m.state.status == Status.APPROVED
        assert [(d.actor, d.on_behalf_of) for d in h.m.state.decisions] == [
            ("maria", "max"), ("admin", ""), ("admin2", "")
        ]
