"""The workflow's transitions: pure functions that change a `Machine` and say what happened.

Each takes the run's state, its input and the clock (`now`, the workflow's time) and returns the
steps that happened, in order: a `Happened` per step, with the search attribute values right after
it. Nothing here talks to Temporal or Django, so a transition schedules no command;
`effects.Effects` turns the steps into the outbox and the search-attribute upserts, and the
workflow awaits the lookups (routing, managers) between two transitions. Who may do what and who a
level goes to is decided in rules.py. Unit and property tests call these functions directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import clock, details, rules
from .contract import (
    Action,
    ApprovalInput,
    DecisionInput,
    DecisionRecord,
    ExtendInput,
    IgnoredSignal,
    LevelState,
    LevelStatus,
    LineRejection,
    Managers,
    RefusalInfo,
    RerouteInput,
    ResubmitInput,
    Route,
    Status,
    StepEvent,
    StepKind,
    Via,
    WaitingReason,
    WithdrawInput,
    eur_cents_of,
    line_states,
)
from .state import Machine, SearchValues, search_values


@dataclass(frozen=True)
class Happened:
    """One step that happened, and the search attributes as it left them."""

    event: StepEvent
    search: SearchValues


Steps = list[Happened]


def step(m: Machine, event: StepEvent, now: datetime) -> Happened:
    """What every step does to the state (the next seq, who may decide now)."""
    rules.record_step(m, event, now.isoformat())
    return Happened(event, search_values(m))


# ------------------------------------------------------------------ start
def submitted(m: Machine, inp: ApprovalInput, now: datetime) -> Steps:
    return [
        step(
            m,
            StepEvent(
                kind=StepKind.SUBMITTED,
                actor=inp.requester,
                actor_display=inp.requester_display,
                actor_role="requester",
                detail=details.SubmittedDetail(
                    amount_cents=inp.amount_cents, currency=inp.currency
                ),
            ),
            now,
        )
    ]


def install_route(m: Machine, route: Route, levels: int, now: datetime) -> Steps:
    """The chain from the route: the pinned policy version's level specs when the request
    has one (never empty), else level n prefers the n-th manager; then level 1 starts."""
    m.route = route
    if m.policy_rules and route.levels:
        m.state.levels = rules.policy_chain(route)
    else:
        m.state.levels = [
            LevelState(level=i + 1, approvers=list(a), original_approvers=list(a))
            for i, a in enumerate(rules.initial_chain(route, levels))
        ]
    return activate(m, 1, now)


# ----------------------------------------------------------------- levels
def activate(m: Machine, number: int, now: datetime) -> Steps:
    """Make level `number` current and give it to whoever may take it (SoD applies);
    past the last level the request is approved."""
    state = m.state
    if number <= len(state.levels):
        state.current_level = number
        level = state.levels[number - 1]
        level.approvers = rules.route_level(m, level)
        return assign_or_wait(m, level, Via.TIMER, now)
    return finish(m, Status.APPROVED, completed(Status.APPROVED), now)


def assign_or_wait(
    m: Machine, level: LevelState, channel: Via, now: datetime, cause: str = ""
) -> Steps:
    """Give the level to its approvers, or wait on nobody, visibly, and tell the admins."""
    if level.approvers:
        m.state.waiting_reason = WaitingReason.NONE
        return assign(m, level, channel, now)
    m.state.waiting_reason = WaitingReason.NEEDS_APPROVER
    m.due = m.remind_at = None
    level.status, level.due_at = LevelStatus.PENDING, ""
    m.state.due_at = ""
    event = StepEvent(
        kind=StepKind.NEEDS_APPROVER,
        level=level.level,
        recipients=list(m.route.admins) if m.route else [],
        channel=channel,
        detail=details.NeedsApproverDetail(cause=cause or "nobody left who may decide this level"),
    )
    return [step(m, event, now)]


def assign(m: Machine, level: LevelState, channel: Via, now: datetime) -> Steps:
    """Give `level` to its approvers now: start its clock and tell them."""
    start_clock(m, level, now)
    event = StepEvent(
        kind=StepKind.ASSIGNED,
        level=level.level,
        recipients=list(level.approvers),
        channel=channel,
        detail=details.AssignedDetail(due_at=level.due_at),
    )
    return [step(m, event, now)]


def start_clock(m: Machine, level: LevelState, now: datetime) -> None:
    policy = m.policy
    m.due = now + timedelta(seconds=policy.sla_seconds)
    reminder = policy.reminder_seconds
    m.remind_at = now + timedelta(seconds=reminder) if 0 < reminder < policy.sla_seconds else None
    if m.working:  # 31-business-calendar: working time in the approver's calendar
        m.due, m.remind_at = clock.working_clock(m, level, now)
    level.status, level.reminded = LevelStatus.PENDING, False
    level.due_at = m.due.isoformat()
    m.state.due_at = level.due_at


def finish(m: Machine, status: Status, event: StepEvent, now: datetime) -> Steps:
    m.state.status = status
    m.due = m.remind_at = None
    m.state.due_at = ""
    steps = [step(m, event, now)]
    if event.kind != StepKind.COMPLETED:
        steps.append(step(m, completed(status), now))
    return steps


def completed(outcome: Status) -> StepEvent:
    return StepEvent(kind=StepKind.COMPLETED, detail=details.CompletedDetail(outcome=outcome))


# -------------------------------------------------------------- decisions
def decide(m: Machine, d: DecisionInput, channel: Via, now: datetime, lines: bool = False) -> Steps:
    """Apply a decision the rules allowed (decision_refusal returned None).

    `lines` (the run took patch 26-expense-lines for this decision): the approve's line
    rejections apply; rejecting every open line rejects the report at this level."""
    state = m.state
    on_behalf_of = rules.authority(m, d)[0] or ""
    level = rules.current(m)
    at = now.isoformat()
    rejected: list[LineRejection] = []
    action, comment = d.action, d.comment
    if lines and d.action == Action.APPROVE and d.rejected_lines:
        rejected = reject_lines(m, d, level.level)
        if not rules.open_lines(m):  # nothing left to approve: the report is rejected
            action = Action.REJECT
            comment = d.comment.strip() or "\n".join(r.reason.strip() for r in rejected)
    record = DecisionRecord(
        seq=state.seq + 1,
        level=level.level,
        action=action,
        actor=d.actor.username,
        actor_display=d.actor.display,
        actor_role=d.actor.role,
        comment=comment,
        at=at,
        channel=channel,
        decision_id=d.decision_id,
        on_behalf_of=on_behalf_of,
        override=rules.is_override(m, d, on_behalf_of),
        round=state.round,
        rejected_lines=rejected,
    )
    state.decisions.append(record)
    level.decided_by, level.decided_at = d.actor.username, at
    level.comment, level.channel, level.on_behalf_of = comment, channel, on_behalf_of
    detail = details.DecidedDetail(
        action=action,
        decision_id=d.decision_id,
        on_behalf_of=on_behalf_of,
        override=record.override,
    )
    if rejected:  # the audit row lists them with their reasons
        detail["rejected_lines"] = [{"line": r.n, "reason": r.reason} for r in rejected]
        detail["open_lines"] = [line.n for line in rules.open_lines(m)]
    event = StepEvent(
        kind=StepKind.DECIDED,
        level=level.level,
        actor=d.actor.username,
        actor_display=d.actor.display,
        actor_role=d.actor.role,
        comment=comment,
        channel=channel,
        detail=detail,
    )
    if action == Action.APPROVE:
        level.status = LevelStatus.APPROVED
        return [step(m, event, now), *activate(m, level.level + 1, now)]
    if action == Action.REJECT:
        level.status = LevelStatus.REJECTED
        return finish(m, Status.REJECTED, event, now)
    level.status = LevelStatus.CHANGES_REQUESTED
    state.status = Status.CHANGES_REQUESTED
    m.due = m.remind_at = None
    state.due_at = ""
    return [step(m, event, now)]


def reject_lines(m: Machine, d: DecisionInput, level: int) -> list[LineRejection]:
    """Mark the lines `d` rejects (line_refusal returned None): out for every later level."""
    by_n = {line.n: line for line in m.state.lines}
    rejected = []
    for r in d.rejected_lines:
        line = by_n[r.n]
        line.status, line.rejected_level = rules.LINE_REJECTED, level
        line.rejected_by, line.reason = d.actor.username, r.reason.strip()
        rejected.append(LineRejection(r.n, line.reason))
    return rejected


def ignore_signal(m: Machine, d: DecisionInput, refused: RefusalInfo, now: datetime) -> Steps:
    """A signalled decision the rules refused: kept on the state and the timeline."""
    at = now.isoformat()
    ignored = IgnoredSignal(d.decision_id, d.actor.username, d.action, refused.code, at)
    ignored.code, ignored.params = refused.code, refused.params
    m.state.ignored_signals.append(ignored)
    event = StepEvent(
        kind=StepKind.SIGNAL_IGNORED,
        level=m.state.current_level,
        actor=d.actor.username,
        actor_display=d.actor.display,
        actor_role=d.actor.role,
        comment=d.comment,
        channel=Via.SIGNAL,
        detail=details.SignalIgnoredDetail(
            reason=refused.code,
            code=refused.code,
            params=refused.params,
            action=d.action,
            decision_id=d.decision_id,
        ),
    )
    return [step(m, event, now)]


# ------------------------------------------------------- requester actions
def withdraw(m: Machine, w: WithdrawInput, now: datetime) -> Steps:
    event = StepEvent(
        kind=StepKind.WITHDRAWN,
        level=m.state.current_level,
        actor=w.actor.username,
        actor_display=w.actor.display,
        actor_role="requester",
        comment=w.reason,
        channel=Via.UPDATE,
    )
    return finish(m, Status.WITHDRAWN, event, now)


def new_content(m: Machine, r: ResubmitInput) -> int:
    """Before routing a resubmission: the levels its EUR amount needs (the pinned version's
    facts now carry that amount)."""
    base = eur_cents_of(r)
    if m.facts is not None:
        m.facts.amount_cents = base
    return m.policy.levels_for(base)


def resubmitted(m: Machine, r: ResubmitInput, now: datetime) -> Steps:
    """The new content, a new round, pending again (the route is installed next)."""
    state = m.state
    old_amount, old_title = state.amount_cents, state.title
    state.title, state.amount_cents = r.title.strip(), r.amount_cents
    state.base_amount_cents = eur_cents_of(r)
    # The edited report's lines, all open again in the new round.
    state.lines = line_states(r.lines, r.amount_cents, state.currency, state.base_amount_cents)
    state.round += 1
    state.status = Status.PENDING
    event = StepEvent(
        kind=StepKind.RESUBMITTED,
        actor=r.actor.username,
        actor_display=r.actor.display,
        actor_role="requester",
        comment=r.comment,
        channel=Via.UPDATE,
        detail=details.ResubmittedDetail(
            old_amount_cents=old_amount,
            amount_cents=r.amount_cents,
            old_title=old_title,
            title=state.title,
            round=state.round,
        ),
    )
    return [step(m, event, now)]


def memo(m: Machine) -> dict:
    """The memo fields a resubmission changes."""
    state = m.state
    return {
        "title": state.title,
        "amount_cents": state.amount_cents,
        "base_amount_cents": state.base_amount_cents,
    }


def extend(m: Machine, e: ExtendInput, now: datetime) -> Steps:
    """Move the current level's deadline (extend_refusal returned None, so it has one)."""
    extra = timedelta(seconds=e.seconds)
    assert m.due is not None
    level = rules.current(m)
    m.due = clock.extended(m, level, m.due, e.seconds) if m.working else m.due + extra
    level.extensions += 1  # capped by rules.extend_refusal
    level.extended_seconds += e.seconds
    if m.remind_at is not None and not level.reminded:
        # The reminder keeps its distance to the deadline (in working time with a calendar).
        m.remind_at = (
            clock.extended(m, level, m.remind_at, e.seconds) if m.working else m.remind_at + extra
        )
    level.due_at = m.state.due_at = m.due.isoformat()
    event = StepEvent(
        kind=StepKind.DEADLINE_EXTENDED,
        level=level.level,
        actor=e.actor.username,
        actor_display=e.actor.display,
        actor_role=e.actor.role,
        comment=e.reason,
        channel=Via.UPDATE,
        detail=details.DeadlineExtendedDetail(seconds=e.seconds, due_at=level.due_at),
    )
    return [step(m, event, now)]


# ---------------------------------------------------------------- re-route
def rerouted(
    m: Machine, level: LevelState, previous: list[str], r: RerouteInput, now: datetime
) -> Steps:
    event = StepEvent(
        kind=StepKind.REROUTED,
        level=level.level,
        recipients=list(level.approvers),
        channel=Via.REROUTE,
        detail=details.ReroutedDetail(
            {
                "from": previous,
                "to": list(level.approvers),
                "reason": r.reason,
                "leaver": r.leaver,
                "reroute_id": r.reroute_id,
            }
        ),
    )
    return [step(m, event, now), *assign_or_wait(m, level, Via.REROUTE, now)]


def drop_leaver(m: Machine, leaver: str) -> list[LevelState]:
    """Take a leaver off the route; the levels from the current one on that wait on them."""
    if m.route is not None:
        m.route.ladder = [p for p in m.route.ladder if p != leaver]
        m.route.admins = [p for p in m.route.admins if p != leaver]
    return [lv for lv in m.state.levels[m.state.current_level - 1 :] if leaver in lv.approvers]


def reroute_leaver(
    m: Machine,
    r: RerouteInput,
    affected: list[LevelState],
    managers: Managers | None,
    now: datetime,
) -> Steps:
    """Every level waiting on the leaver moves on at once: to the others of the level, else
    the leaver's nearest manager who may act, else the admins."""
    chain = managers.chains.get(r.leaver, []) if managers else []
    admins = managers.admins if managers else (m.route.admins if m.route else [])
    if m.state.status != Status.PENDING:
        return []
    steps: Steps = []
    for level in affected:
        previous = list(level.approvers)
        others = [p for p in previous if p != r.leaver]
        if level.level != m.state.current_level:
            # A level still to come: its preferred person changes; SoD applies on arrival.
            level.approvers = others or rules.replacement(r.leaver, chain, admins, set())[:1]
            continue
        level.approvers = others or rules.replacement(r.leaver, chain, admins, rules.excluded(m))
        steps += rerouted(m, level, previous, r, now)
    return steps


def reroute_again(m: Machine, r: RerouteInput, route: Route, now: datetime) -> Steps:
    """Route the current level again with today's org chart (e.g. from /ops/)."""
    if m.state.status != Status.PENDING or not m.state.levels:
        return []
    m.route = route
    level = rules.current(m)
    previous = list(level.approvers)
    spec = rules.spec_for(route, level.level) if m.policy_rules and level.kind else None
    if spec is not None:  # the pinned version's spec for this level, today's people
        preferred = list(spec.approvers)
        above = rules.above_for(route, level, preferred)
    else:
        preferred = rules.initial_chain(route, level.level)[level.level - 1]
        above = rules.above_level(route, level.level, preferred)
    level.approvers = rules.choose(preferred, above, route.admins, rules.excluded(m))
    if level.approvers == previous:
        return []  # nothing changed
    return rerouted(m, level, previous, r, now)


# ------------------------------------------------------------------ mail
def notification_failed(
    m: Machine, level: int, seq: int, kinds: list[str], cause: str, error_type: str, now: datetime
) -> Steps:
    """A transition's mails failed for good (recorded for /ops/); the request goes on."""
    event = StepEvent(
        kind=StepKind.NOTIFICATION_FAILED,
        level=level,
        channel=Via.AUTO,
        detail=details.NotificationFailedDetail(
            cause=cause, error_type=error_type, for_seq=seq, kinds=kinds
        ),
    )
    return [step(m, event, now)]
