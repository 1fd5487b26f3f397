"""The workflow's contract: names, codes and plain dataclasses shared with Django.

Imports nothing but the standard library and temporalio: the workflow sandbox
loads this. Field names are part of persisted histories; add fields with
defaults only. Update, signal, query and activity names are constants here so
callers never spell them twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum, nonmember
from typing import Protocol

from ..calendar import Calendar

# Re-exported parts of the contract (callers import them from here): a report's lines
# (issue 26) and the routing lookups' questions and answers.
from .lines import LineInput, LineRejection, LineState, line_states  # noqa: F401
from .routing import (  # noqa: F401
    LevelKind,
    LevelSpec,
    Managers,
    ManagersRequest,
    Route,
    RouteFacts,
    RouteRequest,
)

WORKFLOW_TYPE = "ExpenseApproval"
TASK_QUEUE = "approvals"


def workflow_id(request_id: int) -> str:
    return f"expense-{request_id}"


class Status(StrEnum):
    """A request's status (the ApprovalStatus search attribute)."""

    QUEUED = "queued"
    PENDING = "pending"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    TERMINAL = nonmember(frozenset({"approved", "rejected", "withdrawn", "expired"}))


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    ALL = nonmember(frozenset({"approve", "reject", "request_changes"}))


class Via(StrEnum):
    """How a step came about (was `Channel`, which clashed with Django Channels)."""

    UPDATE = "update"
    SIGNAL = "signal"
    AUTO = "auto"
    ESCALATION = "escalation"
    TIMER = "timer"
    REROUTE = "reroute"


class LevelStatus(StrEnum):
    WAITING = "waiting"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class StepKind(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    DECIDED = "decided"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    REROUTED = "rerouted"
    NEEDS_APPROVER = "needs_approver"
    SIGNAL_IGNORED = "signal_ignored"
    WITHDRAWN = "withdrawn"
    RESUBMITTED = "resubmitted"
    DEADLINE_EXTENDED = "deadline_extended"
    EXPIRED = "expired"
    COMPLETED = "completed"
    NOTIFICATION_FAILED = "notification_failed"


class WaitingReason(StrEnum):
    NONE = ""
    NEEDS_APPROVER = "needs_approver"  # nobody left who may decide this level


class Calls:
    """Handler and activity names (stable: they are in every history)."""

    DECIDE = "decide"
    DECIDE_SIGNAL = "decide_signal"
    WITHDRAW = "withdraw"
    RESUBMIT = "resubmit"
    EXTEND_DEADLINE = "extend_deadline"
    REROUTE = "reroute"
    GET_STATUS = "get_status"
    RESOLVE_ROUTE = "resolve_route"
    RESOLVE_MANAGERS = "resolve_managers"
    RECORD_TRANSITION = "record_transition"
    SEND_NOTIFICATIONS = "send_notifications"
    RECORD_MAIL_FAILURE = "record_mail_failure"
    RECORD_FIRST_STEPS = "record_first_steps"  # the start's local record: returns the steps


# Metadata the payload codec adds to every payload it decrypted with one of our
# keys. A decision without it was not written by our web tier (e.g. the CLI).
AUTHENTICATED_METADATA = "approvals-authenticated"

ADMINS = "@admins"  # placeholder approver meaning "any administrator"


class Refusal(StrEnum):
    """Codes the workflow refuses with (`ApplicationError.type`; params in details[0]).

    `approvals.labels` turns each into words in the reader's language.
    """

    UNKNOWN_ACTION = "UnknownAction"
    OWN_REQUEST = "OwnRequest"
    STILL_ROUTING = "StillRouting"
    NOT_AWAITING = "NotAwaitingDecision"
    LEVEL_NOT_YET = "LevelNotYet"
    LEVEL_MOVED_ON = "LevelMovedOn"
    COMMENT_REQUIRED = "CommentRequired"
    COMMENT_TOO_LONG = "CommentTooLong"
    ALREADY_APPROVED = "AlreadyApproved"
    PRINCIPAL_ALREADY_APPROVED = "PrincipalAlreadyApproved"
    DELEGATE_HOLDS_OTHER_LEVEL = "DelegateHoldsOtherLevel"
    NOT_APPROVER = "NotApprover"
    NOT_APPROVER_USE_OVERRIDE = "NotApproverUseOverride"
    OVERRIDE_NEEDS_REASON = "OverrideNeedsReason"
    SIGNAL_WITHOUT_ID = "SignalWithoutId"
    UNAUTHENTICATED = "Unauthenticated"
    ONLY_REQUESTER_WITHDRAWS = "OnlyRequesterWithdraws"
    CANNOT_WITHDRAW = "CannotWithdraw"
    ONLY_REQUESTER_RESUBMITS = "OnlyRequesterResubmits"
    CHANGES_NOT_REQUESTED = "ChangesNotRequested"
    TITLE_EMPTY = "TitleEmpty"
    TITLE_TOO_LONG = "TitleTooLong"
    AMOUNT_NOT_POSITIVE = "AmountNotPositive"
    AMOUNT_ABOVE_MAXIMUM = "AmountAboveMaximum"
    NO_DEADLINE = "NoDeadline"
    OWN_DEADLINE = "OwnDeadline"
    EXTENSION_OUT_OF_RANGE = "ExtensionOutOfRange"
    EXTENSIONS_EXHAUSTED = "ExtensionsExhausted"  # too many extensions of one level
    EXTENSION_TOTAL_EXCEEDED = "ExtensionTotalExceeded"  # too much time added to one level
    DECISION_ID_TAKEN = "DecisionIdTaken"  # the id belongs to someone else's decision
    NOT_APPROVER_OR_ADMIN = "NotApproverOrAdmin"
    NOT_PENDING = "NotPending"  # re-route of a request that is not pending
    ROUND_OVER = "RoundOver"  # the decision was for content changed since
    # Per-line decisions (issue 26): an approve that rejects single lines of a report.
    LINE_UNKNOWN = "LineUnknown"  # no such line in the report
    LINE_ALREADY_REJECTED = "LineAlreadyRejected"  # an earlier level rejected it
    LINE_TWICE = "LineTwice"  # the same line listed twice in one decision
    LINE_REASON_REQUIRED = "LineReasonRequired"
    LINE_REASON_TOO_LONG = "LineReasonTooLong"
    LINES_ONLY_WHEN_APPROVING = "LinesOnlyWhenApproving"  # reject/request changes: whole report
    LINES_NOT_BY_SIGNAL = "LinesNotBySignal"  # mail links decide the whole report


@dataclass
class RefusalInfo:
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class PolicySnapshot:
    """The policy in force at submission; a request keeps it for its lifetime."""

    two_levels_from_cents: int = 100_000
    three_levels_from_cents: int = 1_000_000
    max_amount_cents: int = 100_000_000
    sla_seconds: int = 172_800
    reminder_seconds: int = 86_400
    max_escalations: int = 2
    # Business calendar (issue 31): > 0 = a level's deadline and reminder in working time
    # of its approver's calendar (ApprovalInput.calendar, Route.calendars); 0 = plain time
    # (APPROVAL_SLA_SECONDS set: tests, demos; and every run from before the calendar).
    sla_working_seconds: int = 0
    reminder_working_seconds: int = 0

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
    # True when the web tier encrypts payloads with the project's codec: then a
    # decision whose payload our codec did not authenticate is refused.
    authenticated_decisions: bool = False
    policy_version: str = ""  # the published policy version pinned at submission
    category: str = ""  # facts the policy rules read (pinned with the request)
    cost_centre: str = ""
    # The report's lines (stage 3). Empty: a request from before lines existed, which
    # is one line of `amount_cents` in `currency`.
    lines: list[LineInput] = field(default_factory=list)
    # The organisation's business calendar at submission (pinned like the policy); people
    # with their own come with the route. None: plain time.
    calendar: Calendar | None = None


class EurAmounts(Protocol):
    """Anything with a request's amounts: an input, the state, a request row, an inbox row."""

    @property
    def amount_cents(self) -> int: ...

    @property
    def base_amount_cents(self) -> int | None: ...


def eur_cents_of(x: EurAmounts) -> int:
    """The EUR amount (cents) the policy, AmountCents and budgets read: the pinned EUR
    amount, or the amount itself for a request from before rates existed (0 or None)."""
    return x.base_amount_cents or x.amount_cents


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
    round: int = 0  # the round the actor saw (mail links); 0 = whatever is current
    # Lines the actor rejects (with reasons) while approving the rest (action approve).
    rejected_lines: list[LineRejection] = field(default_factory=list)


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
    lines: list[LineInput] = field(default_factory=list)  # the edited report's lines


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
    round: int = 0  # the round decided in (0: unknown)
    # The lines this decision rejected, with their reasons (issue 26).
    rejected_lines: list[LineRejection] = field(default_factory=list)


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
    kind: str = ""  # LevelKind of a pinned policy's level ("" without one: a manager level)
    label: str = ""  # "manager", a group name ("finance", "IT") or a person's username
    extensions: int = 0  # deadline extensions of this level (capped, rules.extend_refusal)
    extended_seconds: int = 0  # the time they added in all


@dataclass
class IgnoredSignal:
    decision_id: str
    actor: str
    action: str
    reason: str  # English, for logs; `code` + `params` are what people read
    at: str
    code: str = ""
    params: dict = field(default_factory=dict)


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
    waiting_reason: str = ""  # WaitingReason: why a pending request waits on nobody
    policy_version: str = ""
    base_amount_cents: int = 0  # EUR; equals amount_cents for EUR requests
    lines: list[LineState] = field(default_factory=list)  # per-line state (stage 3)
    # The newest audit row's hash as the last record returned it (issue 31): deleting the
    # newest rows then shows against the workflow too. "" until the first record.
    audit_head: str = ""


@dataclass
class MailFailure:
    """The mails of a transition that could not be sent, for good, and why."""

    transition: Transition
    cause: str


@dataclass
class StepEvent:
    """One thing that happened, for the projection, the audit log and notifications."""

    kind: str  # StepKind
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
    # record_transition also pushes, right after its commit; a failed push never fails
    # the record. Always True since 1.0 (False only in retired histories).
    publish: bool = False
    # The start task's local record (record_first_steps); a retried task's same seq wins.
    local: bool = False


# Search attributes of the public contract (registered by `make run` and by
# `manage.py register_search_attributes`). temporalio is safe in the sandbox.
from temporalio.common import SearchAttributeKey  # noqa: E402

SA_STATUS = SearchAttributeKey.for_keyword("ApprovalStatus")
SA_PENDING = SearchAttributeKey.for_keyword_list("PendingApprovers")
SA_REQUESTER = SearchAttributeKey.for_keyword("Requester")
SA_AMOUNT = SearchAttributeKey.for_int("AmountCents")
SA_DUE = SearchAttributeKey.for_datetime("DecisionDueAt")
SEARCH_ATTRIBUTES = (SA_STATUS, SA_PENDING, SA_REQUESTER, SA_AMOUNT, SA_DUE)
