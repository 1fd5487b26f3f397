"""The ExpenseApproval workflow: the system of record for approval state.

Shape: every change (a decision, a timer, a withdrawal) is a pure state
transition applied in a handler or the run loop; it updates the search
attributes at once and appends events to an outbox. The run loop drains the
outbox through activities (projection + audit, live push, email). So an
Update returns the new state without waiting for I/O, and side effects are
retried by Temporal until they land.

Decisions worth knowing:
- Resubmission after "request changes" recomputes the chain from the new
  amount (with the policy snapshotted at submission) and restarts it at
  level 1: approvals given before the change were for other content. They
  stay in `decisions` and in history; only the new round's approvals can
  auto-satisfy a later level.
- Timers never approve: after `max_escalations` escalations the request
  expires.
- Validators and handlers of an Update run in one task without yielding, so
  of two concurrent decisions the second is validated against the state the
  first one left (exactly one wins; the other gets a clear refusal).

Versioning: this is version 1 and histories made by it are committed under
tests/histories/ and replayed in CI. From now on a behaviour change that
alters the commands a running workflow emits (activities, timers, search
attribute upserts, their order) must be guarded with `workflow.patched(...)`
so approvals already in flight keep replaying.

Imports no Django: the sandbox re-imports this module.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from .contract import (
        SA_AMOUNT,
        SA_DUE,
        SA_PENDING,
        SA_REQUESTER,
        SA_STATUS,
        WORKFLOW_TYPE,
        Action,
        ApprovalInput,
        ApprovalState,
        ChainRequest,
        Channel,
        DecisionInput,
        DecisionRecord,
        EscalationRequest,
        ExtendInput,
        IgnoredSignal,
        LevelState,
        ResubmitInput,
        Status,
        StepEvent,
        Transition,
        WithdrawInput,
    )

MAX_COMMENT = 2000
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Short attempt timeouts: an activity lost with a killed worker is retried
# after this long, so keep it near what a slow database write can take.
DB_TIMEOUT = timedelta(seconds=10)
PUSH_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))


def _refuse(reason: str, kind: str) -> None:
    """Fail the caller (validator or handler) with `reason`, if there is one."""
    if reason:
        raise ApplicationError(reason, type=kind, non_retryable=True)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


@workflow.defn(name=WORKFLOW_TYPE)
class ExpenseApprovalWorkflow:
    @workflow.init
    def __init__(self, inp: ApprovalInput) -> None:
        self._input = inp
        self._policy = inp.policy
        self._state = ApprovalState(
            request_id=inp.request_id,
            requester=inp.requester,
            requester_display=inp.requester_display,
            title=inp.title,
            amount_cents=inp.amount_cents,
            currency=inp.currency,
            submitted_at=inp.submitted_at,
            status=Status.PENDING,
            current_level=0,
            levels=[],
        )
        self._ready = False  # chain resolved
        self._busy = False  # a resubmission is re-routing the chain
        self._outbox: list[StepEvent] = []
        self._published_pending: list[str] = []
        self._decision_ids: set[str] = set()
        self._approved_by: set[str] = set()  # people who approved in this round
        self._due: datetime | None = None
        self._remind_at: datetime | None = None

    # ----------------------------------------------------------------- run
    @workflow.run
    async def run(self, inp: ApprovalInput) -> ApprovalState:
        self._emit(
            StepEvent(
                kind="submitted",
                actor=inp.requester,
                actor_display=inp.requester_display,
                actor_role="requester",
                detail={"amount_cents": inp.amount_cents, "currency": inp.currency},
            )
        )
        chain = await self._resolve_chain(self._policy.levels_for(inp.amount_cents))
        if self._state.status == Status.PENDING:  # not withdrawn while routing
            self._install_chain(chain)
        self._ready = True
        while True:
            await self._flush()
            if self._state.status in Status.TERMINAL:
                break
            try:
                await workflow.wait_condition(
                    lambda: bool(self._outbox) or self._state.status in Status.TERMINAL,
                    timeout=self._next_timer(),
                )
            except TimeoutError:
                await self._on_timer()  # reminders and escalation, never approval
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        return self._state

    # ------------------------------------------------------------- queries
    @workflow.query
    def get_status(self) -> ApprovalState:
        return self._state

    # ------------------------------------------------------------ decisions
    @workflow.update
    async def decide(self, d: DecisionInput) -> ApprovalState:
        if d.decision_id and d.decision_id in self._decision_ids:
            return self._state  # the same decision again: applied once
        # Checked again: someone else may have won the race since validation.
        _refuse(self._refusal(d), "DecisionRefused")
        self._apply_decision(d, Channel.UPDATE)
        return self._state

    @decide.validator
    def _validate_decide(self, d: DecisionInput) -> None:
        if d.decision_id and d.decision_id in self._decision_ids:
            return
        _refuse(self._refusal(d), "DecisionRefused")

    @workflow.signal
    async def decide_signal(self, d: DecisionInput) -> None:
        """Fire-and-forget path with the same rules; refusals are recorded, not applied."""
        if d.decision_id in self._decision_ids:
            return  # a duplicate delivery
        if d.decision_id:
            self._decision_ids.add(d.decision_id)
        await workflow.wait_condition(lambda: self._ready and not self._busy)
        # Without its own id a signal cannot be deduplicated: never apply it.
        reason = (
            self._refusal(d)
            if d.decision_id
            else "A decision sent by signal must carry its own decision id."
        )
        if reason:
            now = workflow.now()
            self._state.ignored_signals.append(
                IgnoredSignal(d.decision_id, d.actor.username, d.action, reason, _iso(now))
            )
            self._emit(
                StepEvent(
                    kind="signal_ignored",
                    level=self._state.current_level,
                    actor=d.actor.username,
                    actor_display=d.actor.display,
                    actor_role=d.actor.role,
                    comment=d.comment,
                    channel=Channel.SIGNAL,
                    detail={"reason": reason, "action": d.action, "decision_id": d.decision_id},
                )
            )
            return
        self._apply_decision(d, Channel.SIGNAL)

    # ---------------------------------------------------- requester actions
    @workflow.update
    async def withdraw(self, w: WithdrawInput) -> ApprovalState:
        _refuse(self._withdraw_refusal(w), "WithdrawRefused")
        self._finish(
            Status.WITHDRAWN,
            StepEvent(
                kind="withdrawn",
                level=self._state.current_level,
                actor=w.actor.username,
                actor_display=w.actor.display,
                actor_role="requester",
                comment=w.reason,
                channel=Channel.UPDATE,
            ),
        )
        return self._state

    @withdraw.validator
    def _validate_withdraw(self, w: WithdrawInput) -> None:
        _refuse(self._withdraw_refusal(w), "WithdrawRefused")

    @workflow.update
    async def resubmit(self, r: ResubmitInput) -> ApprovalState:
        _refuse(self._resubmit_refusal(r), "ResubmitRefused")
        self._busy = True
        try:
            old_amount, old_title = self._state.amount_cents, self._state.title
            levels = self._policy.levels_for(r.amount_cents)
            chain = await self._resolve_chain(levels)
            state = self._state
            state.title, state.amount_cents = r.title.strip(), r.amount_cents
            state.round += 1
            state.status = Status.PENDING
            self._approved_by.clear()
            self._emit(
                StepEvent(
                    kind="resubmitted",
                    actor=r.actor.username,
                    actor_display=r.actor.display,
                    actor_role="requester",
                    comment=r.comment,
                    channel=Channel.UPDATE,
                    detail={
                        "old_amount_cents": old_amount,
                        "amount_cents": r.amount_cents,
                        "old_title": old_title,
                        "title": state.title,
                        "round": state.round,
                    },
                )
            )
            workflow.upsert_memo({"title": state.title, "amount_cents": state.amount_cents})
            # Approvals given before the change were for other content: the
            # chain starts again at level 1 (history keeps the old decisions).
            self._install_chain(chain)
        finally:
            self._busy = False
        return self._state

    @resubmit.validator
    def _validate_resubmit(self, r: ResubmitInput) -> None:
        _refuse(self._resubmit_refusal(r), "ResubmitRefused")

    @workflow.update
    async def extend_deadline(self, e: ExtendInput) -> ApprovalState:
        _refuse(self._extend_refusal(e), "ExtendRefused")
        if self._due is None:  # unreachable after the check above; never fail the task
            raise ApplicationError("Only a pending request has a deadline to extend.")
        extra = timedelta(seconds=e.seconds)
        self._due += extra
        level = self._current()
        if self._remind_at is not None and not level.reminded:
            self._remind_at += extra  # the reminder keeps its distance to the deadline
        level.due_at = self._state.due_at = _iso(self._due)
        self._emit(
            StepEvent(
                kind="deadline_extended",
                level=level.level,
                actor=e.actor.username,
                actor_display=e.actor.display,
                actor_role=e.actor.role,
                comment=e.reason,
                channel=Channel.UPDATE,
                detail={"seconds": e.seconds, "due_at": level.due_at},
            )
        )
        return self._state

    @extend_deadline.validator
    def _validate_extend(self, e: ExtendInput) -> None:
        _refuse(self._extend_refusal(e), "ExtendRefused")

    # --------------------------------------------------------------- rules
    def _current(self) -> LevelState:
        return self._state.levels[self._state.current_level - 1]

    def _authority(self, d: DecisionInput) -> tuple[str | None, str]:
        """(on_behalf_of or "", refusal): whose authority the actor decides with."""
        level = self._current()
        if d.actor.username in level.approvers:
            return "", ""
        for principal in d.actor.delegate_for:
            if principal in level.approvers and principal != self._state.requester:
                return principal, ""
        if d.actor.is_admin and d.override:
            return "", ""
        if d.actor.is_admin:
            return None, "You are not this level's approver; decide as an administrator override."
        return None, "You are not the approver of this level."

    def _refusal(self, d: DecisionInput) -> str:
        state = self._state
        if d.action not in Action.ALL:
            return f"Unknown action {d.action!r}."
        if d.actor.username == state.requester:
            return "You cannot decide on your own request."
        if not self._ready or self._busy:
            return "This request is still being routed; try again in a moment."
        if state.status != Status.PENDING:
            return f"This request is no longer awaiting a decision (it is {state.status})."
        if d.level < 0 or d.level > state.current_level:
            return "This level is not awaiting a decision yet."
        if 0 < d.level < state.current_level:
            return self._moved_on(state.levels[d.level - 1])
        if d.action != Action.APPROVE and not d.comment.strip():
            return "A comment is required to reject or to request changes."
        if len(d.comment) > MAX_COMMENT:
            return f"The comment is too long (at most {MAX_COMMENT} characters)."
        earlier = self._decided_level_for(d)
        if earlier is not None:
            return self._moved_on(earlier)
        if d.actor.username in self._approved_by:
            return "You have already approved this request."
        return self._authority(d)[1]

    @staticmethod
    def _moved_on(level: LevelState) -> str:
        by = level.decided_by + (f" for {level.on_behalf_of}" if level.on_behalf_of else "")
        return f"Level {level.level} was already decided by {by}; the request has moved on."

    def _decided_level_for(self, d: DecisionInput) -> LevelState | None:
        """An earlier level of this round the actor could have decided: they lost a race."""
        current = self._current()
        if d.actor.username in current.approvers:
            return None
        if any(p in current.approvers for p in d.actor.delegate_for):
            return None
        for level in self._state.levels[: self._state.current_level - 1]:
            people = set(level.original_approvers) | set(level.approvers)
            if d.actor.username in people or people & set(d.actor.delegate_for):
                return level
        return None

    def _withdraw_refusal(self, w: WithdrawInput) -> str:
        if w.actor.username != self._state.requester:
            return "Only the requester can withdraw a request."
        if self._state.status not in (Status.PENDING, Status.CHANGES_REQUESTED) or self._busy:
            return f"This request can no longer be withdrawn (it is {self._state.status})."
        return ""

    def _resubmit_refusal(self, r: ResubmitInput) -> str:
        if r.actor.username != self._state.requester:
            return "Only the requester can resubmit a request."
        if self._state.status != Status.CHANGES_REQUESTED or self._busy:
            return "Changes were not requested on this request."
        if not r.title.strip():
            return "The title must not be empty."
        if len(r.title) > 200:
            return "The title is too long (at most 200 characters)."
        if r.amount_cents <= 0:
            return "The amount must be greater than zero."
        if r.amount_cents > self._policy.max_amount_cents:
            return "The amount is above the allowed maximum."
        if len(r.comment) > MAX_COMMENT:
            return f"The comment is too long (at most {MAX_COMMENT} characters)."
        return ""

    def _extend_refusal(self, e: ExtendInput) -> str:
        if self._state.status != Status.PENDING or not self._ready or self._due is None:
            return "Only a pending request has a deadline to extend."
        if e.actor.username == self._state.requester:
            return "You cannot extend the deadline of your own request."
        if not 0 < e.seconds <= 30 * 86400:
            return "An extension must be between one second and 30 days."
        if e.actor.username in self._current().approvers or e.actor.is_admin:
            return ""
        return "Only the current approver or an administrator can extend the deadline."

    # ---------------------------------------------------------- transitions
    def _apply_decision(self, d: DecisionInput, channel: str) -> None:
        on_behalf_of, _ = self._authority(d)
        level = self._current()
        now = workflow.now()
        if d.decision_id:
            self._decision_ids.add(d.decision_id)
        record = DecisionRecord(
            seq=self._state.seq + 1,
            level=level.level,
            action=d.action,
            actor=d.actor.username,
            actor_display=d.actor.display,
            actor_role=d.actor.role,
            comment=d.comment,
            at=_iso(now),
            channel=channel,
            decision_id=d.decision_id,
            on_behalf_of=on_behalf_of or "",
            override=bool(
                d.override
                and d.actor.is_admin
                and not on_behalf_of
                and d.actor.username not in level.approvers
            ),
        )
        self._state.decisions.append(record)
        level.decided_by, level.decided_at = d.actor.username, record.at
        level.comment, level.channel, level.on_behalf_of = d.comment, channel, record.on_behalf_of
        event = StepEvent(
            kind="decided",
            level=level.level,
            actor=d.actor.username,
            actor_display=d.actor.display,
            actor_role=d.actor.role,
            comment=d.comment,
            channel=channel,
            detail={
                "action": d.action,
                "decision_id": d.decision_id,
                "on_behalf_of": record.on_behalf_of,
                "override": record.override,
            },
        )
        if d.action == Action.APPROVE:
            level.status = "approved"
            self._approved_by.add(d.actor.username)
            if record.on_behalf_of:
                self._approved_by.add(record.on_behalf_of)
            self._emit(event)
            self._activate(level.level + 1)
        elif d.action == Action.REJECT:
            level.status = "rejected"
            self._finish(Status.REJECTED, event)
        else:
            level.status = "changes_requested"
            self._state.status = Status.CHANGES_REQUESTED
            self._due = self._remind_at = None
            self._state.due_at = ""
            self._emit(event)

    def _install_chain(self, chain: list[list[str]]) -> None:
        self._state.levels = [
            LevelState(level=i + 1, approvers=list(a), original_approvers=list(a))
            for i, a in enumerate(chain)
        ]
        self._activate(1)

    def _activate(self, number: int) -> None:
        """Make level `number` current; satisfy it at once if its approver already approved."""
        state = self._state
        while number <= len(state.levels):
            state.current_level = number
            level = state.levels[number - 1]
            already = sorted(set(level.approvers) & self._approved_by)
            if already:
                now = _iso(workflow.now())
                level.status, level.decided_by, level.decided_at = "approved", already[0], now
                level.channel = Channel.AUTO
                state.decisions.append(
                    DecisionRecord(
                        seq=state.seq + 1,
                        level=number,
                        action=Action.APPROVE,
                        actor=already[0],
                        actor_display="",
                        actor_role="",
                        comment="",
                        at=now,
                        channel=Channel.AUTO,
                    )
                )
                self._emit(
                    StepEvent(
                        kind="auto_approved",
                        level=number,
                        actor=already[0],
                        channel=Channel.AUTO,
                        detail={"reason": "already approved at an earlier level"},
                    )
                )
                number += 1
                continue
            self._assign(level, Channel.TIMER)
            return
        self._finish(Status.APPROVED, StepEvent(kind="completed", detail={"outcome": "approved"}))

    def _assign(self, level: LevelState, channel: str) -> None:
        """Give `level` to its approvers now: start its clock and tell them."""
        self._start_clock(level)
        self._emit(
            StepEvent(
                kind="assigned",
                level=level.level,
                recipients=list(level.approvers),
                channel=channel,
                detail={"due_at": level.due_at},
            )
        )

    def _start_clock(self, level: LevelState) -> None:
        now = workflow.now()
        self._due = now + timedelta(seconds=self._policy.sla_seconds)
        reminder = self._policy.reminder_seconds
        self._remind_at = (
            now + timedelta(seconds=reminder) if 0 < reminder < self._policy.sla_seconds else None
        )
        level.status, level.reminded, level.due_at = "pending", False, _iso(self._due)
        self._state.due_at = level.due_at

    def _finish(self, status: str, event: StepEvent) -> None:
        self._state.status = status
        self._due = self._remind_at = None
        self._state.due_at = ""
        self._emit(event)
        if event.kind != "completed":
            self._emit(StepEvent(kind="completed", detail={"outcome": status}))

    def _emit(self, event: StepEvent) -> None:
        state = self._state
        state.seq += 1
        event.detail = {**event.detail, "seq": state.seq, "at": _iso(workflow.now())}
        if state.status == Status.PENDING and state.levels:
            state.pending_approvers = sorted(set(self._current().approvers))
        else:
            state.pending_approvers = []
        self._outbox.append(event)
        workflow.upsert_search_attributes(
            [
                SA_STATUS.value_set(state.status),
                SA_PENDING.value_set(state.pending_approvers),
                SA_REQUESTER.value_set(state.requester),
                SA_AMOUNT.value_set(state.amount_cents),
                SA_DUE.value_set(self._due) if self._due else SA_DUE.value_unset(),
            ]
        )

    # --------------------------------------------------------------- timers
    def _next_timer(self) -> timedelta | None:
        if self._state.status != Status.PENDING or self._due is None:
            return None
        moment = self._due
        if self._remind_at is not None and not self._current().reminded:
            moment = min(moment, self._remind_at)
        return max(moment - workflow.now(), timedelta(milliseconds=1))

    async def _on_timer(self) -> None:
        if self._state.status != Status.PENDING or self._due is None:
            return
        now = workflow.now()
        level = self._current()
        if now < self._due:
            if self._remind_at is not None and now >= self._remind_at and not level.reminded:
                level.reminded = True
                self._emit(
                    StepEvent(
                        kind="reminder",
                        level=level.level,
                        recipients=list(level.approvers),
                        channel=Channel.TIMER,
                        detail={"due_at": level.due_at},
                    )
                )
            return
        if level.escalations >= self._policy.max_escalations:
            self._finish(
                Status.EXPIRED,
                StepEvent(
                    kind="expired",
                    level=level.level,
                    channel=Channel.TIMER,
                    detail={"escalations": level.escalations},
                ),
            )
            return
        number, round_ = level.level, self._state.round
        targets = await workflow.execute_activity(
            "resolve_escalation",
            EscalationRequest(self._state.request_id, list(level.approvers), self._state.requester),
            result_type=list[str],
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        state = self._state
        if state.status != Status.PENDING or state.current_level != number or state.round != round_:
            return  # decided while we looked up the escalation target
        if self._due is not None and workflow.now() < self._due:
            return  # the deadline was extended meanwhile
        previous = list(level.approvers)
        level.approvers = list(targets) or previous
        level.escalations += 1
        self._emit(
            StepEvent(
                kind="escalated",
                level=number,
                recipients=list(level.approvers),
                channel=Channel.ESCALATION,
                detail={"from": previous, "to": level.approvers, "escalations": level.escalations},
            )
        )
        if set(level.approvers) & self._approved_by:
            self._activate(number)
        else:
            self._assign(level, Channel.ESCALATION)

    # ----------------------------------------------------------- activities
    async def _resolve_chain(self, levels: int) -> list[list[str]]:
        return await workflow.execute_activity(
            "resolve_chain",
            ChainRequest(self._state.request_id, self._state.requester, levels),
            result_type=list[list[str]],
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    async def _flush(self) -> None:
        while self._outbox:
            events, self._outbox = self._outbox, []
            transition = Transition(
                state=copy.deepcopy(self._state),
                events=events,
                previous_pending=list(self._published_pending),
            )
            self._published_pending = list(self._state.pending_approvers)
            await workflow.execute_activity(
                "record_transition",
                transition,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            try:
                await workflow.execute_activity(
                    "publish_transition",
                    transition,
                    start_to_close_timeout=timedelta(seconds=5),
                    retry_policy=PUSH_RETRY,
                )
            except ActivityError:
                workflow.logger.warning("live push failed; pages catch up on reload")
            await workflow.execute_activity(
                "send_notifications",
                transition,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )
