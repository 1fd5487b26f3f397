"""The API's request and response bodies (pydantic, through django-ninja).

The approval state is the workflow's own dataclass (`contract.ApprovalState`):
what `get_status` and every Update answer, unchanged.
"""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import WithJsonSchema

from ..models import CURRENCIES

StatusName = Literal[
    "queued", "pending", "changes_requested", "approved", "rejected", "withdrawn", "expired"
]


# An amount: a JSON number (read exactly: the API parses JSON numbers as Decimal, never
# through a float) or a string in "." notation. Checked by the operation, not here, so
# that a refusal comes in the form's words (422) with the form's bounds.
AmountIn = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "maxLength": 40},
            ],
            "description": (
                "A JSON number or a string in '.' notation (\"1450.00\"): no thousands "
                "separators, no more decimals than the currency has (JPY none), at most "
                "the policy's maximum in EUR."
            ),
            "examples": ["1450.00", 38.5, 1500],
        }
    ),
]
CurrencyCode = Literal[tuple(code for code, _ in CURRENCIES)]  # type: ignore[valid-type]


class Message(Schema):
    detail: str


class ValidationErrors(Schema):
    """django-ninja's 422 (and the form's errors, in the same shape)."""

    detail: list[dict[str, Any]]


class Refused(Schema):
    """The workflow (or service) said no: a stable code and the words for a person."""

    code: str
    message: str


class StepOut(Schema):
    level: int
    approvers: list[str]
    status: str
    due_at: datetime | None
    decided_by: str
    on_behalf_of: str
    decided_at: datetime | None
    comment: str
    kind: str = ""  # "group" or "person" for a policy-rules level; "manager" / "" otherwise
    label: str = ""  # the group's name ("finance", "IT") or the person's username


class LineOut(Schema):
    """One line of the report (1-based `position`, as the page's `data-line`)."""

    position: int
    date: date_ | None
    merchant: str
    category: str
    amount: str
    currency: str
    vat: str | None
    description: str
    attendees: str
    amount_eur: str | None  # at the report's pinned rate
    status: str  # open | rejected
    rejection_reason: str
    receipt_url: str | None  # the receipt (signed-in session), when there is one
    # Who rejected the line at which level (issue 26, "decide"); its PNG preview.
    rejected_level: int | None = None
    rejected_by: str = ""
    receipt_preview_url: str | None = None


class TotalOut(Schema):
    """A sum of lines: in EUR cents (each line at the pinned rate) and per currency."""

    eur_cents: int
    by_currency: dict[str, str]
    lines: int


class LineIn(Schema):
    date: date_ | None = None
    merchant: str = Field("", max_length=10_000)
    category: str = Field(max_length=100)
    amount: AmountIn
    currency: CurrencyCode = "EUR"
    vat: AmountIn | None = None
    description: str = Field("", max_length=100_000)
    attendees: str = Field("", max_length=100_000)


class ResubmitLineIn(LineIn):
    # The position of the line of the last round this one continues (keeps its receipt).
    origin: int | None = Field(None, ge=1, le=50)


class FlagOut(Schema):
    code: str  # duplicate, near_duplicate, split, receipt_missing, over_limit, weekend, holiday
    line: int  # 1-based; 0 = the report as a whole
    severity: str  # warn | block
    name: str  # in the caller's language
    text: str
    note: str = ""  # the approver's "why this is fine"


class RequestOut(Schema):
    id: int
    requester: str
    title: str
    amount: str
    currency: str
    category: str
    description: str
    status: str
    current_level: int
    levels: int
    pending_approvers: list[str]
    due_at: datetime | None
    created_at: datetime
    policy_version: int | None = None  # the policy version pinned at submission
    steps: list[StepOut] = []
    # The report's lines and what is approved of them (the open lines): detail only.
    lines: list[LineOut] = []
    approved_total: TotalOut | None = None
    flags: list[FlagOut] = []  # the spend checks' flags at submission (words: Accept-Language)


class RequestList(Schema):
    count: int
    items: list[RequestOut]


class SubmitIn(Schema):
    """A report: `lines`, or the flat `amount`, `currency`, `category` (one line)."""

    title: str = Field(max_length=10_000)
    amount: AmountIn = None
    currency: CurrencyCode = "EUR"
    category: str = Field("", max_length=100)
    description: str = Field("", max_length=100_000)
    lines: list[LineIn] | None = Field(None, max_length=50)
    # The web form's one-time token: the same token again answers with the request it
    # first made (200), however often or concurrently it is sent.
    submit_token: UUID | None = None


class LineRejectionIn(Schema):
    line: int = Field(ge=1, le=500, description="The line's number (1-based, `data-line`)")
    reason: str = Field("", max_length=100_000, description="Why the line is rejected (required)")


class DecisionIn(Schema):
    action: Literal["approve", "reject", "request_changes"]
    comment: str = Field("", max_length=100_000)
    # Idempotency key: the same id again is applied once (the first answer is repeated).
    decision_id: str = Field("", pattern=r"^([A-Za-z0-9-]{8,64})?$")
    # The level the caller saw (0: the current one); a request that moved on is refused.
    level: int = Field(0, ge=0, le=10)
    override: bool = False
    # With action approve: these lines are rejected (each with a reason), the rest approved.
    rejected_lines: list[LineRejectionIn] = Field(default_factory=list, max_length=500)


class WithdrawIn(Schema):
    reason: str = Field("", max_length=100_000)


class ResubmitIn(Schema):
    """The new content: `lines` (the whole report, each kept line naming its `origin`),
    or the flat `amount` of a one-line report."""

    title: str = Field(max_length=10_000)
    amount: AmountIn = None
    comment: str = Field("", max_length=100_000)
    lines: list[ResubmitLineIn] | None = Field(None, max_length=50)


class ExtendIn(Schema):
    seconds: int = Field(ge=-(2**31), le=2**31)
    reason: str = Field("", max_length=100_000)


class InboxRowOut(Schema):
    request_id: int
    title: str
    requester: str
    requester_display: str
    amount_cents: int
    currency: str
    submitted_at: str
    due_at: datetime | None
    overdue: bool
    pending: list[str]
    on_behalf_of: str


class InboxPage(Schema):
    rows: list[InboxRowOut]
    # Pass as `page` for the next page; empty on the last one. Signed, bound to you
    # and the filters.
    next_page: str
    # When Temporal's visibility last answered for this page (results are reused until
    # an event says they changed), and where the rows came from: fresh, events (the
    # stored result with the workflow's events since, where they say all a call would),
    # refreshing (the same, older than the safety net: a call is under way), fetched,
    # coalesced, stale (Temporal busy or unreachable: the last good result) or record
    # (the projection, before any result was stored).
    as_of: datetime
    source: str
