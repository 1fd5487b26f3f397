"""The ExpenseApproval workflow: the system of record for approval state.

Shape, by composition: `state.Machine` is what the run knows; the pure
functions of `transitions.py` change it and return what happened (`rules.py`
says what is allowed and who a level goes to); `effects.Effects` turns what
happened into the outbox, the search-attribute upserts and the activities.
This class wires them to Temporal: handlers validate and apply a transition,
the run loop drains the outbox and fires the timers. An Update returns the new
state without waiting for I/O.

1.0 is the baseline; each change of the commands a run issues since gets a patch
(listed in versions.PATCHES) and a history folder of its own: docs/versioning.md.
- 26-expense-lines (1.1): an approve may reject single lines of the report (each
  with a reason); rejected lines are out for later levels and the payout, and
  rejecting every open line rejects the report. Taken per decision that carries
  line rejections, so runs started before it replay their 1.0 decisions unchanged.
- 31-business-calendar (1.2): with a calendar in the input and a working-time SLA,
  deadlines, reminders and extensions count working time in the approver's calendar
  (clock.py). Taken once at the start of such a run and kept on the Machine.

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

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    # lines and routing hold dataclasses of the contract: the payload converter resolves
    # their type hints through sys.modules, so the sandbox must know those modules too.
    from ..calendar import Calendar  # noqa: F401 - its type hints, as lines' and routing's
    from . import clock, lines, routing, rules, timers  # noqa: F401
    from . import transitions as T
    from .contract import (
        AUTHENTICATED_METADATA,
        WORKFLOW_TYPE,
        Actor,
        ApprovalInput,
        ApprovalState,
        Calls,
        DecisionInput,
        ExtendInput,
        RefusalInfo,
        RerouteInput,
        ResubmitInput,
        RouteFacts,
        Status,
        Via,
        WithdrawInput,
        eur_cents_of,
        line_states,
    )
    from .effects import Effects
    from .state import Machine


def _refuse(info: RefusalInfo | None, english: str = "") -> None:
    """Fail the caller (validator or handler) with a refusal code and its parameters."""
    if info is not None:
        code = str(info.code)
        raise ApplicationError(english or code, info.params, type=code, non_retryable=True)


@workflow.defn(name=WORKFLOW_TYPE)
class ExpenseApprovalWorkflow:
    @workflow.init
    def __init__(self, inp: ApprovalInput) -> None:
        self.m = Machine(
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
                base_amount_cents=eur_cents_of(inp),
                lines=line_states(inp.lines, inp.amount_cents, inp.currency, eur_cents_of(inp)),
            ),
            policy=inp.policy,
            authenticated=inp.authenticated_decisions,
            calendar=inp.calendar,
        )
        if inp.policy_version:  # the pinned version's rules read these facts
            self.m.facts = RouteFacts(
                amount_cents=self.m.state.base_amount_cents,
                category=inp.category,
                cost_centre=inp.cost_centre,
            )
        self.fx = Effects(self.m)

    @property
    def _state(self) -> ApprovalState:
        return self.m.state

    # ----------------------------------------------------------------- run
    @workflow.run
    async def run(self, inp: ApprovalInput) -> ApprovalState:
        # Deadlines in working time (issue 31): for the whole run, decided at its start.
        if inp.policy.sla_working_seconds > 0 and inp.calendar is not None:
            self.m.working = workflow.patched("31-business-calendar")
        self.fx.emit(T.submitted(self.m, inp, workflow.now()))
        levels = self.m.policy.levels_for(self._state.base_amount_cents)
        route = await self.fx.route_or_withdrawn()
        if route is not None and self._state.status == Status.PENDING:
            self.fx.emit(T.install_route(self.m, route, levels, workflow.now()))
        self.m.ready = True
        while True:
            await self.fx.flush()
            if self._state.status in Status.TERMINAL:
                break
            try:
                await workflow.wait_condition(
                    lambda: bool(self.fx.outbox) or self._state.status in Status.TERMINAL,
                    timeout=timers.next_timer(self.m, workflow.now()),
                )
            except TimeoutError:
                await self._on_timer()  # reminders and escalation, never approval
        if self._state.status == Status.APPROVED:
            await self.fx.start_payout()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.fx.drain()
        return self._state

    async def _on_timer(self) -> None:
        steps, escalate = timers.timer_fired(self.m, workflow.now())
        self.fx.emit(steps)
        if not escalate:
            return
        level = rules.current(self.m)
        number, round_ = level.level, self._state.round
        managers = await self.fx.managers(level.approvers)
        self.fx.emit(timers.escalate(self.m, number, round_, managers, workflow.now()))

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
        # Line rejections (issue 26): a command change for the decisions that carry them.
        lines = bool(d.rejected_lines) and workflow.patched("26-expense-lines")
        # Checked again: someone else may have won the race since validation.
        _refuse(rules.decision_refusal(self.m, d, lines=lines))
        self.fx.emit(T.decide(self.m, d, Via.UPDATE, workflow.now(), lines=lines))
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
        # A signal never rejects lines: one that carries them is recorded as refused.
        lines = bool(d.rejected_lines) and workflow.patched("26-expense-lines")
        refused = refused or rules.signal_refusal(self.m, d, lines=lines)
        if refused is None:
            self.fx.emit(T.decide(self.m, d, Via.SIGNAL, workflow.now()))
        else:
            self.fx.emit(T.ignore_signal(self.m, d, refused, workflow.now()))

    # ---------------------------------------------------- requester actions
    @workflow.update(name=Calls.WITHDRAW)
    async def withdraw(self, raw: RawValue) -> ApprovalState:
        w: WithdrawInput = self._trusted(raw, WithdrawInput)
        _refuse(rules.withdraw_refusal(self.m, w))
        self.fx.emit(T.withdraw(self.m, w, workflow.now()))
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
            levels = T.new_content(self.m, r)
            route = await self.fx.resolve_route()
            self.fx.emit(T.resubmitted(self.m, r, workflow.now()))
            workflow.upsert_memo(T.memo(self.m))
            # Approvals given before the change were for other content: the
            # chain starts again at level 1 (history keeps the old decisions).
            self.fx.emit(T.install_route(self.m, route, levels, workflow.now()))
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
        self.fx.emit(T.extend(self.m, e, workflow.now()))
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
                affected = T.drop_leaver(self.m, r.leaver)
                if affected:  # else nothing waits on them (a repeat, or never here)
                    managers = await self.fx.managers([r.leaver])
                    clock.learn(self.m, managers)  # the replacement's calendar, if their own
                    steps = T.reroute_leaver(self.m, r, affected, managers, workflow.now())
                    self.fx.emit(steps)
            else:
                route = await self.fx.resolve_route()
                self.fx.emit(T.reroute_again(self.m, r, route, workflow.now()))
        finally:
            self.m.busy = False
        return self._state

    @reroute.validator
    def _validate_reroute(self, raw: RawValue) -> None:
        self._trusted(raw, RerouteInput)
        _refuse(rules.reroute_refusal(self.m))
