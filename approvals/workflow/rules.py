"""The approval rules: what is allowed in which state, and who a level goes to.

Pure: no Temporal, no Django. The workflow calls these functions from its
validators, handlers and timers; unit tests call them directly
(tests/approvals/workflow/test_rules.py). Each refusal is a `RefusalInfo`
(a code from `contract.Refusal` plus parameters); `approvals.labels` words it.

Separation of duties: a request that needs N levels is approved by N
different people, never by its requester. A level whose approver already
approved this round (directly, as a delegate or as an escalation target) goes
on up the ladder to the next person who has not; past the top of the
organisation it goes to the admins who have not; if nobody is left the level
waits on nobody (`WaitingReason.NEEDS_APPROVER`).
"""

from __future__ import annotations

from .contract import (
    Action,
    DecisionInput,
    ExtendInput,
    LevelKind,
    LevelSpec,
    LevelState,
    LevelStatus,
    LineState,
    Refusal,
    RefusalInfo,
    ResubmitInput,
    Route,
    Status,
    StepEvent,
    Via,
    WaitingReason,
    WithdrawInput,
    eur_cents_of,
)
from .state import Machine

__all__ = ["Machine"]  # re-exported: rules.Machine is the state every rule reads

MAX_COMMENT = 2000
MAX_LINE_REASON = 1000
LINE_OPEN = "open"
LINE_REJECTED = "rejected"
MAX_TITLE = 200
MAX_EXTENSION_SECONDS = 30 * 86400
# A level's deadline moves at most this often and this far in all: without a cap a
# deadline could be pushed out for ever (the escalation never fires) and every
# extension grows the history towards Temporal's hard limit of 51,200 events.
MAX_EXTENSIONS_PER_LEVEL = 5
MAX_EXTENDED_SECONDS_PER_LEVEL = 31 * 86400


def refusal(code: Refusal, **params) -> RefusalInfo:
    return RefusalInfo(code, params)


# ------------------------------------------------------------ derived facts
def current(m: Machine) -> LevelState:
    return m.state.levels[m.state.current_level - 1]


def approved_by(m: Machine) -> set[str]:
    """People who approved in this round, and the principals delegates acted for."""
    people: set[str] = set()
    for d in m.state.decisions:
        if d.round == m.state.round and d.action == Action.APPROVE and d.channel != Via.AUTO:
            people.add(d.actor)
            if d.on_behalf_of:
                people.add(d.on_behalf_of)
    return people


def excluded(m: Machine) -> set[str]:
    """Who may not take a level of this request now (separation of duties)."""
    return {m.state.requester} | approved_by(m)


def seen_decision(m: Machine, decision_id: str) -> bool:
    if not decision_id:
        return False
    return decision_id in m.signal_ids or any(
        d.decision_id == decision_id for d in m.state.decisions
    )


def decision_id_owner(m: Machine, decision_id: str) -> str | None:
    """Who used `decision_id` first (a decision or a refused signal), None if nobody.

    A repeated id is answered with the state only for that person: anyone else who sends
    it (read out of a mail, say) is refused and learns nothing of the request."""
    if not decision_id:
        return None
    for record in m.state.decisions:
        if record.decision_id == decision_id:
            return record.actor
    if decision_id not in m.signal_ids:  # only our own (authenticated) signals claim an id
        return None
    for ignored in m.state.ignored_signals:
        if ignored.decision_id == decision_id and ignored.code != Refusal.UNAUTHENTICATED:
            return ignored.actor
    return ""  # claimed by a signal still waiting to be applied


def repeated_decision(m: Machine, d: DecisionInput) -> tuple[bool, RefusalInfo | None]:
    """(a repeat of this actor's own decision, refusal when the id is someone else's)."""
    owner = decision_id_owner(m, d.decision_id)
    if owner is None:
        return False, None
    if owner == d.actor.username:
        return True, None
    return False, refusal(Refusal.DECISION_ID_TAKEN)


def record_step(m: Machine, event: StepEvent, now: str) -> None:
    """What every step does to the state: the next seq, and who may decide now."""
    state = m.state
    state.seq += 1
    event.detail = {**event.detail, "seq": state.seq, "at": now}
    if state.status == Status.PENDING and state.levels:
        state.pending_approvers = sorted(set(current(m).approvers))
    else:
        state.pending_approvers = []
    if state.status != Status.PENDING:
        state.waiting_reason = WaitingReason.NONE


# ---------------------------------------------------------------- decisions
def moved_on(level: LevelState) -> RefusalInfo:
    return refusal(
        Refusal.LEVEL_MOVED_ON,
        level=level.level,
        by=level.decided_by,
        on_behalf_of=level.on_behalf_of,
    )


def decided_level_for(m: Machine, d: DecisionInput) -> LevelState | None:
    """An earlier level of this round the actor could have decided: they lost a race."""
    now = current(m)
    if d.actor.username in now.approvers:
        return None
    if any(p in now.approvers for p in d.actor.delegate_for):
        return None
    for level in m.state.levels[: m.state.current_level - 1]:
        people = set(level.original_approvers) | set(level.approvers)
        if d.actor.username in people or people & set(d.actor.delegate_for):
            return level
    return None


def holds_other_level(m: Machine, username: str, level: LevelState) -> bool:
    """Has `username` decided another level of this round (in their own right or for
    someone)? A level still to come does not count: if it would go to them, it moves on
    up when it arrives (so diana may decide level 1 for max; level 2 then goes to victor)."""
    return any(
        other.level != level.level and other.decided_by == username
        for other in m.state.levels
        if other.status == LevelStatus.APPROVED
    )


def authority(m: Machine, d: DecisionInput) -> tuple[str | None, RefusalInfo | None]:
    """(on_behalf_of or "", refusal): whose authority the actor decides with."""
    level = current(m)
    if d.actor.username in level.approvers:
        return "", None
    for principal in d.actor.delegate_for:
        if principal in level.approvers and principal != m.state.requester:
            if principal in approved_by(m):
                return None, refusal(Refusal.PRINCIPAL_ALREADY_APPROVED, principal=principal)
            if holds_other_level(m, d.actor.username, level):
                return None, refusal(Refusal.DELEGATE_HOLDS_OTHER_LEVEL, principal=principal)
            return principal, None
    if d.actor.is_admin and d.override:
        if not d.comment.strip():
            return None, refusal(Refusal.OVERRIDE_NEEDS_REASON)
        return "", None
    if d.actor.is_admin:
        return None, refusal(Refusal.NOT_APPROVER_USE_OVERRIDE)
    return None, refusal(Refusal.NOT_APPROVER)


def decision_refusal(m: Machine, d: DecisionInput, lines: bool = True) -> RefusalInfo | None:
    """Why `d` may not be applied now (None: it may). `lines`: line rejections count
    (False only on the 1.0 branch of a run replayed without the per-line patch)."""
    state = m.state
    if d.action not in Action.ALL:
        return refusal(Refusal.UNKNOWN_ACTION, action=str(d.action)[:40])
    if d.actor.username == state.requester:
        return refusal(Refusal.OWN_REQUEST)
    if not m.ready or m.busy:
        return refusal(Refusal.STILL_ROUTING)
    if state.status != Status.PENDING:
        return refusal(Refusal.NOT_AWAITING, status=state.status)
    if d.round and d.round != state.round:
        return refusal(Refusal.ROUND_OVER, round=d.round)
    if d.level < 0 or d.level > state.current_level:
        return refusal(Refusal.LEVEL_NOT_YET)
    if 0 < d.level < state.current_level:
        return moved_on(state.levels[d.level - 1])
    if d.action != Action.APPROVE and not d.comment.strip():
        return refusal(Refusal.COMMENT_REQUIRED)
    if len(d.comment) > MAX_COMMENT:
        return refusal(Refusal.COMMENT_TOO_LONG, max=MAX_COMMENT)
    earlier = decided_level_for(m, d)
    if earlier is not None:
        return moved_on(earlier)
    if d.actor.username in approved_by(m):
        return refusal(Refusal.ALREADY_APPROVED)
    refused = authority(m, d)[1]
    if refused is None and lines and d.rejected_lines:
        return line_refusal(m, d)
    return refused


# ------------------------------------------------------------ per-line decisions
def open_lines(m: Machine) -> list[LineState]:
    return [line for line in m.state.lines if line.status == LINE_OPEN]


def line_refusal(m: Machine, d: DecisionInput) -> RefusalInfo | None:
    """Line rejections ride on an approve: each names an open line of the report, once,
    with a reason in words (rejecting every open line rejects the report)."""
    if d.action != Action.APPROVE:
        return refusal(Refusal.LINES_ONLY_WHEN_APPROVING)
    lines = {line.n: line for line in m.state.lines}
    seen: set[int] = set()
    for rejection in d.rejected_lines:
        line = lines.get(rejection.n)
        if line is None:
            return refusal(Refusal.LINE_UNKNOWN, line=rejection.n)
        if rejection.n in seen:
            return refusal(Refusal.LINE_TWICE, line=rejection.n)
        seen.add(rejection.n)
        if line.status != LINE_OPEN:
            return refusal(
                Refusal.LINE_ALREADY_REJECTED,
                line=rejection.n,
                level=line.rejected_level,
                by=line.rejected_by,
            )
        if not rejection.reason.strip():
            return refusal(Refusal.LINE_REASON_REQUIRED, line=rejection.n)
        if len(rejection.reason) > MAX_LINE_REASON:
            return refusal(Refusal.LINE_REASON_TOO_LONG, line=rejection.n, max=MAX_LINE_REASON)
    return None


def payout_cents(m: Machine) -> int:
    """What the payout pays, in EUR cents: the report's amount, or, once a line is
    rejected, the sum of the open (approved) lines."""
    state = m.state
    if any(line.status != LINE_OPEN for line in state.lines):
        return sum(line.base_amount_cents for line in open_lines(m))
    return eur_cents_of(state)


def signal_refusal(m: Machine, d: DecisionInput, lines: bool = False) -> RefusalInfo | None:
    # Without its own id a signal cannot be deduplicated: never apply it.
    if not d.decision_id:
        return refusal(Refusal.SIGNAL_WITHOUT_ID)
    if lines and d.rejected_lines:
        # Mail links decide the whole report; never approve lines someone meant to reject.
        return refusal(Refusal.LINES_NOT_BY_SIGNAL)
    return decision_refusal(m, d, lines=False)


def is_override(m: Machine, d: DecisionInput, on_behalf_of: str) -> bool:
    return bool(
        d.override
        and d.actor.is_admin
        and not on_behalf_of
        and d.actor.username not in current(m).approvers
    )


# ------------------------------------------------------- requester and admins
def withdraw_refusal(m: Machine, w: WithdrawInput) -> RefusalInfo | None:
    if w.actor.username != m.state.requester:
        return refusal(Refusal.ONLY_REQUESTER_WITHDRAWS)
    if m.state.status not in (Status.PENDING, Status.CHANGES_REQUESTED) or m.busy:
        return refusal(Refusal.CANNOT_WITHDRAW, status=m.state.status)
    return None


def resubmit_refusal(m: Machine, r: ResubmitInput) -> RefusalInfo | None:
    if r.actor.username != m.state.requester:
        return refusal(Refusal.ONLY_REQUESTER_RESUBMITS)
    if m.state.status != Status.CHANGES_REQUESTED or m.busy:
        return refusal(Refusal.CHANGES_NOT_REQUESTED)
    if not r.title.strip():
        return refusal(Refusal.TITLE_EMPTY)
    if len(r.title) > MAX_TITLE:
        return refusal(Refusal.TITLE_TOO_LONG, max=MAX_TITLE)
    if r.amount_cents <= 0:
        return refusal(Refusal.AMOUNT_NOT_POSITIVE)
    if eur_cents_of(r) > m.policy.max_amount_cents:
        return refusal(Refusal.AMOUNT_ABOVE_MAXIMUM)
    if len(r.comment) > MAX_COMMENT:
        return refusal(Refusal.COMMENT_TOO_LONG, max=MAX_COMMENT)
    return None


def extend_refusal(m: Machine, e: ExtendInput) -> RefusalInfo | None:
    if m.state.status != Status.PENDING or not m.ready or m.due is None:
        return refusal(Refusal.NO_DEADLINE)
    if e.actor.username == m.state.requester:
        return refusal(Refusal.OWN_DEADLINE)
    if not 0 < e.seconds <= MAX_EXTENSION_SECONDS:
        return refusal(Refusal.EXTENSION_OUT_OF_RANGE, max_days=MAX_EXTENSION_SECONDS // 86400)
    level = current(m)
    if level.extensions >= MAX_EXTENSIONS_PER_LEVEL:
        return refusal(Refusal.EXTENSIONS_EXHAUSTED, max=MAX_EXTENSIONS_PER_LEVEL)
    if level.extended_seconds + e.seconds > MAX_EXTENDED_SECONDS_PER_LEVEL:
        left_days = (MAX_EXTENDED_SECONDS_PER_LEVEL - level.extended_seconds) // 86400
        return refusal(
            Refusal.EXTENSION_TOTAL_EXCEEDED,
            max_days=MAX_EXTENDED_SECONDS_PER_LEVEL // 86400,
            left_days=max(left_days, 0),
        )
    if e.actor.username in current(m).approvers or e.actor.is_admin:
        return None
    return refusal(Refusal.NOT_APPROVER_OR_ADMIN)


def reroute_refusal(m: Machine) -> RefusalInfo | None:
    if m.state.status != Status.PENDING or not m.ready:
        return refusal(Refusal.NOT_PENDING, status=m.state.status)
    if m.busy:  # another re-route (or a resubmission) is resolving people right now
        return refusal(Refusal.STILL_ROUTING)
    return None


# ------------------------------------------------------------------ routing
def choose(
    preferred: list[str], above: list[str], admins: list[str], barred: set[str]
) -> list[str]:
    """Who a level goes to: its preferred approvers who may act; else the next person up
    who may; else every admin who may (any one of them decides); else nobody ([])."""
    allowed = [p for p in preferred if p not in barred]
    if allowed:
        return allowed
    for person in above:
        if person not in barred:
            return [person]
    return [a for a in admins if a not in barred]


def initial_chain(route: Route, levels: int) -> list[list[str]]:
    """Level n's preferred approvers: the n-th manager, else the admins."""
    return [
        [route.ladder[n]] if n < len(route.ladder) else list(route.admins) for n in range(levels)
    ]


def policy_chain(route: Route) -> list[LevelState]:
    """The levels a pinned policy version's rules made: one per spec, in order."""
    return [
        LevelState(
            level=i + 1,
            approvers=list(spec.approvers),
            original_approvers=list(spec.approvers),
            kind=spec.kind,
            label=spec.label,
        )
        for i, spec in enumerate(route.levels)
    ]


def spec_for(route: Route, number: int) -> LevelSpec | None:
    return route.levels[number - 1] if 0 < number <= len(route.levels) else None


def above_for(route: Route, level: LevelState, approvers: list[str]) -> list[str]:
    """Who a level goes on up to when its preferred approvers may not act.

    A group's or a named person's level goes straight to the admins (the requester's
    managers are not that group); a manager level goes on up the ladder as before."""
    if level.kind in (LevelKind.GROUP, LevelKind.PERSON):
        return []
    if level.kind == LevelKind.MANAGER and not set(approvers) & set(route.ladder):
        return []  # the ladder ran out: the admins
    return above_level(route, level.level, approvers)


def above_level(route: Route, number: int, approvers: list[str] | tuple = ()) -> list[str]:
    """The ladder above level `number`'s own manager (nothing above the admins).

    Counted from the level's approver when they are on the ladder: after a leaver is taken
    off the ladder the positions shift, and counting by number would skip someone."""
    for person in approvers:
        if person in route.ladder:
            return list(route.ladder[route.ladder.index(person) + 1 :])
    return list(route.ladder[number:]) if number <= len(route.ladder) else []


def route_level(m: Machine, level: LevelState) -> list[str]:
    """Who may take `level` now, with separation of duties."""
    route = m.route or Route(ladder=[], admins=[])
    above = above_for(route, level, level.approvers)
    return choose(level.approvers, above, route.admins, excluded(m))


def escalation_targets(
    approvers: list[str], chains: dict[str, list[str]], admins: list[str], barred: set[str]
) -> list[str]:
    """Each approver's nearest manager who may act; else the admins who may; else nobody."""
    targets: set[str] = set()
    for person in approvers:
        for manager in chains.get(person, []):
            if manager not in barred:
                targets.add(manager)
                break
    if targets:
        return sorted(targets)
    return [a for a in admins if a not in barred]


def replacement(leaver: str, chain: list[str], admins: list[str], barred: set[str]) -> list[str]:
    """Who takes over a level from someone who left: their manager up, else the admins."""
    return choose([], chain, [a for a in admins if a != leaver], barred | {leaver})
