"""Decisions: by Update (the inbox, the detail page) or by Signal (mail links)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from temporalio.client import Client
from temporalio.service import RPCError

from accounts.models import User

from .. import metrics, selectors
from ..labels import ServiceCode
from ..models import ExpenseRequest
from ..people import display_names
from ..temporal.client import TemporalUnavailable, call
from ..workflow.contract import (
    ApprovalState,
    DecisionInput,
    LineRejection,
    Refusal,
    Status,
    workflow_id,
)
from ..workflow.workflow import ExpenseApprovalWorkflow
from .commands import _update, actor_for, status_query_quietly
from .common import ServiceError


def decision_record(
    *,
    request: ExpenseRequest,
    actor: User,
    action: str,
    comment: str = "",
    decision_id: str | None = None,
    level: int = 0,
    override: bool = False,
    project: bool = True,
    rejected_lines: dict[int, str] | None = None,
) -> ApprovalState:
    """Send a decision Update; returns the new state or raises ServiceError(refusal).

    `rejected_lines` (line number -> reason): an approve that rejects those lines of the
    report and approves the rest; the workflow's validator checks them.
    `project=False` leaves the Django projection to the worker's activity (for
    callers that render from the returned state, such as an inbox row)."""
    decision_id = decision_id or str(uuid.uuid4())
    decision = DecisionInput(
        decision_id=decision_id,
        actor=actor_for(actor),
        action=action,
        comment=comment,
        level=level,
        override=override,
        rejected_lines=[
            LineRejection(n, reason) for n, reason in sorted((rejected_lines or {}).items())
        ],
    )
    try:
        state = _update(
            request,
            ExpenseApprovalWorkflow.decide,
            decision,
            # The actor is part of the id: Temporal answers a repeated update id with the
            # first call's result without asking the validator, so an id read out of
            # someone else's link or mail must never fetch their answer.
            update_id=f"decide-{actor.username}-{decision_id}",
            project=project,
        )
    except ServiceError:
        # A repeat of a decision that closed the workflow: answer as the first time, but
        # only to the person who made it and may still see the request.
        if not selectors.can_view(user=actor, request=request):
            raise
        state = status_query_quietly(request)
        if state is not None and any(
            d.decision_id == decision_id and d.actor == actor.username for d in state.decisions
        ):
            return state
        raise
    # Signals (mail links) are counted when the worker records them (append_audit).
    metrics.DECISIONS.labels(action=action, channel="update").inc()
    return state


def decision_signal(
    *,
    request: ExpenseRequest,
    actor: User,
    action: str,
    comment: str,
    decision_id: str,
    level: int = 0,
    round: int = 0,
) -> None:
    """Fire-and-forget decision (e.g. from an email link); the workflow records refusals.

    `level` and `round` are those the link was made for, so a late click never lands on a
    later level or on content resubmitted since.
    """
    decision = DecisionInput(
        decision_id=decision_id,
        actor=actor_for(actor),
        action=action,
        comment=comment,
        level=level,
        round=round,
    )

    async def run(client: Client) -> None:
        handle = client.get_workflow_handle_for(
            ExpenseApprovalWorkflow.run, workflow_id(request.pk)
        )
        await handle.signal(ExpenseApprovalWorkflow.decide_signal, decision)

    try:
        call(run)
    except TemporalUnavailable as exc:
        raise ServiceError(ServiceCode.UNAVAILABLE) from exc
    except RPCError as exc:
        raise ServiceError(ServiceCode.NO_LONGER_AWAITING) from exc


NOT_YOURS = ServiceError(ServiceCode.NOT_YOURS)

# Refusals about single lines (the form shows them at the line, the API answers 422).
LINE_REFUSALS = frozenset(
    {
        Refusal.LINE_UNKNOWN,
        Refusal.LINE_ALREADY_REJECTED,
        Refusal.LINE_TWICE,
        Refusal.LINE_REASON_REQUIRED,
        Refusal.LINE_REASON_TOO_LONG,
        Refusal.LINES_ONLY_WHEN_APPROVING,
    }
)


def _success_message(action: str, state: ApprovalState, rejected: int = 0) -> str:
    if action == "approve" and rejected and state.status == Status.REJECTED:
        return _("Rejected: every line of the report is rejected.")
    if action == "reject":
        return _("Rejected.")
    if action == "request_changes":
        return _("Changes requested.")
    if rejected:
        lines = ngettext(
            "%(count)s line rejected, the rest approved.",
            "%(count)s lines rejected, the rest approved.",
            rejected,
        ) % {"count": rejected}
        if state.status == Status.PENDING and state.pending_approvers:
            return _("%(lines)s Now waiting for %(who)s.") % {
                "lines": lines,
                "who": ", ".join(state.pending_approvers),
            }
        return lines
    if state.status == Status.APPROVED:
        return _("Approved: the request is fully approved.")
    if state.status == Status.PENDING and state.pending_approvers:
        return _("Approved: now waiting for %(who)s.") % {
            "who": display_names(state.pending_approvers)
        }
    return _("Approved.")


def decide_one(
    *,
    user: User,
    pk: int,
    action: str,
    comment: str = "",
    decision_id: str = "",
    level: int = 0,
    project: bool = False,
    rejected_lines: dict[int, str] | None = None,
) -> tuple[bool, str]:
    """Send one decision Update; (ok, message for the user). Refusals change nothing.

    The validator is the authority, not the projection (which may lag behind a
    fresh escalation). Someone who may not see the request gets the same words
    whether it exists or not, so a forged POST learns nothing.
    """
    expense = ExpenseRequest.objects.select_related("requester").filter(pk=pk).first()
    if expense is None:
        return False, NOT_YOURS.message
    visible = selectors.can_view(user=user, request=expense)
    try:
        state = decision_record(
            request=expense,
            actor=user,
            action=action,
            comment=comment,
            decision_id=decision_id or None,
            level=level,
            project=project,
            rejected_lines=rejected_lines,
        )
    except ServiceError as exc:
        return False, exc.message if visible else NOT_YOURS.message
    return True, _success_message(action, state, len(rejected_lines or {}))
