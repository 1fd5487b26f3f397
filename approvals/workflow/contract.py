"""Plain dataclasses shared by the workflow, its activities and Django.

Imports nothing but the standard library: the workflow sandbox loads this.
Field names are part of persisted histories; add fields with defaults only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WORKFLOW_TYPE = "ExpenseApproval"
TASK_QUEUE = "approvals"


def workflow_id(request_id: int) -> str:
    return f"expense-{request_id}"


class Status:
    QUEUED = "queued"
    PENDING = "pending"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    TERMINAL = frozenset({"approved", "rejected", "withdrawn", "expired"})


class Action:
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    ALL = frozenset({"approve", "reject", "request_changes"})


class Channel:
    UPDATE = "update"
    SIGNAL = "signal"
    AUTO = "auto"
    ESCALATION = "escalation"
    TIMER = "timer"


ADMINS = "@admins"  # placeholder approver meaning "any administrator"


@dataclass
class PolicySnapshot:
    """The policy in force at submission; a request keeps it for its lifetime."""

    two_levels_from_cents: int = 100_000
    three_levels_from_cents: int = 1_000_000
    max_amount_cents: int = 100_000_000
    sla_seconds: int = 172_800
    reminder_seconds: int = 86_400
    max_escalations: int = 2

    def levels_for(self, amount_cents: int) -> int:
        if amount_cents >= self.three_levels_from_cents:
            return 3
        if amount_cents >= self.two_levels_from_cents:
            return 2
        return 1


@dataclass
class ApprovalInput:
    request_id: int
    requester: str
    requester_display: str
    title: str
    amount_cents: int
    currency: str
    submitted_at: str  # ISO 8601, for the memo
    policy: PolicySnapshot = field(default_factory=PolicySnapshot)
    # The amount in the base currency (EUR) at the rate pinned at submission; the
    # policy and the AmountCents search attribute use it. 0 = histories made before
    # rates existed, where amount_cents was compared as if it were EUR.
    base_amount_cents: int = 0
    fx_rate: str = ""  # units of `currency` per 1 EUR, as a decimal string
    fx_rate_date: str = ""  # ISO date of the rate


@dataclass
class Actor:
    """Who acts, as the web layer established it (authenticated, delegations checked)."""

    username: str
    display: str = ""
    role: str = ""
    is_admin: bool = False
    # Users whose pending levels this actor may decide today (active delegations).
    delegate_for: list[str] = field(default_factory=list)


@dataclass
class DecisionInput:
    decision_id: str
    actor: Actor
    action: str
    comment: str = ""
    level: int = 0  # the level the actor saw; 0 = whatever is current
    override: bool = False  # an admin deciding someone else's level, recorded


@dataclass
class WithdrawInput:
    actor: Actor
    reason: str = ""


@dataclass
class ResubmitInput:
    actor: Actor
    title: str
    amount_cents: int
    comment: str = ""
    base_amount_cents: int = 0  # the new amount in EUR at the request's pinned rate


@dataclass
class RerouteInput:
    """A person left (deactivated): every level waiting on them moves on at once."""

    leaver: str  # username
    reason: str = "deactivated"
    reroute_id: str = ""  # dedupe key chosen by the caller


@dataclass
class ExtendInput:
    actor: Actor
    seconds: int
    reason: str = ""


@dataclass
class ChainRequest:
    request_id: int
    requester: str
    levels: int


@dataclass
class EscalationRequest:
    request_id: int
    approvers: list[str]
    requester: str


@dataclass
class DecisionRecord:
    seq: int
    level: int
    action: str
    actor: str
    actor_display: str
    actor_role: str
    comment: str
    at: str
    channel: str
    decision_id: str = ""
    on_behalf_of: str = ""
    override: bool = False


@dataclass
class LevelState:
    level: int
    approvers: list[str]
    original_approvers: list[str]
    status: str = "waiting"  # waiting | pending | approved | rejected | changes_requested
    due_at: str = ""
    escalations: int = 0
    reminded: bool = False
    decided_by: str = ""
    decided_at: str = ""
    comment: str = ""
    channel: str = ""
    on_behalf_of: str = ""


@dataclass
class IgnoredSignal:
    decision_id: str
    actor: str
    action: str
    reason: str
    at: str


@dataclass
class ApprovalState:
    request_id: int
    requester: str
    requester_display: str
    title: str
    amount_cents: int
    currency: str
    submitted_at: str
    status: str
    current_level: int
    levels: list[LevelState]
    decisions: list[DecisionRecord] = field(default_factory=list)
    ignored_signals: list[IgnoredSignal] = field(default_factory=list)
    pending_approvers: list[str] = field(default_factory=list)
    due_at: str = ""
    round: int = 1
    seq: int = 0


@dataclass
class StepEvent:
    """One thing that happened, for the projection, the audit log and notifications."""

    kind: str  # submitted, assigned, decided, auto_approved, reminder, escalated, ...
    level: int = 0
    actor: str = ""
    actor_display: str = ""
    actor_role: str = ""
    comment: str = ""
    channel: str = ""
    recipients: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)


@dataclass
class Transition:
    """The state after a change plus the events that led to it (keyed by seq)."""

    state: ApprovalState
    events: list[StepEvent]
    previous_pending: list[str] = field(default_factory=list)


# Search attributes of the public contract (registered by `make run` and by
# `manage.py register_search_attributes`). temporalio is safe in the sandbox.
from temporalio.common import SearchAttributeKey  # noqa: E402

SA_STATUS = SearchAttributeKey.for_keyword("ApprovalStatus")
SA_PENDING = SearchAttributeKey.for_keyword_list("PendingApprovers")
SA_REQUESTER = SearchAttributeKey.for_keyword("Requester")
SA_AMOUNT = SearchAttributeKey.for_int("AmountCents")
SA_DUE = SearchAttributeKey.for_datetime("DecisionDueAt")
SEARCH_ATTRIBUTES = (SA_STATUS, SA_PENDING, SA_REQUESTER, SA_AMOUNT, SA_DUE)
