"""The workflow's clock transitions: reminders, escalations and expiry.

Pure, as transitions.py (whose `step`, `assign` and `finish` they use): the
workflow asks `next_timer` how long to sleep, `timer_fired` when the sleep
ends, and, after looking up the managers, `escalate`. Timers never approve:
after `max_escalations` escalations the request expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import clock, details, rules
from .contract import Managers, Status, StepEvent, StepKind, Via
from .state import Machine
from .transitions import Steps, assign, finish, step


def next_timer(m: Machine, now: datetime) -> timedelta | None:
    """How long until the reminder or the deadline of the current level (None: no clock)."""
    if m.state.status != Status.PENDING or m.due is None:
        return None
    moment = m.due
    if m.remind_at is not None and not rules.current(m).reminded:
        moment = min(moment, m.remind_at)
    return max(moment - now, timedelta(milliseconds=1))


def timer_fired(m: Machine, now: datetime) -> tuple[Steps, bool]:
    """(steps, escalate): the reminder, the expiry after the last escalation, or an
    escalation to look up (True). Timers never approve."""
    if m.state.status != Status.PENDING or m.due is None:
        return [], False
    level = rules.current(m)
    if now < m.due:
        if m.remind_at is not None and now >= m.remind_at and not level.reminded:
            level.reminded = True
            event = StepEvent(
                kind=StepKind.REMINDER,
                level=level.level,
                recipients=list(level.approvers),
                channel=Via.TIMER,
                detail=details.ReminderDetail(due_at=level.due_at),
            )
            return [step(m, event, now)], False
        return [], False
    if level.escalations >= m.policy.max_escalations:
        event = StepEvent(
            kind=StepKind.EXPIRED,
            level=level.level,
            channel=Via.TIMER,
            detail=details.ExpiredDetail(escalations=level.escalations),
        )
        return finish(m, Status.EXPIRED, event, now), False
    return [], True


def escalate(
    m: Machine, number: int, round_: int, managers: Managers | None, now: datetime
) -> Steps:
    """Level `number` of round `round_` goes to its approvers' nearest managers who may
    act (else the admins), unless it was decided or its deadline extended meanwhile."""
    state = m.state
    if state.status != Status.PENDING or state.current_level != number or state.round != round_:
        return []  # decided while we looked up the escalation target
    if m.due is not None and now < m.due:
        return []  # the deadline was extended meanwhile
    level = rules.current(m)
    clock.learn(m, managers)  # their calendars, for the clock that restarts below
    targets = rules.escalation_targets(
        level.approvers,
        managers.chains if managers else {},
        managers.admins if managers else (m.route.admins if m.route else []),
        rules.excluded(m),
    )
    previous = list(level.approvers)
    level.approvers = list(targets) or previous
    level.escalations += 1
    event = StepEvent(
        kind=StepKind.ESCALATED,
        level=number,
        recipients=list(level.approvers),
        channel=Via.ESCALATION,
        detail=details.EscalatedDetail(
            {"from": previous, "to": level.approvers, "escalations": level.escalations}
        ),
    )
    return [step(m, event, now), *assign(m, level, Via.ESCALATION, now)]
