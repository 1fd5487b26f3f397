"""Writes of the workflow's state into Django (called by activities and services).

Every write is guarded by the workflow's sequence number: an older state
never overwrites a newer one, and audit rows are keyed so a retry adds none.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.db import transaction

from accounts.models import User

from .. import audit_chain, metrics, money
from ..models import ApprovalStep, AuditEntry, ExpenseLine, ExpenseRequest, LineStatus
from ..workflow import details
from ..workflow.contract import ApprovalState, StepEvent, StepKind, Via

# The counter a newly written audit row of these kinds adds one to (decisions: `_count`).
COUNTED = {
    StepKind.ESCALATED: metrics.ESCALATIONS,
    StepKind.REMINDER: metrics.REMINDERS,
    StepKind.EXPIRED: metrics.EXPIRIES,
}


def _dt(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@transaction.atomic
def apply_state(state: ApprovalState, *, same_seq_wins: bool = False) -> bool:
    """Project `state` onto the request; returns False when a newer state is already there.

    `same_seq_wins`: a start task retried after a crash (local-first-steps) records
    its seq again with its own clock and route, and that is what the workflow kept.
    """
    return _apply(
        ExpenseRequest.objects.select_for_update().get(pk=state.request_id), state, same_seq_wins
    )


def _apply(request: ExpenseRequest, state: ApprovalState, same_seq_wins: bool) -> bool:
    if state.seq < request.state_seq or (state.seq == request.state_seq and not same_seq_wins):
        return False
    request.status = state.status
    request.current_level = state.current_level
    request.levels = len(state.levels)
    request.pending_approvers = list(state.pending_approvers)
    chain = list(request.chain_usernames)
    for level in state.levels:
        for name in [*level.original_approvers, *level.approvers]:
            if name not in chain:
                chain.append(name)
    request.chain_usernames = chain
    request.due_at = _dt(state.due_at)
    request.state_seq = state.seq
    request.waiting_reason = state.waiting_reason if state.status == "pending" else ""
    request.title = state.title
    amount = money.from_minor(state.amount_cents, request.currency)
    if amount != request.amount and request.fx_rate is not None:
        # A resubmission changed the amount: its EUR value at the pinned rate.
        request.base_amount_cents = money.to_base_cents(amount, request.currency, request.fx_rate)
    request.amount = amount
    if request.workflow_started_at is None:
        request.workflow_started_at = _dt(state.submitted_at)
    request.save()
    _write_steps(request, state)
    _write_lines(request, state)
    return True


def _write_lines(request: ExpenseRequest, state: ApprovalState) -> None:
    """Each line's decision onto its row (matched by position): one UPDATE reopens what is
    no longer rejected (a resubmission's new round); one per rejected line that changed."""
    rejected = [line for line in state.lines if line.status == LineStatus.REJECTED]
    ExpenseLine.objects.filter(request=request, status=LineStatus.REJECTED).exclude(
        position__in=[line.n for line in rejected]
    ).update(status=LineStatus.OPEN, rejected_level=None, rejected_by="", rejection_reason="")
    for line in rejected:
        ExpenseLine.objects.filter(request=request, position=line.n).exclude(
            status=LineStatus.REJECTED,
            rejected_level=line.rejected_level,
            rejected_by=line.rejected_by,
            rejection_reason=line.reason,
        ).update(
            status=LineStatus.REJECTED,
            rejected_level=line.rejected_level,
            rejected_by=line.rejected_by,
            rejection_reason=line.reason,
        )


STEP_FIELDS = (
    "approvers",
    "status",
    "due_at",
    "escalations",
    "decided_by",
    "on_behalf_of",
    "decided_at",
    "comment",
    "channel",
    "kind",
    "label",
)


def _write_steps(request: ExpenseRequest, state: ApprovalState) -> None:
    """The levels as rows: one SELECT, then only the rows that are new or changed."""
    existing = {step.level: step for step in request.steps.all()}
    fresh, changed = [], []
    for level in state.levels:
        values = {
            "approvers": list(level.approvers),
            "status": level.status,
            "due_at": _dt(level.due_at),
            "escalations": level.escalations,
            "decided_by": level.decided_by,
            "on_behalf_of": level.on_behalf_of,
            "decided_at": _dt(level.decided_at),
            "comment": level.comment,
            "channel": level.channel,
            "kind": level.kind,
            "label": level.label,
        }
        step = existing.get(level.level)
        if step is None:
            fresh.append(ApprovalStep(request=request, level=level.level, **values))
        elif any(getattr(step, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(step, name, value)
            changed.append(step)
    if fresh:
        ApprovalStep.objects.bulk_create(fresh)
    if changed:
        ApprovalStep.objects.bulk_update(changed, STEP_FIELDS)
    if any(number > len(state.levels) for number in existing):
        request.steps.filter(level__gt=len(state.levels)).delete()


# What a retried start task's audit row takes over (its key, kind and source stay).
AUDIT_REPLACED = (
    "at",
    "level",
    "actor_username",
    "actor_name",
    "actor_role",
    "channel",
    "comment",
    "detail",
)


def append_audit(request_id: int, events: list[StepEvent], *, replace: bool = False) -> None:
    """One row per step, keyed by seq and kind; a retry adds none.

    Through `audit_chain.append`, which locks the request row (already locked by
    `record`), skips the keys already there and chains the rest in one INSERT, in
    the caller's transaction when there is one.
    `replace`: a start task retried after a crash wrote these keys before; its
    rows take the retried task's values (what the workflow kept), counted once,
    and the chain is re-hashed from the first of them (`audit_chain.rewrite`).
    """
    listed = {StepKind.SUBMITTED, StepKind.RESUBMITTED}
    lines = audit_lines(request_id) if any(e.kind in listed for e in events) else []
    names = {e.actor for e in events if e.actor and not (e.actor_display and e.actor_role)}
    people = {u.username: u for u in User.objects.filter(username__in=names)} if names else {}
    entries = []
    for event in events:
        person = people.get(event.actor)
        seq = event.detail.get("seq", 0)
        entries.append(
            AuditEntry(
                request_id=request_id,
                key=f"wf:{seq}:{event.kind}",
                at=_dt(event.detail.get("at", "")),
                kind=event.kind,
                level=event.level,
                actor_username=event.actor,
                actor_name=event.actor_display or (person.display_name if person else event.actor),
                actor_role=event.actor_role or (person.role if person else ""),
                channel=event.channel,
                comment=event.comment,
                detail={
                    **event.detail,
                    "recipients": event.recipients,
                    # The report's lines as submitted (or resubmitted): the audit's own
                    # record of the content (never in search attributes).
                    **({"lines": lines} if event.kind in listed else {}),
                },
                source="workflow",
            )
        )
    fresh = audit_chain.append(request_id, entries)
    for entry in fresh:  # counted once the rows are committed
        transaction.on_commit(lambda entry=entry: _count(entry))
    if not replace:
        return  # already written by an earlier attempt (and counted then)
    written = {e.key for e in fresh}
    audit_chain.rewrite(
        request_id,
        {
            e.key: {name: getattr(e, name) for name in AUDIT_REPLACED}
            for e in entries
            if e.key not in written
        },
    )


def audit_lines(request_id: int) -> list[dict]:
    """The report's lines as the audit keeps them with its submitted/resubmitted step."""
    return [
        {
            "n": line.position,
            "date": line.date.isoformat() if line.date else "",
            "merchant": line.merchant,
            "category": line.category,
            "amount": str(line.amount),
            "currency": line.currency,
            "vat": "" if line.vat is None else str(line.vat),
            "base_amount_cents": line.base_amount_cents,
            "receipt_sha256": line.receipt_sha256,
        }
        for line in ExpenseLine.objects.filter(request_id=request_id).order_by("position")
    ]


@transaction.atomic
def record(
    state: ApprovalState, events: list[StepEvent], *, retried_start: bool = False
) -> ExpenseRequest:
    """A transition's durable record: the projection and its audit rows in one commit
    (`record_transition`, `record_first_steps`); returns the request row it locked."""
    request = ExpenseRequest.objects.select_for_update().get(pk=state.request_id)
    _apply(request, state, retried_start)
    append_audit(state.request_id, events, replace=retried_start)
    return request


def _count(entry: AuditEntry) -> None:
    """Count one newly written audit row (called once per row, never on a retry)."""
    counter = COUNTED.get(entry.kind)
    if counter is not None:
        counter.inc()
    if entry.kind != StepKind.DECIDED:
        return
    if entry.channel and entry.channel != Via.UPDATE:  # Updates are counted by the service
        action = cast(details.DecidedDetail, entry.detail).get("action", "")
        metrics.DECISIONS.labels(action=str(action) or "unknown", channel=entry.channel).inc()
    if entry.at is None:
        return
    assigned = (
        AuditEntry.objects.filter(
            request_id=entry.request_id,
            kind=StepKind.ASSIGNED,
            level=entry.level,
            at__lte=entry.at,
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if assigned:
        waited = (entry.at - assigned).total_seconds()
        metrics.TIME_TO_DECISION.labels(level=str(entry.level)).observe(max(waited, 0))
