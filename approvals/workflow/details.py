"""What each step kind's `StepEvent.detail` holds: one TypedDict per `StepKind`.

Part of the contract, beside contract.py (which owns `StepEvent` and `StepKind`):
the pure transitions build these, the projection, the audit log, the timeline,
the mails and the metrics read them. A TypedDict is a plain dict at run time, so
the payload is exactly what it was before these types (histories replay, the
audit rows' JSON and the API's do not change). `StepEvent.detail` stays annotated
`dict` on purpose: the data converter then reads histories as it always did
(a union of TypedDicts would make it guess a type per payload).

Every step's detail also gets `seq` and `at` when it happens (`rules.record_step`),
and the last step of a record the audit head (`worker.activities`): `StepCommon`.
Imports nothing but the standard library and the contract: the sandbox loads this.
"""

# No `from __future__ import annotations` here: TypedDict reads NotRequired only from
# evaluated annotations on Python 3.11.
from typing import NotRequired, TypedDict, cast

from .contract import StepEvent, StepKind


class StepCommon(TypedDict, total=False):
    """Keys every kind's detail carries once the step happened."""

    seq: int  # the step's number in the run (rules.record_step)
    at: str  # ISO 8601, workflow time
    audit_head: str  # the audit chain's newest hash, on a record's last step


class SubmittedDetail(StepCommon):
    amount_cents: int
    currency: str


class AssignedDetail(StepCommon):
    due_at: str  # "" without a clock


class RejectedLine(TypedDict):
    line: int
    reason: str


class DecidedDetail(StepCommon):
    action: str  # Action
    decision_id: str
    on_behalf_of: str  # the principal of a delegate's decision, else ""
    override: bool  # an administrator decided someone else's level
    rejected_lines: NotRequired[list[RejectedLine]]  # an approve that rejected lines
    open_lines: NotRequired[list[int]]  # the lines still open after it


class ReminderDetail(StepCommon):
    due_at: str


# "from" is a keyword: the functional form names it.
_Moved = TypedDict("_Moved", {"from": list[str], "to": list[str]})


class EscalatedDetail(_Moved, StepCommon):
    escalations: int  # of this level, this one included


class ReroutedDetail(_Moved, StepCommon):
    reason: str
    leaver: str  # username of the person who left ("" for a re-route from /ops/)
    reroute_id: str


class NeedsApproverDetail(StepCommon):
    cause: str  # English, for logs and /ops/


class SignalIgnoredDetail(StepCommon):
    reason: str  # the refusal code (kept for old readers)
    code: str  # Refusal
    params: dict
    action: str  # Action
    decision_id: str


class WithdrawnDetail(StepCommon):
    pass


class ResubmittedDetail(StepCommon):
    old_amount_cents: int
    amount_cents: int
    old_title: str
    title: str
    round: int


class DeadlineExtendedDetail(StepCommon):
    seconds: int
    due_at: str


class ExpiredDetail(StepCommon):
    escalations: int


class CompletedDetail(StepCommon):
    outcome: str  # Status: approved | rejected | withdrawn | expired


class NotificationFailedDetail(StepCommon):
    cause: str
    error_type: str
    for_seq: int  # the seq of the transition whose mails failed
    kinds: list[str]  # its steps' kinds


StepDetail = (
    SubmittedDetail
    | AssignedDetail
    | DecidedDetail
    | ReminderDetail
    | EscalatedDetail
    | ReroutedDetail
    | NeedsApproverDetail
    | SignalIgnoredDetail
    | WithdrawnDetail
    | ResubmittedDetail
    | DeadlineExtendedDetail
    | ExpiredDetail
    | CompletedDetail
    | NotificationFailedDetail
)

# The detail type of every kind (a test holds it to StepKind: one entry each).
DETAILS: dict[StepKind, type] = {
    StepKind.SUBMITTED: SubmittedDetail,
    StepKind.ASSIGNED: AssignedDetail,
    StepKind.DECIDED: DecidedDetail,
    StepKind.REMINDER: ReminderDetail,
    StepKind.ESCALATED: EscalatedDetail,
    StepKind.REROUTED: ReroutedDetail,
    StepKind.NEEDS_APPROVER: NeedsApproverDetail,
    StepKind.SIGNAL_IGNORED: SignalIgnoredDetail,
    StepKind.WITHDRAWN: WithdrawnDetail,
    StepKind.RESUBMITTED: ResubmittedDetail,
    StepKind.DEADLINE_EXTENDED: DeadlineExtendedDetail,
    StepKind.EXPIRED: ExpiredDetail,
    StepKind.COMPLETED: CompletedDetail,
    StepKind.NOTIFICATION_FAILED: NotificationFailedDetail,
}


def common(event: StepEvent) -> StepCommon:
    """The keys every step's detail has (seq, at, audit head)."""
    return cast(StepCommon, event.detail)


def decided(event: StepEvent) -> DecidedDetail:
    """A `decided` step's detail (the caller checked the kind)."""
    return cast(DecidedDetail, event.detail)


def completed(event: StepEvent) -> CompletedDetail:
    """A `completed` step's detail (the caller checked the kind)."""
    return cast(CompletedDetail, event.detail)
