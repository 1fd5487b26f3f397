"""The ExpenseApproval workflow: the system of record for approval state.

Shape: every change (a decision, a timer, a withdrawal, a re-route) is a
state transition applied in a handler or the run loop; `rules.py` says what
is allowed and who a level goes to. Each transition updates the search
attributes at once and appends events to an outbox; the run loop drains the
outbox through activities. So an Update returns the new state without
waiting for I/O.

Versions and the patches that select them: `versions.py` (histories of each are
committed under tests/histories/ and replayed in CI).

Decisions worth knowing:
- Resubmission recomputes the chain from the new amount (policy snapshotted
  at submission) and restarts at level 1: approvals given before the change
  were for other content.
- Timers never approve: after `max_escalations` escalations the request
  expires.
- Validators and handlers of an Update run in one task without yielding, so
  of two concurrent decisions the second is validated against the state the
  first one left (exactly one wins; the other gets a clear refusal).
- Decisions arrive as raw payloads: when the web tier encrypts (input
  `authenticated_decisions`), one our codec did not authenticate (say, typed
  into the temporal CLI) is refused (Update) or recorded as ignored (Signal).

Imports no Django: the sandbox re-imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from . import rules, versions
    from .contract import (
        AUTHENTICATED_METADATA,
        WORKFLOW_TYPE,
        Actor,
        ApprovalInput,
        ApprovalState,
        Calls,
        DecisionInput,
        ExtendInput,
        IgnoredSignal,
        RefusalInfo,
        RerouteInput,
        ResubmitInput,
        RouteFacts,
        Status,
        StepEvent,
        StepKind,
        Via,
        WithdrawInput,
    )
    from .outbox import Outbox
    from .payout_contract import PAYOUT_WORKFLOW, PayoutInput, payout_id
    from .steps import Steps

PUSH_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,  # about ten minutes of an SMTP outage, then recorded as failed
)


def _refuse(info: RefusalInfo | None, english: str = "") -> None:
    """Fail the caller (validator or handler) with a refusal code and its parameters."""
    if info is not None:
        raise ApplicationError(
            english or info.code, info.params, type=info.code, non_retryable=True
        )


@workflow.defn(name=WORKFLOW_TYPE)
class ExpenseApprovalWorkflow(Steps, Outbox):
    @workflow.init
    def __init__(self, inp: ApprovalInput) -> None:
        self.m = rules.Machine(
            state=ApprovalState(
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
                policy_version=inp.policy_version,
                base_amount_cents=inp.base_amount_cents or inp.amount_cents,
            ),
            policy=inp.policy,
            authenticated=inp.authenticated_decisions,
        )
        self._outbox: list[StepEvent] = []
        self._published_pending: list[str] = []
        self._effects: list[asyncio.Task] = []
        self._recorded_start = False  # local-first-steps: the start's record is written
        self._upserted: tuple | None = None  # bundled: the search attributes last upserted

    @property
    def _state(self) -> ApprovalState:
        return self.m.state

    # ----------------------------------------------------------------- run
    @workflow.run
    async def run(self, inp: ApprovalInput) -> ApprovalState:
        versions.take_patches(self.m, inp)  # before any command
        if self.m.version >= 2 and inp.policy_version:
            self.m.facts = RouteFacts(
                amount_cents=self._state.base_amount_cents,
                category=inp.category,
                cost_centre=inp.cost_centre,
            )
        self._emit(
            StepEvent(
                kind=StepKind.SUBMITTED,
                actor=inp.requester,
                actor_display=inp.requester_display,
                actor_role="requester",
                detail={"amount_cents": inp.amount_cents, "currency": inp.currency},
            )
        )
        levels = self.m.policy.levels_for(self._state.base_amount_cents)
        if self.m.version >= 2:
            route = await self._route_or_withdrawn()
            if route is not None and self._state.status == Status.PENDING:
                self._install_route(route, levels)
        else:
            chain = await self._resolve_chain(levels)
            if self._state.status == Status.PENDING:  # not withdrawn while routing
                self._install_chain(chain)
        self.m.ready = True
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
        if self._state.status == Status.APPROVED and versions.starts_payout(self.m):
            await self._start_payout()
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self._outbox or self._effects:
            await self._flush()
            if self._effects:
                await asyncio.gather(*self._effects, return_exceptions=True)
                self._effects = [t for t in self._effects if not t.done()]
        return self._state

    async def _start_payout(self) -> None:
        """The Payout saga as a child that outlives this run; returns once it has started
        (a payout that exists already, e.g. retried from /ops/, counts as started)."""
        state = self._state
        # A payout of this request runs or ran already: never a second one.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                PAYOUT_WORKFLOW,
                PayoutInput(
                    request_id=state.request_id,
                    requester=state.requester,
                    amount_cents=state.base_amount_cents or state.amount_cents,
                    title=state.title,
                ),
                id=payout_id(state.request_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )

    # ------------------------------------------------------------- queries
    @workflow.query(name=Calls.GET_STATUS)
    def get_status(self) -> ApprovalState:
        return self._state

    # ------------------------------------------------------- trusted inputs
    def _read(self, raw: RawValue, cls):
        """The payload as `cls`, and a refusal when our codec did not authenticate it."""
        try:
            value = workflow.payload_converter().from_payload(raw.payload, cls)
        except Exception:  # noqa: BLE001 - a malformed payload is a refusal, never a failed task
            return None, rules.refusal(rules.Refusal.UNAUTHENTICATED)
        if self.m.authenticated and raw.payload.metadata.get(AUTHENTICATED_METADATA) != b"1":
            return value, rules.refusal(rules.Refusal.UNAUTHENTICATED)
        return value, None

    def _trusted(self, raw: RawValue, cls):
        value, refused = self._read(raw, cls)
        _refuse(refused)
        return value

    # ------------------------------------------------------------ decisions
    @workflow.update(name=Calls.DECIDE)
    async def decide(self, raw: RawValue) -> ApprovalState:
        d: DecisionInput = self._trusted(raw, DecisionInput)
        repeat, taken = rules.repeated_decision(self.m, d)
        _refuse(taken)
        if repeat:
            return self._state  # the same person's decision again: applied once
        # Checked again: someone else may have won the race since validation.
        _refuse(rules.decision_refusal(self.m, d))
        self._apply_decision(d, Via.UPDATE)
        return self._state

    @decide.validator
    def _validate_decide(self, raw: RawValue) -> None:
        d: DecisionInput = self._trusted(raw, DecisionInput)
        repeat, taken = rules.repeated_decision(self.m, d)
        _refuse(taken)
        if not repeat:
            _refuse(rules.decision_refusal(self.m, d))

    @workflow.signal(name=Calls.DECIDE_SIGNAL)
    async def decide_signal(self, raw: RawValue) -> None:
        """Fire-and-forget path with the same rules; refusals are recorded, not applied."""
        d, refused = self._read(raw, DecisionInput)
        if d is None:
            d = DecisionInput(decision_id="", actor=Actor(username="?"), action="?")
        if d.decision_id in self.m.signal_ids or rules.seen_decision(self.m, d.decision_id):
            return  # a duplicate delivery
        if d.decision_id and refused is None:
            # Only our own signals claim their id: a forged one must not burn a real link's.
            self.m.signal_ids.add(d.decision_id)
        await workflow.wait_condition(lambda: self.m.ready and not self.m.busy)
        refused = refused or rules.signal_refusal(self.m, d)
        if refused is None:
            self._apply_decision(d, Via.SIGNAL)
            return
        now = self._now()
        self._state.ignored_signals.append(
            IgnoredSignal(
                d.decision_id,
                d.actor.username,
                d.action,
                refused.code,
                now,
                code=refused.code,
                params=refused.params,
            )
        )
        self._emit(
            StepEvent(
                kind=StepKind.SIGNAL_IGNORED,
                level=self._state.current_level,
                actor=d.actor.username,
                actor_display=d.actor.display,
                actor_role=d.actor.role,
                comment=d.comment,
                channel=Via.SIGNAL,
                detail={
                    "reason": refused.code,
                    "code": refused.code,
                    "params": refused.params,
                    "action": d.action,
                    "decision_id": d.decision_id,
                },
            )
        )

    # ---------------------------------------------------- requester actions
    @workflow.update(name=Calls.WITHDRAW)
    async def withdraw(self, raw: RawValue) -> ApprovalState:
        w: WithdrawInput = self._trusted(raw, WithdrawInput)
        _refuse(rules.withdraw_refusal(self.m, w))
        self._finish(
            Status.WITHDRAWN,
            StepEvent(
                kind=StepKind.WITHDRAWN,
                level=self._state.current_level,
                actor=w.actor.username,
                actor_display=w.actor.display,
                actor_role="requester",
                comment=w.reason,
                channel=Via.UPDATE,
            ),
        )
        return self._state

    @withdraw.validator
    def _validate_withdraw(self, raw: RawValue) -> None:
        _refuse(rules.withdraw_refusal(self.m, self._trusted(raw, WithdrawInput)))

    @workflow.update(name=Calls.RESUBMIT)
    async def resubmit(self, raw: RawValue) -> ApprovalState:
        r: ResubmitInput = self._trusted(raw, ResubmitInput)
        _refuse(rules.resubmit_refusal(self.m, r))
        self.m.busy = True
        try:
            state = self._state
            old_amount, old_title = state.amount_cents, state.title
            base = r.base_amount_cents or r.amount_cents
            levels = self.m.policy.levels_for(base)
            if self.m.facts is not None:  # the pinned version, evaluated for the new amount
                self.m.facts.amount_cents = base
            if self.m.version >= 2:
                route = await self._resolve_route()
            else:
                chain = await self._resolve_chain(levels)
            state.title, state.amount_cents = r.title.strip(), r.amount_cents
            state.base_amount_cents = base
            state.round += 1
            state.status = Status.PENDING
            self._emit(
                StepEvent(
                    kind=StepKind.RESUBMITTED,
                    actor=r.actor.username,
                    actor_display=r.actor.display,
                    actor_role="requester",
                    comment=r.comment,
                    channel=Via.UPDATE,
                    detail={
                        "old_amount_cents": old_amount,
                        "amount_cents": r.amount_cents,
                        "old_title": old_title,
                        "title": state.title,
                        "round": state.round,
                    },
                )
            )
            memo = {"title": state.title, "amount_cents": state.amount_cents}
            if self.m.version >= 2:
                memo["base_amount_cents"] = base
            workflow.upsert_memo(memo)
            # Approvals given before the change were for other content: the
            # chain starts again at level 1 (history keeps the old decisions).
            if self.m.version >= 2:
                self._install_route(route, levels)
            else:
                self._install_chain(chain)
        finally:
            self.m.busy = False
        return self._state

    @resubmit.validator
    def _validate_resubmit(self, raw: RawValue) -> None:
        _refuse(rules.resubmit_refusal(self.m, self._trusted(raw, ResubmitInput)))

    @workflow.update(name=Calls.EXTEND_DEADLINE)
    async def extend_deadline(self, raw: RawValue) -> ApprovalState:
        e: ExtendInput = self._trusted(raw, ExtendInput)
        _refuse(rules.extend_refusal(self.m, e))
        if self.m.due is None:  # unreachable after the check above; never fail the task
            _refuse(rules.refusal(rules.Refusal.NO_DEADLINE))
        extra = timedelta(seconds=e.seconds)
        self.m.due += extra
        level = self._current()
        level.extensions += 1
        level.extended_seconds += e.seconds
        if self.m.remind_at is not None and not level.reminded:
            self.m.remind_at += extra  # the reminder keeps its distance to the deadline
        level.due_at = self._state.due_at = self.m.due.isoformat()
        self._emit(
            StepEvent(
                kind=StepKind.DEADLINE_EXTENDED,
                level=level.level,
                actor=e.actor.username,
                actor_display=e.actor.display,
                actor_role=e.actor.role,
                comment=e.reason,
                channel=Via.UPDATE,
                detail={"seconds": e.seconds, "due_at": level.due_at},
            )
        )
        return self._state

    @extend_deadline.validator
    def _validate_extend(self, raw: RawValue) -> None:
        _refuse(rules.extend_refusal(self.m, self._trusted(raw, ExtendInput)))

    # ------------------------------------------------------------- re-route
    @workflow.update(name=Calls.REROUTE)
    async def reroute(self, raw: RawValue) -> ApprovalState:
        """Someone left (or an admin asks to route again): the level moves on at once."""
        r: RerouteInput = self._trusted(raw, RerouteInput)
        _refuse(rules.reroute_refusal(self.m))
        self.m.busy = True
        try:
            if r.leaver:
                await self._reroute_leaver(r)
            else:
                await self._reroute_again(r)
        finally:
            self.m.busy = False
        return self._state

    @reroute.validator
    def _validate_reroute(self, raw: RawValue) -> None:
        self._trusted(raw, RerouteInput)
        _refuse(rules.reroute_refusal(self.m))
