"""The approver inbox: one visibility query per page, rows from search attributes and memo.

No workflow query and no database query per row: a page costs one
`list_workflows` call (one ListWorkflowExecutions RPC) plus a constant number
of database queries (session, user, active delegations). Visibility lags a
little, so after a decision the row is dropped from the page at once and the
answer shown; the validator, not the list, decides what is allowed.

Ordering: the SQLite visibility store of `temporal server start-dev` refuses
`ORDER BY` ("operation is not supported"), and so do the SQL stores of a
standard server; only Elasticsearch visibility sorts by a custom attribute.
So pages come in the server's order (newest first) and each page is sorted
by `DecisionDueAt` here, in Python; overdue rows are marked.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from accounts import selectors as people
from accounts.models import User

from . import selectors, services
from .forms_inbox import BulkApproveForm, DecisionForm, InboxFilterForm
from .models import ExpenseRequest
from .selectors import InboxRow
from .temporal.client import TemporalUnavailable, call
from .temporal.shared import SA_DUE, SA_PENDING, SA_REQUESTER, ApprovalState, Status

PAGE_SIZE = 25
BULK_LIMIT = 100


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
    )


@dataclass
class LiveRow(InboxRow):
    """A pushed row also knows the level, so a stale click is refused as such."""

    level: int = 0


def new_decision_id() -> str:
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
    )


def sort_by_deadline(rows: list[InboxRow]) -> list[InboxRow]:
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (r.due_at is None, r.due_at or never, r.request_id))


async def fetch_inbox_page(
    client: Client, query: str, *, token: bytes | None, principals: set[str], username: str
) -> tuple[list[InboxRow], bytes | None]:
    """One ListWorkflowExecutions call; memo decoding is local (no RPC per row)."""
    iterator = client.list_workflows(query, page_size=PAGE_SIZE, next_page_token=token)
    await iterator.fetch_next_page()
    rows = []
    for execution in iterator.current_page or []:
        row = _row(execution, await execution.memo(), principals, username)
        if row is not None:
            rows.append(row)
    return sort_by_deadline(rows), iterator.next_page_token


def _page_salt(user: User, params) -> str:
    filters = "&".join(f"{k}={params.get(k, '')}" for k in ("min_amount", "max_amount", "overdue"))
    return f"inbox-page:{user.pk}:{filters}"


def _encode(token: bytes | None, *, salt: str) -> str:
    """The server's page token, signed: a forged or borrowed one never reaches Temporal
    (the dev server answers a garbled token with a retried internal error)."""
    if not token:
        return ""
    return signing.Signer(salt=salt).sign(base64.urlsafe_b64encode(token).decode())


def _decode(value: str, *, salt: str) -> bytes | None:
    """The page token, or None for the first page; raises BadSignature when not ours."""
    if not value:
        return None
    raw = signing.Signer(salt=salt).unsign(value)
    try:
        return base64.urlsafe_b64decode(raw.encode())
    except (binascii.Error, ValueError) as exc:
        raise signing.BadSignature(str(exc)) from exc


def _principals(user: User) -> list[str]:
    return [user.username, *people.delegators_for(delegate=user)]


def _cents(amount) -> int | None:
    return None if amount is None else int((amount * 100).to_integral_value())


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    principals = _principals(request.user)
    query = inbox_query(
        principals,
        me=request.user.username,
        min_cents=_cents(data.get("min_amount")),
        max_cents=_cents(data.get("max_amount")),
        overdue=bool(data.get("overdue")),
    )
    salt = _page_salt(request.user, data)
    try:
        token = _decode(data.get("page") or "", salt=salt)
    except signing.BadSignature:
        messages.info(request, _("That page link is not valid here; showing the first page."))
        token = None
    error = ""
    rows: list[InboxRow] = []
    next_token = None

    def fetch(page_token: bytes | None):
        return call(
            lambda client: fetch_inbox_page(
                client,
                query,
                token=page_token,
                principals=set(principals),
                username=request.user.username,
            )
        )

    try:
        try:
            rows, next_token = fetch(token)
        except RPCError as exc:
            if token is None or exc.status != RPCStatusCode.INVALID_ARGUMENT:
                raise
            # A page link from an older listing: start again at the first page.
            messages.info(request, _("That page link has expired; showing the first page."))
            token = None
            rows, next_token = fetch(None)
    except TemporalUnavailable:
        error = _(
            "The inbox cannot be loaded right now: the approval service is not reachable. "
            "Please try again in a moment."
        )
    except RPCError:
        error = _("The inbox could not be loaded. Please reload the page.")
    filtered = bool(data.get("overdue")) or any(
        data.get(k) is not None for k in ("min_amount", "max_amount")
    )
    params = request.GET.copy()
    params["page"] = _encode(next_token, salt=salt)
    first = request.GET.copy()
    first.pop("page", None)
    context = {
        "rows": rows,
        "filter_form": form,
        "error": error,
        "next_page": params.urlencode() if next_token else "",
        "first_page": first.urlencode() if token else None,
        # Live arrivals are added only to the unfiltered first page: a pushed row
        # may not match a filter, and belongs to page one by the server's order.
        "live_insert": not token and not filtered,
        "new_decision_id": new_decision_id,
    }
    template = "approvals/inbox.html"
    if request.htmx and request.headers.get("HX-Target") == "inbox-list":
        template += "#inbox-list"
    return render(request, template, context)


@login_required
@require_GET
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The navigation badge: one CountWorkflowExecutions call, optional (empty when down)."""
    query = inbox_query(_principals(request.user), me=request.user.username)

    async def count(client: Client) -> int:
        return (await client.count_workflows(query)).count

    try:
        number = call(count, timeout=2)
    except (TemporalUnavailable, RPCError, RuntimeError):
        number = None
    return render(request, "approvals/_inbox_count.html", {"count": number})


NOT_YOURS = gettext_noop("You cannot decide this request.")


def _success_message(action: str, state: ApprovalState) -> str:
    if action == "reject":
        return _("Rejected.")
    if action == "request_changes":
        return _("Changes requested.")
    if state.status == Status.APPROVED:
        return _("Approved: the request is fully approved.")
    if state.status == Status.PENDING and state.pending_approvers:
        return _("Approved: now waiting for %(who)s.") % {"who": ", ".join(state.pending_approvers)}
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
) -> tuple[bool, str]:
    """Send one decision Update; (ok, message for the user). Refusals change nothing.

    The validator is the authority, not the projection (which may lag behind a
    fresh escalation). Someone who may not see the request gets the same words
    whether it exists or not, so a forged POST learns nothing.
    """
    expense = ExpenseRequest.objects.select_related("requester").filter(pk=pk).first()
    if expense is None:
        return False, _(NOT_YOURS)
    visible = selectors.can_view(user=user, request=expense)
    try:
        state = services.decision_record(
            request=expense,
            actor=user,
            action=action,
            comment=comment,
            decision_id=decision_id or None,
            level=level,
            project=project,
        )
    except services.ServiceError as exc:
        return False, _(str(exc)) if visible else _(NOT_YOURS)
    return True, _success_message(action, state)


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve, reject or request changes on one request (an inbox row or the detail page).

    htmx gets 200 either way (htmx 2 does not swap error responses): a refusal
    lands in the row's message slot, a success replaces the whole row.
    """
    form = DecisionForm(request.POST)
    if not form.is_valid():
        ok, message = False, " ".join(e for errors in form.errors.values() for e in errors)
    else:
        data = form.cleaned_data
        ok, message = decide_one(
            user=request.user,
            pk=pk,
            action=data["action"],
            comment=data.get("comment") or "",
            decision_id=data.get("decision_id") or "",
            level=data.get("level") or 0,
            # Without htmx the answer is a redirect that may show the request:
            # project at once. With htmx the row is rendered from the answer.
            project=not request.htmx,
        )
    if request.htmx:
        response = render(
            request,
            "approvals/_decision_result.html",
            {"ok": ok, "message": message, "request_id": pk},
        )
        if ok and request.headers.get("HX-Target") == f"row-msg-{pk}":
            # Drop the row now; visibility may list it for a moment longer.
            retarget(response, f"#inbox-row-{pk}")
            reswap(response, "outerHTML")
        return response
    (messages.success if ok else messages.error)(request, f"#{pk}: {message}")
    return redirect(_safe_next(request) or "inbox")


@login_required
@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve the selected rows: one Update each, one result per row."""
    form = BulkApproveForm(request.POST, limit=BULK_LIMIT)
    results = []
    if form.is_valid():
        for pk in form.cleaned_data["request_ids"]:
            ok, message = decide_one(user=request.user, pk=pk, action="approve")
            results.append({"request_id": pk, "ok": ok, "message": message})
    error = " ".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:
        return render(request, "approvals/_bulk_result.html", {"results": results, "error": error})
    if error:
        messages.error(request, error)
    for r in results:
        (messages.success if r["ok"] else messages.error)(
            request, f"#{r['request_id']}: {r['message']}"
        )
    return redirect("inbox")


@login_required
@require_GET
def request_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The request's live approval state from the workflow (the `get_status` query).

    A fragment for the detail page and the inbox rows; it refreshes itself when
    a live event about this request arrives. When the workflow cannot be asked
    (not started yet, Temporal away, past retention) it says so and the page's
    own (projected) state stands.
    """
    expense = selectors.access_request(user=request.user, pk=pk)
    state = None
    if expense.workflow_started_at is not None:
        state = services.status_query_quietly(expense)
    level = None
    if state is not None and state.levels and 0 < state.current_level <= len(state.levels):
        level = state.levels[state.current_level - 1]
    names = set(state.pending_approvers) if state else set()
    people_by_name = {u.username: u.display_name for u in User.objects.filter(username__in=names)}
    context = {
        "expense": expense,
        "state": state,
        "level": level,
        "pending": [
            (n, people_by_name.get(n, n)) for n in (state.pending_approvers if state else [])
        ],
        "due_at": datetime.fromisoformat(state.due_at) if state and state.due_at else None,
    }
    return render(request, "approvals/_request_live.html", context)


__all__ = ["bulk_approve", "decide", "inbox", "inbox_count", "request_live", "row_from_event"]
