"""The workflow's I/O: routing lookups and the outbox of side effects.

A mixin of `ExpenseApprovalWorkflow` (workflow.py). Every change emits steps
into the outbox and upserts the search attributes at once; `_flush` writes
the durable record (projection + audit, `record_transition`) and then, in
version 2, runs the live push and the mail beside the state machine with
bounded retries: a mail that fails for good becomes a `notification_failed`
step and the request goes on. Imports no Django.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from . import rules
    from .contract import (
        SA_AMOUNT,
        SA_DUE,
        SA_PENDING,
        SA_REQUESTER,
        SA_STATUS,
        ChainRequest,
        MailFailure,
        ManagersRequest,
        Route,
        RouteRequest,
        Status,
        StepEvent,
        StepKind,
        Transition,
        Via,
    )
    from .interfaces import (
        publish_transition,
        record_first_steps,
        record_mail_failure,
        record_transition,
        resolve_chain,
        resolve_managers,
        resolve_route,
        send_notifications,
    )
    from .steps import DB_RETRY, DB_TIMEOUT

PUSH_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,  # about ten minutes of an SMTP outage, then recorded as failed
)


class Outbox:
    m: rules.Machine
    _outbox: list[StepEvent]
    _published_pending: list[str]
    _effects: list[asyncio.Task]
    _recorded_start: bool
    _upserted: tuple | None

    # ----------------------------------------------------------- activities
    async def _resolve_chain(self, levels: int) -> list[list[str]]:
        return await workflow.execute_activity(
            resolve_chain,
            ChainRequest(self.m.state.request_id, self.m.state.requester, levels),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    async def _resolve_route(self) -> Route:
        """The requester's ladder and the admins; a permanent failure routes to nobody."""
        req = RouteRequest(self.m.state.request_id, self.m.state.requester, 0)
        if self.m.policy_rules:  # the pinned version's rules for the request's facts
            req.policy_version, req.facts = self.m.state.policy_version, self.m.facts
        try:
            if self.m.local_start and not self.m.ready:  # the start's own task
                return await workflow.execute_local_activity(
                    resolve_route, req, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY
                )
            return await workflow.execute_activity(
                resolve_route,
                req,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        except ActivityError as exc:
            workflow.logger.warning("routing failed for good: %s", exc.cause or exc)
            return Route(ladder=[], admins=[])

    async def _route_or_withdrawn(self) -> Route | None:
        """Resolve the route, unless the request is withdrawn meanwhile (then None)."""
        task = asyncio.ensure_future(self._resolve_route())
        await workflow.wait_condition(lambda: task.done() or self.m.state.status in Status.TERMINAL)
        if not task.done():
            task.cancel()
            return None
        return task.result()

    async def _managers(self, people: list[str]):
        try:
            return await workflow.execute_activity(
                resolve_managers,
                ManagersRequest(self.m.state.request_id, list(people)),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        except ActivityError as exc:
            workflow.logger.warning("manager lookup failed for good: %s", exc.cause or exc)
            return None

    async def _flush(self) -> None:
        while self._outbox:
            events, self._outbox = self._outbox, []
            transition = Transition(
                state=copy.deepcopy(self.m.state),
                events=events,
                previous_pending=list(self._published_pending),
                publish=self.m.fast,
            )
            self._published_pending = list(self.m.state.pending_approvers)
            transition.local = self._local_record()
            self._recorded_start = True  # only the first record may be local
            if transition.local:
                await workflow.execute_local_activity(
                    record_first_steps,
                    transition,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            else:
                await workflow.execute_activity(
                    record_transition,
                    transition,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            if self.m.version >= 2:
                # The durable record is written; push and mail never hold up the state.
                self._effects = [t for t in self._effects if not t.done()]
                self._effects.append(asyncio.ensure_future(self._side_effects(transition)))
                continue
            try:
                await self._publish(transition)
            except ActivityError:
                workflow.logger.warning("live push failed; pages catch up on reload")
            await workflow.execute_activity(
                send_notifications,
                transition,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
            )

    def _local_record(self) -> bool:
        """Patch local-first-steps: the start's first record runs in the start's own task.

        Only while nothing but routing happened (a withdrawal during routing is an
        Update: its record waits until the Update is committed, as every other's).
        """
        return (
            self.m.local_start
            and not self._recorded_start
            and self.m.state.status == Status.PENDING
        )

    async def _publish(self, transition: Transition) -> None:
        await workflow.execute_activity(
            publish_transition,
            transition,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=PUSH_RETRY,
        )

    async def _side_effects(self, transition: Transition) -> None:
        async def push() -> None:
            try:
                await self._publish(transition)
            except ActivityError:
                workflow.logger.warning("live push failed; pages catch up on reload")

        async def mail() -> None:
            try:
                await workflow.execute_activity(
                    send_notifications,
                    transition,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=MAIL_RETRY,
                )
            except ActivityError as exc:
                cause = exc.cause or exc
                kinds = [e.kind for e in transition.events]
                if set(kinds) == {StepKind.NOTIFICATION_FAILED}:
                    return  # never a failure report about a failure report
                text = str(getattr(cause, "message", "") or cause)[:500]
                # Failed rows for /ops/ (listed, resendable); the step for the timeline.
                await workflow.execute_activity(
                    record_mail_failure,
                    MailFailure(transition=transition, cause=text),
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
                self._emit(
                    StepEvent(
                        kind=StepKind.NOTIFICATION_FAILED,
                        level=transition.state.current_level,
                        channel=Via.AUTO,
                        detail={
                            "cause": text,
                            "error_type": str(getattr(cause, "type", "") or ""),
                            "for_seq": transition.state.seq,
                            "kinds": kinds,
                        },
                    )
                )

        if transition.publish:
            await mail()  # record_transition pushed right after its commit
        else:
            await asyncio.gather(push(), mail())

    def _emit(self, event: StepEvent) -> None:
        rules.record_step(self.m, event, self._now())
        state = self.m.state
        self._outbox.append(event)
        values = (
            state.status,
            tuple(state.pending_approvers),
            state.requester,
            state.base_amount_cents,
            self.m.due,
        )
        if self.m.bundled:
            if self._upserted is None:  # what the start set (starter.py: nothing pending)
                given = workflow.info().typed_search_attributes
                self._upserted = (
                    given.get(SA_STATUS),
                    tuple(given.get(SA_PENDING) or ()),
                    given.get(SA_REQUESTER),
                    given.get(SA_AMOUNT),
                    given.get(SA_DUE),
                )
            if values == self._upserted:
                return  # unchanged: no command, no visibility write
            self._upserted = values
        workflow.upsert_search_attributes(
            [
                SA_STATUS.value_set(state.status),
                SA_PENDING.value_set(state.pending_approvers),
                SA_REQUESTER.value_set(state.requester),
                SA_AMOUNT.value_set(state.base_amount_cents),
                SA_DUE.value_set(self.m.due) if self.m.due else SA_DUE.value_unset(),
            ]
        )
