"""Time travel: a request as it stood right after one event of its workflow's history.

Rebuilt from the history alone: every `record_transition` (and `send_notifications`)
activity is scheduled with a `Transition` whose `state` is the whole ApprovalState after
that change, decoded by the project's data converter (`temporal.history`). The state in
force after event N is the one with the highest sequence number among those scheduled at
or before N. Before the first of them, the start task's local record
(`record_first_steps`) left only its steps in a marker: the state is then made from the
workflow's input and those steps (submitted, and the first level assigned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from temporalio.service import RPCError

from ..amounts import money_text
from ..models import ExpenseRequest, RequestStatus
from ..step_words import parse_iso
from ..temporal.client import TemporalUnavailable
from ..temporal.history import RawEvent, fetch_history
from ..workflow.contract import Calls, StepKind
from .timeline_entries import Names

# Activities whose input is a Transition (state + steps) or carries one.
STATE_CARRIERS = {
    Calls.RECORD_TRANSITION,
    Calls.SEND_NOTIFICATIONS,
    Calls.RECORD_MAIL_FAILURE,
}
LEVEL_WORDS = {
    "waiting": gettext_lazy("waiting"),
    "pending": gettext_lazy("awaiting decision"),
    "approved": gettext_lazy("approved"),
    "rejected": gettext_lazy("rejected"),
    "changes_requested": gettext_lazy("changes requested"),
}


@dataclass
class Level:
    level: int
    status: str
    status_label: str
    approvers: str
    decided_by: str = ""
    decided_at: datetime | None = None
    comment: str = ""
    due_at: datetime | None = None


@dataclass
class AsOf:
    event_id: int
    at: datetime | None = None
    event_type: str = ""
    found: bool = False  # a state was in force at that event
    status: str = ""
    status_label: str = ""
    title: str = ""
    amount: str = ""
    levels: list[Level] = field(default_factory=list)
    waiting_for: str = ""
    seq: int = 0
    previous_id: int | None = None
    next_id: int | None = None
    error: str = ""


def _transition_state(event: RawEvent) -> dict | None:
    if event.type != "ACTIVITY_TASK_SCHEDULED":
        return None
    if event.data.get("activity") not in STATE_CARRIERS:
        return None
    value = event.data.get("input")
    if isinstance(value, dict) and isinstance(value.get("transition"), dict):
        value = value["transition"]  # a MailFailure wraps one
    state = value.get("state") if isinstance(value, dict) else None
    return state if isinstance(state, dict) else None


def _first_steps_state(events: list[RawEvent], upto: int) -> dict | None:
    """The state right after the start task, made from the input and its local steps."""
    started = next((e for e in events if e.type == "WORKFLOW_EXECUTION_STARTED"), None)
    inp = started.data.get("input") if started else None
    if not isinstance(inp, dict):
        return None
    steps: list[dict] = []
    for event in events:
        if event.event_id > upto:
            break
        if event.type == "MARKER_RECORDED" and event.data.get("activity") == (
            Calls.RECORD_FIRST_STEPS
        ):
            steps += [s for s in event.data.get("result") or [] if isinstance(s, dict)]
    assigned = [s for s in steps if s.get("kind") == StepKind.ASSIGNED]
    level = assigned[-1].get("level", 1) if assigned else 0
    waiting = list(assigned[-1].get("recipients") or []) if assigned else []
    return {
        "status": RequestStatus.PENDING if assigned else RequestStatus.QUEUED,
        "title": inp.get("title", ""),
        "amount_cents": inp.get("amount_cents"),
        "currency": inp.get("currency", ""),
        "current_level": level,
        "pending_approvers": waiting,
        "seq": max((int((s.get("detail") or {}).get("seq", 0)) for s in steps), default=0),
        "levels": [
            {"level": s.get("level", 1), "status": "pending", "approvers": s.get("recipients")}
            for s in assigned[-1:]
        ],
    }


def _level(raw: dict, names: Names) -> Level:
    status = str(raw.get("status", ""))
    return Level(
        level=int(raw.get("level", 0)),
        status=status,
        status_label=str(LEVEL_WORDS.get(status, status)),
        approvers=names.many(raw.get("approvers") or []),
        decided_by=names(raw.get("decided_by") or ""),
        decided_at=parse_iso(raw.get("decided_at")),
        comment=str(raw.get("comment") or ""),
        due_at=parse_iso(raw.get("due_at")),
    )


def state_as_of(events: list[RawEvent], event_id: int, steps: list[int]) -> AsOf:
    """The request after `event_id`; `steps`: the event ids a reader steps through."""
    result = AsOf(event_id=event_id)
    # The reader's events skip the workflow-task bookkeeping: the nearest one at or
    # before `event_id` tells the time; beyond the last one there is nothing.
    event = next((e for e in reversed(events) if e.event_id <= event_id), None)
    if event is None or event_id > events[-1].event_id:
        result.error = _("The workflow's history has no event %(id)s.") % {"id": event_id}
        return result
    result.at, result.event_type = event.at, event.type
    earlier = [i for i in steps if i < event_id]
    later = [i for i in steps if i > event_id]
    result.previous_id = earlier[-1] if earlier else None
    result.next_id = later[0] if later else None
    best: dict | None = None
    for e in events:
        if e.event_id > event_id:
            break
        state = _transition_state(e)
        if state is not None and (best is None or state.get("seq", 0) >= best.get("seq", 0)):
            best = state
    if best is None:
        best = _first_steps_state(events, event_id)
    if best is None:
        return result  # nothing recorded yet: the workflow had only just started
    names = Names()
    status = str(best.get("status", ""))
    result.found = True
    result.status = status
    result.status_label = str(RequestStatus(status).label) if status in RequestStatus else status
    result.title = str(best.get("title", ""))
    result.amount = money_text(best.get("amount_cents"), str(best.get("currency", "")))
    result.levels = [
        _level(raw, names) for raw in best.get("levels") or [] if isinstance(raw, dict)
    ]
    result.waiting_for = names.many(best.get("pending_approvers") or [])
    result.seq = int(best.get("seq", 0) or 0)
    return result


def as_of(expense: ExpenseRequest, event_id: int, steps: list[int]) -> AsOf:
    """`state_as_of` on the request's history fetched now (an error in words if it cannot be)."""
    try:
        events = fetch_history(expense.pk)
    except (TemporalUnavailable, RPCError):
        return AsOf(
            event_id=event_id,
            error=_(
                "The workflow's history cannot be read right now, so the request cannot be "
                "shown as it stood then."
            ),
        )
    return state_as_of(events, event_id, steps)
