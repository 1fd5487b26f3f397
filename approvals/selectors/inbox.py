"""The approver inbox: one visibility query per page, rows from search attributes and memo.

No workflow query and no database query per row: a page costs at most one
ListWorkflowExecutions RPC (through the visibility budget, temporal/visibility.py)
plus a constant number of database queries (session, user, active delegations).
When that call is made, and what is served instead, is `inbox_results.py`'s job. Visibility lags a
little, so after a decision the row is dropped from the page at once and the
answer shown; the validator, not the list, decides what is allowed.

Ordering: Elasticsearch visibility (deploy/compose.yaml) sorts by a custom
attribute, so there the query asks for `ORDER BY DecisionDueAt` and the order
holds across pages. The SQLite store of `temporal server start-dev` and the SQL
stores of a standard server refuse `ORDER BY` (InvalidArgument): the first
refusal is logged and remembered for the life of the process, and from then on
pages come in the server's order (newest first), each sorted by
`DecisionDueAt` here, in Python. Overdue rows are marked either way.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from accounts import selectors as people
from accounts.models import User

from .. import money, ports
from ..templatetags.amounts import eur_cents as eur_cents_filter
from ..templatetags.amounts import money as money_filter
from ..temporal import visibility
from ..temporal.visibility import Priority
from ..workflow.contract import SA_DUE, SA_PENDING, SA_REQUESTER, eur_cents_of
from .requests import request_url

PAGE_SIZE = 25
ORDER_BY_DUE = " ORDER BY DecisionDueAt ASC"
log = logging.getLogger(__name__)
# None: not known yet; then whether this server's visibility store accepts ORDER BY.
_server_sorts: bool | None = None


def server_sorts() -> bool | None:
    return _server_sorts


def reset_server_sorts() -> None:
    """Forget what the server said (tests pointing at another server)."""
    global _server_sorts
    _server_sorts = None


@dataclass
class InboxRow:
    request_id: int
    title: str
    requester_display: str
    requester: str
    amount_cents: int
    currency: str
    submitted_at: str
    due_at: datetime | None
    pending: list[str]
    on_behalf_of: str = ""
    # Pinned at submission (memo): the amount in EUR cents, the rate, the rate's date.
    base_amount_cents: int = 0
    fx_rate: str = ""
    fx_rate_date: str = ""
    # EUR cents left on the requester's cost-centre budget after this request (None: none).
    budget_left_cents: int | None = None

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < timezone.now()

    @property
    def amount(self) -> Decimal:
        """In the currency's units: amount_cents is in its minor unit (none for JPY)."""
        return money.from_minor(self.amount_cents, self.currency)

    @property
    def converted(self) -> bool:
        """Show the EUR amount and the rate: only for another currency, when pinned."""
        return self.currency != money.BASE_CURRENCY and bool(self.base_amount_cents)

    @property
    def rate(self) -> Decimal | None:
        try:
            return Decimal(self.fx_rate) if self.fx_rate else None
        except InvalidOperation:
            return None

    @property
    def rate_day(self) -> date | None:
        try:
            return date.fromisoformat(self.fx_rate_date) if self.fx_rate_date else None
        except ValueError:
            return None

    # Pre-formatted for the row template (computed once, on first use): the
    # template engine's filters (`money`, `date`) are a measurable part of a page
    # of rows (bench/render.py, BENCHMARKS.md).
    @cached_property
    def amount_text(self) -> str:
        return money_filter(self.amount, self.currency)

    @cached_property
    def budget_left_text(self) -> str:
        return eur_cents_filter(self.budget_left_cents)

    @cached_property
    def due_iso(self) -> str:
        return timezone.localtime(self.due_at).isoformat() if self.due_at else ""

    @cached_property
    def due_text(self) -> str:
        if self.due_at is None:
            return ""
        return date_format(timezone.localtime(self.due_at), "SHORT_DATETIME_FORMAT")

    # URLs by string formatting from one reverse() each: the inbox renders many
    # rows, and reversing per row was a measurable part of the page (BENCHMARKS.md).
    @property
    def detail_url(self) -> str:
        return request_url("request-detail", self.request_id)

    @property
    def decide_url(self) -> str:
        return request_url("request-decide", self.request_id)

    @property
    def live_url(self) -> str:
        return request_url("request-live", self.request_id)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def inbox_query(
    principals: list[str],
    *,
    me: str = "",
    min_cents: int | None = None,
    max_cents: int | None = None,
    overdue: bool = False,
) -> str:
    """The visibility query for the levels `principals` may decide (me + my delegators)."""
    names = ", ".join(_quote(name) for name in principals)
    clauses = [f"PendingApprovers IN ({names})", "ExecutionStatus = 'Running'"]
    if me:
        # A delegate never sees their own request, even when it waits on their delegator.
        clauses.append(f"Requester != {_quote(me)}")
    if min_cents is not None:
        clauses.append(f"AmountCents >= {int(min_cents)}")
    if max_cents is not None:
        clauses.append(f"AmountCents <= {int(max_cents)}")
    if overdue:
        now = timezone.now().isoformat(timespec="seconds")
        clauses.append(f"DecisionDueAt < {_quote(now)}")
    return " AND ".join(clauses)


def _row(execution, memo: dict, principals: set[str], username: str) -> InboxRow | None:
    attrs = execution.typed_search_attributes
    pending = list(attrs.get(SA_PENDING) or [])
    try:
        request_id = int(execution.id.removeprefix("expense-"))
    except ValueError:
        return None
    mine = [p for p in pending if p in principals]
    return InboxRow(
        request_id=request_id,
        title=str(memo.get("title", "")),
        requester_display=str(memo.get("requester_display", "")),
        requester=attrs.get(SA_REQUESTER) or "",
        amount_cents=int(memo.get("amount_cents", 0)),
        currency=str(memo.get("currency", "")),
        submitted_at=str(memo.get("submitted_at", "")),
        due_at=attrs.get(SA_DUE),
        pending=pending,
        on_behalf_of="" if username in mine or not mine else mine[0],
        **_fx(memo),
    )


def _fx(source: dict) -> dict:
    """The pinned conversion from a memo or a live event (absent: submitted before rates)."""
    try:
        base = int(source.get("base_amount_cents") or 0)
    except (TypeError, ValueError):
        base = 0
    return {
        "base_amount_cents": base,
        "fx_rate": str(source.get("fx_rate") or ""),
        "fx_rate_date": str(source.get("fx_rate_date") or ""),
    }


@dataclass
class LiveRow(InboxRow):
    """A pushed row also knows the level, so a stale click is refused as such."""

    level: int = 0


def new_decision_id() -> str:
    """A fresh id for a decision form: a double click or a retried POST applies once."""
    return str(uuid.uuid4())


def row_from_event(event: dict, *, on_behalf_of: str = "") -> LiveRow:
    """An inbox row from a live `request.changed` event (the consumer pushes it)."""
    due = event.get("due_at")
    return LiveRow(
        request_id=event["request_id"],
        title=event.get("title", ""),
        requester_display=event.get("requester_display", ""),
        requester=event.get("requester", ""),
        amount_cents=event.get("amount_cents", 0),
        currency=event.get("currency", ""),
        submitted_at=event.get("submitted_at", ""),
        due_at=datetime.fromisoformat(due) if due else None,
        pending=list(event.get("pending", [])),
        on_behalf_of=on_behalf_of,
        level=int(event.get("current_level") or 0),
        **_fx(event),
    )


def sort_by_deadline(rows: list[InboxRow]) -> list[InboxRow]:
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (r.due_at is None, r.due_at or never, r.request_id))


def fetch_inbox_page(
    query: str,
    *,
    token: bytes | None,
    principals: set[str],
    username: str,
    priority: Priority = Priority.INBOX,
) -> tuple[list[InboxRow], bytes | None]:
    """One ListWorkflowExecutions call through the visibility budget (two, once per
    process, to learn whether the server sorts); memo decoding is local (no RPC per
    row). Raises Throttled, TemporalUnavailable or RPCError."""
    global _server_sorts

    async def rows_of(client: Client, executions: list) -> list[InboxRow]:
        rows = []
        for execution, memo in zip(executions, await _memos(client, executions), strict=True):
            row = _row(execution, memo, principals, username)
            if row is not None:
                rows.append(row)
        return rows

    def page(q: str) -> tuple[list[InboxRow], bytes | None]:
        return visibility.list_page(
            q, page_size=PAGE_SIZE, token=token, priority=priority, then=rows_of
        )

    if _server_sorts is not False:
        try:
            rows, next_token = page(query + ORDER_BY_DUE)
        except RPCError as exc:
            if exc.status != RPCStatusCode.INVALID_ARGUMENT or _server_sorts:
                raise
            _server_sorts = False
            log.info(
                "visibility store refuses ORDER BY (%s): the inbox sorts each page by "
                "DecisionDueAt itself from now on",
                exc.message,
            )
        else:
            _server_sorts = True
            return rows, next_token
    rows, next_token = page(query)
    return sort_by_deadline(rows), next_token


async def _memos(client: Client, executions: list) -> list[dict]:
    """Every row's memo, as `execution.memo()` decodes it, in one call of the data
    converter for the page (memo() makes one per field: 200 for a page of 25)."""
    fields = [
        (i, key, payload)
        for i, e in enumerate(executions)
        for key, payload in e.raw_info.memo.fields.items()
    ]
    values = await client.data_converter.decode([p for _, _, p in fields]) if fields else []
    memos: list[dict] = [{} for _ in executions]
    for (i, key, _), value in zip(fields, values, strict=True):
        memos[i][key] = value
    return memos


def page_salt(user: User, params) -> str:
    filters = "&".join(f"{k}={params.get(k, '')}" for k in ("min_amount", "max_amount", "overdue"))
    return f"inbox-page:{user.pk}:{filters}"


def encode_page_token(token: bytes | None, *, salt: str) -> str:
    """The server's page token, signed: a forged or borrowed one never reaches Temporal
    (the dev server answers a garbled token with a retried internal error)."""
    if not token:
        return ""
    return signing.Signer(salt=salt).sign(base64.urlsafe_b64encode(token).decode())


def decode_page_token(value: str, *, salt: str) -> bytes | None:
    """The page token, or None for the first page; raises BadSignature when not ours."""
    if not value:
        return None
    raw = signing.Signer(salt=salt).unsign(value)
    try:
        return base64.urlsafe_b64decode(raw.encode())
    except (binascii.Error, ValueError) as exc:
        raise signing.BadSignature(str(exc)) from exc


def principals_of(user: User) -> list[str]:
    return [user.username, *people.delegators_for(delegate=user)]


def eur_cents(amount: Decimal | None) -> int | None:
    """A filter's amount in EUR cents: AmountCents is in the base currency."""
    return None if amount is None else money.to_minor(amount, money.BASE_CURRENCY)


def with_budget_left(rows: list[InboxRow]) -> list[InboxRow]:
    """Each row's budget left after it (two queries for the page, none per row)."""
    left = ports.budgets_left(sorted({row.requester for row in rows}))
    for row in rows:
        if row.requester in left:
            row.budget_left_cents = left[row.requester] - eur_cents_of(row)
    return rows
