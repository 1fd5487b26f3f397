"""The workflow's transitions: decisions, levels, clocks, timers and re-routes.

A mixin of `ExpenseApprovalWorkflow` (workflow.py), kept apart so each file
stays readable. Each method changes `self.m` (rules.Machine) and emits the
steps that happened; who may do what and who a level goes to is decided in
rules.py. Imports no Django.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from . import rules
    from .contract import (
        Action,
        DecisionInput,
        DecisionRecord,
        EscalationRequest,
        LevelState,
        LevelStatus,
        RerouteInput,
        Route,
        Status,
        StepEvent,
        StepKind,
        Via,
        WaitingReason,
    )
    from .interfaces import resolve_escalation

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Short attempt timeouts: an activity lost with a killed worker is retried
# after this long, so keep it near what a slow database write can take.
DB_TIMEOUT = timedelta(seconds=10)


class Steps:
    m: rules.Machine

    # ------------------------------------------------------------- helpers
    def _now(self) -> str:
        return workflow.now().isoformat()

    def _current(self) -> LevelState:
        return rules.current(self.m)

    # ---------------------------------------------------------- decisions
    def _apply_decision(self, d: DecisionInput, channel: str) -> None:
        state = self.m.state
        on_behalf_of = rules.authority(self.m, d)[0] or ""
        level = self._current()
        now = self._now()
        record = DecisionRecord(
            seq=state.seq + 1,
            level=level.level,
            action=d.action,
            actor=d.actor.username,
            actor_display=d.actor.display,
            actor_role=d.actor.role,
            comment=d.comment,
            at=now,
            channel=channel,
            decision_id=d.decision_id,
            on_behalf_of=on_behalf_of,
            override=rules.is_override(self.m, d, on_behalf_of),
            round=state.round,
        )
        state.decisions.append(record)
        level.decided_by, level.decided_at = d.actor.username, now
        level.comment, level.channel, level.on_behalf_of = d.comment, channel, on_behalf_of
        event = StepEvent(
            kind=StepKind.DECIDED,
            level=level.level,
            actor=d.actor.username,
            actor_display=d.actor.display,
            actor_role=d.actor.role,
            comment=d.comment,
            channel=channel,
            detail={
                "action": d.action,
                "decision_id": d.decision_id,
                "on_behalf_of": on_behalf_of,
                "override": record.override,
            },
        )
        if d.action == Action.APPROVE:
            level.status = LevelStatus.APPROVED
            self._emit(event)
            self._activate(level.level + 1)
        elif d.action == Action.REJECT:
            level.status = LevelStatus.REJECTED
            self._finish(Status.REJECTED, event)
        else:
            level.status = LevelStatus.CHANGES_REQUESTED
            state.status = Status.CHANGES_REQUESTED
            self.m.due = self.m.remind_at = None
            state.due_at = ""
            self._emit(event)

    # ------------------------------------------------------------- levels
    def _install_chain(self, chain: list[list[str]]) -> None:
        """Version 1: the chain as resolve_chain gave it."""
        self.m.state.levels = [
            LevelState(level=i + 1, approvers=list(a), original_approvers=list(a))
            for i, a in enumerate(chain)
        ]
        self._activate(1)

    def _install_route(self, route: Route, levels: int) -> None:
        """Version 2: level n prefers the n-th manager; rules.route_level applies SoD."""
        self.m.route = route
        if self.m.policy_rules and route.levels:
            # Patch "policy-rules": the pinned policy version's chain (never empty).
            self.m.state.levels = rules.policy_chain(route)
        else:
            self.m.state.levels = [
                LevelState(level=i + 1, approvers=list(a), original_approvers=list(a))
                for i, a in enumerate(rules.initial_chain(route, levels))
            ]
        self._activate(1)

    def _activate(self, number: int) -> None:
        """Make level `number` current and give it to whoever may take it."""
        state = self.m.state
        while number <= len(state.levels):
            state.current_level = number
            level = state.levels[number - 1]
            if self.m.version >= 2:
                level.approvers = rules.route_level(self.m, level)
                self._assign_or_wait(level, Via.TIMER)
                return
            already = sorted(set(level.approvers) & rules.approved_by(self.m))
            if not already:
                self._assign(level, Via.TIMER)
                return
            self._auto_approve(level, already[0])  # version 1 only
            number += 1
        self._finish(
            Status.APPROVED, StepEvent(kind=StepKind.COMPLETED, detail={"outcome": "approved"})
        )

    def _auto_approve(self, level: LevelState, who: str) -> None:
        now = self._now()
        level.status, level.decided_by, level.decided_at = LevelStatus.APPROVED, who, now
        level.channel = Via.AUTO
        self.m.state.decisions.append(
            DecisionRecord(
                seq=self.m.state.seq + 1,
                level=level.level,
                action=Action.APPROVE,
                actor=who,
                actor_display="",
                actor_role="",
                comment="",
                at=now,
                channel=Via.AUTO,
                round=self.m.state.round,
            )
        )
        self._emit(
            StepEvent(
                kind=StepKind.AUTO_APPROVED,
                level=level.level,
                actor=who,
                channel=Via.AUTO,
                detail={"reason": "already approved at an earlier level"},
            )
        )

    def _assign_or_wait(self, level: LevelState, channel: str, cause: str = "") -> None:
        """Give the level to its approvers, or wait on nobody, visibly, and tell the admins."""
        if level.approvers:
            self.m.state.waiting_reason = WaitingReason.NONE
            self._assign(level, channel)
            return
        self.m.state.waiting_reason = WaitingReason.NEEDS_APPROVER
        self.m.due = self.m.remind_at = None
        level.status, level.due_at = LevelStatus.PENDING, ""
        self.m.state.due_at = ""
        route = self.m.route
        self._emit(
            StepEvent(
                kind=StepKind.NEEDS_APPROVER,
                level=level.level,
                recipients=list(route.admins) if route else [],
                channel=channel,
                detail={"cause": cause or "nobody left who may decide this level"},
            )
        )

    def _assign(self, level: LevelState, channel: str) -> None:
        """Give `level` to its approvers now: start its clock and tell them."""
        self._start_clock(level)
        self._emit(
            StepEvent(
                kind=StepKind.ASSIGNED,
                level=level.level,
                recipients=list(level.approvers),
                channel=channel,
                detail={"due_at": level.due_at},
            )
        )

    def _start_clock(self, level: LevelState) -> None:
        now = workflow.now()
        policy = self.m.policy
        self.m.due = now + timedelta(seconds=policy.sla_seconds)
        reminder = policy.reminder_seconds
        self.m.remind_at = (
            now + timedelta(seconds=reminder) if 0 < reminder < policy.sla_seconds else None
        )
        level.status, level.reminded = LevelStatus.PENDING, False
        level.due_at = self.m.due.isoformat()
        self.m.state.due_at = level.due_at

    def _finish(self, status: str, event: StepEvent) -> None:
        self.m.state.status = status
        self.m.due = self.m.remind_at = None
        self.m.state.due_at = ""
        self._emit(event)
        if event.kind != StepKind.COMPLETED:
            self._emit(StepEvent(kind=StepKind.COMPLETED, detail={"outcome": status}))

    # -------------------------------------------------------------- timers
    def _next_timer(self) -> timedelta | None:
        if self.m.state.status != Status.PENDING or self.m.due is None:
            return None
        moment = self.m.due
        if self.m.remind_at is not None and not self._current().reminded:
            moment = min(moment, self.m.remind_at)
        return max(moment - workflow.now(), timedelta(milliseconds=1))

    async def _on_timer(self) -> None:
        m = self.m
        if m.state.status != Status.PENDING or m.due is None:
            return
        now = workflow.now()
        level = self._current()
        if now < m.due:
            if m.remind_at is not None and now >= m.remind_at and not level.reminded:
                level.reminded = True
                self._emit(
                    StepEvent(
                        kind=StepKind.REMINDER,
                        level=level.level,
                        recipients=list(level.approvers),
                        channel=Via.TIMER,
                        detail={"due_at": level.due_at},
                    )
                )
            return
        if level.escalations >= m.policy.max_escalations:
            self._finish(
                Status.EXPIRED,
                StepEvent(
                    kind=StepKind.EXPIRED,
                    level=level.level,
                    channel=Via.TIMER,
                    detail={"escalations": level.escalations},
                ),
            )
            return
        number, round_ = level.level, m.state.round
        if m.version >= 2:
            managers = await self._managers(level.approvers)
            targets = rules.escalation_targets(
                level.approvers,
                managers.chains if managers else {},
                managers.admins if managers else (m.route.admins if m.route else []),
                rules.excluded(m),
            )
        else:
            targets = await workflow.execute_activity(
                resolve_escalation,
                EscalationRequest(m.state.request_id, list(level.approvers), m.state.requester),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        state = m.state
        if state.status != Status.PENDING or state.current_level != number or state.round != round_:
            return  # decided while we looked up the escalation target
        if m.due is not None and workflow.now() < m.due:
            return  # the deadline was extended meanwhile
        previous = list(level.approvers)
        level.approvers = list(targets) or previous
        level.escalations += 1
        self._emit(
            StepEvent(
                kind=StepKind.ESCALATED,
                level=number,
                recipients=list(level.approvers),
                channel=Via.ESCALATION,
                detail={"from": previous, "to": level.approvers, "escalations": level.escalations},
            )
        )
        if m.version < 2 and set(level.approvers) & rules.approved_by(m):
            self._activate(number)
        else:
            self._assign(level, Via.ESCALATION)

    # ------------------------------------------------------------ re-route
    def _rerouted(self, level: LevelState, previous: list[str], r: RerouteInput) -> None:
        self._emit(
            StepEvent(
                kind=StepKind.REROUTED,
                level=level.level,
                recipients=list(level.approvers),
                channel=Via.REROUTE,
                detail={
                    "from": previous,
                    "to": list(level.approvers),
                    "reason": r.reason,
                    "leaver": r.leaver,
                    "reroute_id": r.reroute_id,
                },
            )
        )
        self._assign_or_wait(level, Via.REROUTE)

    async def _reroute_leaver(self, r: RerouteInput) -> None:
        m = self.m
        if m.route is not None:
            m.route.ladder = [p for p in m.route.ladder if p != r.leaver]
            m.route.admins = [p for p in m.route.admins if p != r.leaver]
        affected = [
            lv for lv in m.state.levels[m.state.current_level - 1 :] if r.leaver in lv.approvers
        ]
        if not affected:
            return  # nothing waits on them (a repeat, or they were never here)
        managers = await self._managers([r.leaver])
        chain = managers.chains.get(r.leaver, []) if managers else []
        admins = managers.admins if managers else (m.route.admins if m.route else [])
        if m.state.status != Status.PENDING:
            return
        for level in affected:
            previous = list(level.approvers)
            others = [p for p in previous if p != r.leaver]
            if level.level != m.state.current_level:
                # A level still to come: its preferred person changes; SoD applies on arrival.
                level.approvers = others or rules.replacement(r.leaver, chain, admins, set())[:1]
                continue
            level.approvers = others or rules.replacement(
                r.leaver, chain, admins, rules.excluded(m)
            )
            self._rerouted(level, previous, r)

    async def _reroute_again(self, r: RerouteInput) -> None:
        """Route the current level again with today's org chart (e.g. from /ops/)."""
        m = self.m
        route = await self._resolve_route()
        if m.state.status != Status.PENDING or not m.state.levels:
            return
        m.route = route
        level = self._current()
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
            return  # nothing changed
        self._rerouted(level, previous, r)

