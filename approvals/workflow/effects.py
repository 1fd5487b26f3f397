"""The workflow's effects: what happened turned into activities and upserts.

`Effects` is the I/O part of `ExpenseApprovalWorkflow` (workflow.py), composed,
not inherited. `emit` takes the steps a transition returned (transitions.py):
each goes into the outbox, and the search attributes are upserted when a step
changed them. `flush` writes the durable record of the outbox (projection +
audit, `record_transition`, which also pushes the live update right after its
commit) and then sends the mail beside the state machine with bounded retries:
a mail that fails for good is recorded for /ops/ and becomes a
`notification_failed` step, and the request goes on. The start's first record
and its routing run as local activities inside the start's own workflow task.
The lookups (route, managers) and the Payout child live here too.
Imports no Django.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from . import rules, transitions
    from .contract import (
        SA_AMOUNT,
        SA_DUE,
        SA_PENDING,
        SA_REQUESTER,
        SA_STATUS,
        MailFailure,
        Managers,
        ManagersRequest,
        Route,
        RouteRequest,
        Status,
        StepEvent,
        StepKind,
        Transition,
    )
    from .handoff import PAYOUT_WORKFLOW, PayoutInput, payout_id
    from .interfaces import (
        record_first_steps,
        record_mail_failure,
        record_transition,
        resolve_managers,
        resolve_route,
        send_notifications,
    )
    from .retries import DB_RETRY, DB_TIMEOUT, MAIL_RETRY, MAIL_TIMEOUT
    from .state import Machine, SearchValues


class Effects:
    def __init__(self, m: Machine) -> None:
        self.m = m
        self.outbox: list[StepEvent] = []
        self._published_pending: list[str] = []
        self._mails: list[asyncio.Task] = []
        self._recorded_start = False  # the start's record is written
        self._upserted: SearchValues | None = None  # the search attributes last upserted

    # ----------------------------------------------------------- the outbox
    def emit(self, steps: transitions.Steps) -> None:
        """Queue each step for the record and upsert the search attributes it changed."""
        for happened in steps:
            self.outbox.append(happened.event)
            self._upsert(happened.search)

    def _upsert(self, values: SearchValues) -> None:
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
        status, pending, requester, amount, due = values
        workflow.upsert_search_attributes(
            [
                SA_STATUS.value_set(status),
                SA_PENDING.value_set(list(pending)),
                SA_REQUESTER.value_set(requester),
                SA_AMOUNT.value_set(amount),
                SA_DUE.value_set(due) if due else SA_DUE.value_unset(),
            ]
        )

    async def flush(self) -> None:
        """Record everything in the outbox; each record's mail goes out beside the run."""
        while self.outbox:
            events, self.outbox = self.outbox, []
            transition = Transition(
                state=copy.deepcopy(self.m.state),
                events=events,
                previous_pending=list(self._published_pending),
                publish=True,  # record_transition pushes right after its commit
            )
            self._published_pending = list(self.m.state.pending_approvers)
            # Only the start's first record is local, and only while nothing but routing
            # happened (a withdrawal during routing is an Update: its record waits until
            # the Update is committed, as every other's).
            transition.local = not self._recorded_start and self.m.state.status == Status.PENDING
            self._recorded_start = True
            if transition.local:
                steps = await workflow.execute_local_activity(
                    record_first_steps,
                    transition,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
                head = steps[-1].detail.get("audit_head") if steps else None
            else:
                head = await workflow.execute_activity(
                    record_transition,
                    transition,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            if head:  # the audit chain's newest hash, held by the workflow (issue 31)
                self.m.state.audit_head = str(head)
            # The durable record is written; the mail never holds up the state.
            self._mails = [t for t in self._mails if not t.done()]
            self._mails.append(asyncio.ensure_future(self._mail(transition)))

    async def drain(self) -> None:
        """At the end of the run: every record written and every mail settled."""
        while self.outbox or self._mails:
            await self.flush()
            if self._mails:
                await asyncio.gather(*self._mails, return_exceptions=True)
                self._mails = [t for t in self._mails if not t.done()]

    async def _mail(self, transition: Transition) -> None:
        try:
            await workflow.execute_activity(
                send_notifications,
                transition,
                start_to_close_timeout=MAIL_TIMEOUT,
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
            error_type = str(getattr(cause, "type", "") or "")
            state = transition.state
            self.emit(
                transitions.notification_failed(
                    self.m, state.current_level, state.seq, kinds, text, error_type, workflow.now()
                )
            )

    # -------------------------------------------------------------- lookups
    async def resolve_route(self) -> Route:
        """The requester's ladder and the admins; a permanent failure routes to nobody."""
        req = RouteRequest(self.m.state.request_id, self.m.state.requester, 0)
        req.calendars = self.m.working  # the people's own calendars (31-business-calendar)
        if self.m.policy_rules:  # the pinned version's rules for the request's facts
            req.policy_version, req.facts = self.m.state.policy_version, self.m.facts
        try:
            if not self.m.ready:  # the start's own task
                return await workflow.execute_local_activity(
                    resolve_route, req, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY
                )
            return await workflow.execute_activity(
                resolve_route, req, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY
            )
        except ActivityError as exc:
            workflow.logger.warning("routing failed for good: %s", exc.cause or exc)
            return Route(ladder=[], admins=[])

    async def route_or_withdrawn(self) -> Route | None:
        """Resolve the route, unless the request is withdrawn meanwhile (then None)."""
        task = asyncio.ensure_future(self.resolve_route())
        await workflow.wait_condition(lambda: task.done() or self.m.state.status in Status.TERMINAL)
        if not task.done():
            task.cancel()
            return None
        return task.result()

    async def managers(self, people: list[str]) -> Managers | None:
        """Each person's managers upward and the admins; None when the lookup failed."""
        try:
            return await workflow.execute_activity(
                resolve_managers,
                ManagersRequest(self.m.state.request_id, list(people), self.m.working),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        except ActivityError as exc:
            workflow.logger.warning("manager lookup failed for good: %s", exc.cause or exc)
            return None

    # --------------------------------------------------------------- payout
    async def start_payout(self) -> None:
        """The Payout saga as a child that outlives this run; returns once it has started
        (a payout that exists already, e.g. retried from /ops/, counts as started)."""
        state = self.m.state
        # A payout of this request runs or ran already: never a second one.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                PAYOUT_WORKFLOW,
                PayoutInput(
                    request_id=state.request_id,
                    requester=state.requester,
                    # EUR: the open (approved) lines once a line was rejected (issue 26).
                    amount_cents=rules.payout_cents(self.m),
                    title=state.title,
                ),
                id=payout_id(state.request_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
