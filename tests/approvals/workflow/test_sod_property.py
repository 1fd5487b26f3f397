"""Separation of duties as a property, on the workflow's own transition code.

`transitions.py` and `timers.py` are the pure functions that change the approval
state (activation with `rules.route_level`, decisions, escalation, re-routes,
resubmissions); the workflow only awaits the lookups between them. Here they run
without Temporal: the lookups are answered from a random org chart and the clock
is the harness's own (no `temporalio.workflow` is touched). Hypothesis then drives
random decisions by allowed and disallowed people (delegates, admins with and
without override), escalations, leavers, re-routes and resubmissions, and checks
the invariant after every step: a request that needs N levels is approved by N
different people (principals of delegates included), never by its requester, and
no person acts at two levels of one round.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from approvals.policy.rules import (
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
from approvals.workflow import rules, timers
from approvals.workflow import transitions as T
from approvals.workflow.contract import (
    Action,
    Actor,
    ApprovalState,
    DecisionInput,
    LevelStatus,
    LineInput,
    LineRejection,
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
    line_states,
)
from tests.support.orgchart import Org, assert_separation_of_duties, orgs

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


# ------------------------------------------------------- the real transitions
class Harness:
    """The workflow's transitions with the lookups answered from an org chart."""

    def __init__(
        self,
        org: Org,
        requester: str,
        levels: int,
        policy: PolicyRules | None = None,
        amount: int = 100,
    ) -> None:
        self.org = org
        self.policy, self.amount = policy, amount
        self.clock = START
        self.events: list[StepEvent] = []
        self.levels_needed = levels
        self.m = rules.Machine(
            state=ApprovalState(
                request_id=1,
                requester=requester,
                requester_display=requester,
                title="T",
                amount_cents=100,
                currency="EUR",
                submitted_at=START.isoformat(),
                status=Status.PENDING,
                current_level=0,
                levels=[],
            ),
            policy=PolicySnapshot(sla_seconds=3600, reminder_seconds=1800, max_escalations=2),
            # A pinned policy version: the chain is the specs its rules make for these facts.
            facts=RouteFacts(amount_cents=amount, category="equipment") if policy else None,
        )
        self.m.state.lines = line_states(report_lines(3), 100, "EUR", 100)

    def take(self, steps: T.Steps) -> None:
        """What effects.Effects.emit does with the steps (search attributes aside)."""
        self.events += [happened.event for happened in steps]

    # What the routing activities answer from the org chart of today.
    def resolve_route(self) -> Route:
        requester = self.m.state.requester
        route = self.org.route(requester)
        if self.policy is not None:  # what resolve_route answers for a pinned version
            assert self.m.facts is not None
            route.levels = evaluate(self.m.facts, self.org.snapshot(requester), self.policy)
        return route

    def managers(self, people: list[str]) -> Managers:
        return self.org.managers_of(people)


# ------------------------------------------------------------------ actions
def start(h: Harness) -> None:
    h.take([T.step(h.m, StepEvent(kind=StepKind.SUBMITTED, actor=h.m.state.requester), h.clock)])
    route = h.resolve_route()
    if h.policy is not None:
        h.levels_needed = len(route.levels)
    h.take(T.install_route(h.m, route, h.levels_needed, h.clock))
    h.m.ready = True


def report_lines(count: int) -> list[LineInput]:
    return [LineInput(n, 100 * n, "EUR", 100 * n) for n in range(1, count + 1)]


def line_rejections(h: Harness, draw) -> list[LineRejection]:
    """Random line rejections: none half the time; else mostly open lines with a reason
    (sometimes all of them), and sometimes a rejected line, one that is not there, the
    same line twice or no reason: what the validator must refuse."""
    if draw(st.booleans()):
        return []
    open_numbers = [line.n for line in rules.open_lines(h.m)]
    if open_numbers and draw(st.sampled_from(["some", "some", "all", "bad"])) != "bad":
        chosen = draw(st.sampled_from(["some", "all"]))
        numbers = (
            open_numbers
            if chosen == "all"
            else draw(st.lists(st.sampled_from(open_numbers), min_size=1, max_size=2, unique=True))
        )
        return [LineRejection(n, "private") for n in numbers]
    numbers = [line.n for line in h.m.state.lines] + [0, len(h.m.state.lines) + 1]
    chosen = draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=4))
    return [
        LineRejection(n, draw(st.sampled_from(["private", "no receipt", "", " "]))) for n in chosen
    ]


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
    action = draw(
        st.sampled_from(
            [Action.APPROVE] * 5 + [Action.REQUEST_CHANGES, Action.REQUEST_CHANGES, Action.REJECT]
        )
    )
    d = DecisionInput(
        decision_id=f"d{state.seq}",
        actor=actor,
        action=action,
        comment=draw(st.sampled_from(["ok", "ok", "", "  "])),
        level=draw(
            st.sampled_from(
                [0, 0, state.current_level, state.current_level - 1, state.current_level + 1]
            )
        ),
        override=actor.is_admin and draw(st.sampled_from([True, True, False])),
        rejected_lines=line_rejections(h, draw),
    )
    if rules.decision_refusal(h.m, d) is not None:
        return
    if d.rejected_lines:  # what the validator let through: open lines of the report, reasons
        numbers = [r.n for r in d.rejected_lines]
        assert len(set(numbers)) == len(numbers) and d.action == Action.APPROVE
        lines = {line.n: line for line in state.lines}
        assert all(lines[r.n].status == "open" and r.reason.strip() for r in d.rejected_lines)
    # What the workflow checks beyond the rules before it applies a decision.
    assert state.status == Status.PENDING and h.m.ready and not h.m.busy
    on_behalf_of = rules.authority(h.m, d)[0]
    barred = rules.excluded(h.m)
    if d.action == Action.APPROVE:
        assert d.actor.username not in barred, "an excluded person was allowed to approve"
        assert on_behalf_of not in barred, "a delegate approved for an excluded principal"
    h.take(T.decide(h.m, d, Via.UPDATE, h.clock, lines=True))


def time_out(h: Harness) -> None:
    """Let the level's deadline pass: escalation (or expiry), never approval."""
    m = h.m
    if m.state.status != Status.PENDING or m.due is None:
        return
    before = len(m.state.decisions)
    h.clock = m.due
    steps, escalate = timers.timer_fired(m, h.clock)
    h.take(steps)
    if escalate:  # what ExpenseApprovalWorkflow._on_timer does after the lookup
        level = rules.current(m)
        managers = h.managers(level.approvers)
        h.take(timers.escalate(m, level.level, m.state.round, managers, h.clock))
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
    """What ExpenseApprovalWorkflow.reroute does, the lookups answered at once."""
    if rules.reroute_refusal(h.m) is not None:
        return
    h.m.busy = True
    try:
        if r.leaver:
            affected = T.drop_leaver(h.m, r.leaver)
            if affected:
                managers = h.managers([r.leaver])
                h.take(T.reroute_leaver(h.m, r, affected, managers, h.clock))
        else:
            h.take(T.reroute_again(h.m, r, h.resolve_route(), h.clock))
    finally:
        h.m.busy = False


def resubmit(h: Harness, draw) -> None:
    """The requester's resubmission: what ExpenseApprovalWorkflow.resubmit does."""
    m = h.m
    h.amount = draw(st.sampled_from(AMOUNTS))
    r = ResubmitInput(
        actor=Actor(username=m.state.requester),
        title="T2",
        amount_cents=h.amount,
        lines=report_lines(draw(st.integers(0, 4))),
    )
    if rules.resubmit_refusal(m, r) is not None:
        return
    m.busy = True
    try:
        T.new_content(m, r)  # the pinned version's facts carry the new amount
        route = h.resolve_route()
        h.take(T.resubmitted(m, r, h.clock))
        h.levels_needed = len(route.levels) if h.policy else draw(st.integers(1, 3))
        h.take(T.install_route(m, route, h.levels_needed, h.clock))
    finally:
        m.busy = False


# --------------------------------------------------------------- invariant
def check_lines(h: Harness) -> None:
    """Per-line state: a rejected line was rejected this round, at a level decided by that
    person (never the requester); a report is approved with an open line and pays the
    open lines; a report left with no open line is rejected."""
    m, state = h.m, h.m.state
    assert state.lines, "a report has at least one line"
    this_round = {(d.level, d.actor) for d in state.decisions if d.round == state.round}
    for line in state.lines:
        if line.status == "rejected":
            assert line.reason.strip() and line.rejected_by != state.requester
            assert (line.rejected_level, line.rejected_by) in this_round, (line, this_round)
    open_lines = rules.open_lines(m)
    if state.status == Status.APPROVED:
        assert open_lines
        assert rules.payout_cents(m) == (
            sum(x.base_amount_cents for x in open_lines)
            if len(open_lines) < len(state.lines)
            else state.base_amount_cents or state.amount_cents
        )
    if not open_lines:
        assert state.status == Status.REJECTED
        last = state.decisions[-1]
        assert last.action == Action.REJECT and last.rejected_lines


def check(h: Harness) -> None:
    m, state = h.m, h.m.state
    assert_separation_of_duties(state, h.levels_needed)
    check_lines(h)
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
    for lv in state.levels[state.current_level :]:
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
    if any(d.rejected_lines for d in h.m.state.decisions):
        event("lines rejected")
    if h.m.state.lines and all(x.status == "rejected" for x in h.m.state.lines):
        event("every line rejected")


AMOUNTS = [100, 60_000, 150_000, 600_000, 1_500_000]


@st.composite
def policies(draw) -> PolicyRules:
    """Random policy versions: management by amount plus 0-3 rules adding groups (any one
    member or every member), named people or the n-th manager."""
    adds = st.one_of(
        st.builds(
            LevelRule,
            kind=st.just(GROUP),
            group=st.sampled_from(["finance", "IT"]),
            mode=st.sampled_from([ANY, ALL]),
        ),
        st.builds(LevelRule, kind=st.just(PERSON), person=st.sampled_from(["p0", "p1", "p2"])),
        st.builds(LevelRule, kind=st.just(MANAGER), manager=st.integers(1, 4)),
    )
    rule = st.builds(
        PolicyRule,
        name=st.just("r"),
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
    h = Harness(
        org,
        requester,
        levels=0,
        policy=policy,
        amount=draw(st.sampled_from(AMOUNTS), label="amount"),
    )
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
    org = Org({"emma": "max", "max": "diana", "diana": None}, ["admin"], {"maria": ["max"]})
    org.reports_to["maria"] = "diana"
    h = Harness(org, "emma", levels=3)
    start(h)
    assert h.m.state.pending_approvers == ["max"]
    d = DecisionInput("a", org.actor("maria"), Action.APPROVE)  # for max
    assert rules.decision_refusal(h.m, d) is None
    h.take(T.decide(h.m, d, Via.UPDATE, h.clock))
    check(h)
    assert h.m.state.pending_approvers == ["diana"]
    time_out(h)  # diana has no manager: the admins
    check(h)
    assert h.m.state.pending_approvers == ["admin"]
    h.take(T.decide(h.m, DecisionInput("b", org.actor("admin"), "approve"), Via.UPDATE, h.clock))
    check(h)
    # Level 3 would be the admins' (diana is the top): admin approved, nobody left.
    assert h.m.state.waiting_reason == WaitingReason.NEEDS_APPROVER
    assert h.m.state.pending_approvers == []
    org.admins.append("admin2")
    reroute(h, RerouteInput(leaver=""))  # an admin appointed: route again
    check(h)
    assert h.m.state.pending_approvers == ["admin2"]
    d = DecisionInput("c", org.actor("admin2"), Action.APPROVE)
    h.take(T.decide(h.m, d, Via.UPDATE, h.clock))
    check(h)
    assert h.m.state.status == Status.APPROVED
    assert [(d.actor, d.on_behalf_of) for d in h.m.state.decisions] == [
        ("maria", "max"),
        ("admin", ""),
        ("admin2", ""),
    ]
