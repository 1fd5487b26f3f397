"""The approver inbox: one visibility query per page, rows from search attributes and memo.

No workflow query and no database query per row. Visibility lags a little, so
after a decision the row is dropped from the page at once and the answer
shown; the validator, not the list, decides what is allowed.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from temporalio.client import Client

from accounts import selectors as people

from . import selectors, services
from .forms_inbox import DecisionForm, InboxFilterForm
from .models import ExpenseRequest
from .selectors import InboxRow
from .temporal.client import TemporalUnavailable, call
from .temporal.shared import SA_DUE, SA_PENDING, SA_REQUESTER

PAGE_SIZE = 25


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def inbox_query(principals: list[str], *, min_cents=None, max_cents=None, overdue=False) -> str:
    names = ", ".join(_quote(name) for name in principals)
    clauses = [f"PendingApprovers IN ({names})", "ExecutionStatus = 'Running'"]
    if min_cents is not None:
        clauses.append(f"AmountCents >= {int(min_cents)}")
    if max_cents is not None:
        clauses.append(f"AmountCents <= {int(max_cents)}")
    if overdue:
        now = datetime.now().astimezone().isoformat(timespec="seconds")
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


def row_from_event(event: dict, *, on_behalf_of: str = "") -> InboxRow:
    due = event.get("due_at")
    return InboxRow(
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
    )


async def fetch_inbox_page(
    client: Client, query: str, *, token: bytes | None, principals: set[str], username: str
) -> tuple[list[InboxRow], bytes | None]:
    iterator = client.list_workflows(query, page_size=PAGE_SIZE, next_page_token=token)
    await iterator.fetch_next_page()
    rows = []
    for execution in iterator.current_page or []:
        row = _row(execution, await execution.memo(), principals, username)
        if row is not None:
            rows.append(row)
    never = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.due_at is None, r.due_at or never, r.request_id))
    return rows, iterator.next_page_token


def _encode(token: bytes | None) -> str:
    return base64.urlsafe_b64encode(token).decode() if token else ""


def _decode(token: str) -> bytes | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        return None


def _principals(user) -> list[str]:
    return [user.username, *people.delegators_for(delegate=user)]


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    principals = _principals(request.user)
    query = inbox_query(
        principals,
        min_cents=int(data["min_amount"] * 100) if data.get("min_amount") is not None else None,
        max_cents=int(data["max_amount"] * 100) if data.get("max_amount") is not None else None,
        overdue=bool(data.get("overdue")),
    )
    token = _decode(data.get("page") or "")
    error = ""
    rows: list[InboxRow] = []
    next_token = None
    try:
        rows, next_token = call(
            lambda client: fetch_inbox_page(
                client,
                query,
                token=token,
                principals=set(principals),
                username=request.user.username,
            )
        )
    except TemporalUnavailable:
        error = _(
            "The inbox cannot be loaded right now: the approval service is not reachable. "
            "Please try again in a moment."
        )
    except Exception:  # noqa: BLE001 - e.g. a stale page token; show the first page instead
        error = _("The inbox could not be loaded. Please reload the page.")
    params = request.GET.copy()
    params["page"] = _encode(next_token)
    context = {
        "rows": rows,
        "filter_form": form,
        "error": error,
        "next_page": params.urlencode() if next_token else "",
        "new_decision_id": lambda: str(uuid.uuid4()),
    }
    template = "approvals/inbox.html"
    if request.htmx and request.headers.get("HX-Target") == "inbox-list":
        template += "#inbox-list"
    return render(request, template, context)


@login_required
@require_GET
def inbox_count(request: HttpRequest) -> HttpResponse:
    query = inbox_query(_principals(request.user))

    async def count(client: Client) -> int:
        return (await client.count_workflows(query)).count

    try:
        number = call(count, timeout=2)
    except Exception:  # noqa: BLE001 - the badge is optional
        number = None
    return render(request, "approvals/_inbox_count.html", {"count": number})


def _decide_one(request: HttpRequest, pk: int, data: dict) -> tuple[bool, str]:
    try:
        expense = selectors.access_request(user=request.user, pk=pk)
    except Exception:  # noqa: BLE001 - Http404: the same answer as a refusal, no leak
        return False, _("You cannot decide this request.")
    try:
        services.decision_record(
            request=expense,
            actor=request.user,
            action=data["action"],
            comment=data.get("comment") or "",
            decision_id=data.get("decision_id") or None,
            level=data.get("level") or 0,
            override=bool(data.get("override")),
        )
    except services.ServiceError as exc:
        return False, str(exc)
    labels = {
        "approve": _("Approved"),
        "reject": _("Rejected"),
        "request_changes": _("Changes requested"),
    }
    return True, labels[data["action"]]


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        message = "; ".join(e for errors in form.errors.values() for e in errors)
        ok = False
    else:
        ok, message = _decide_one(request, pk, form.cleaned_data)
    if request.htmx:
        return render(
            request,
            "approvals/_decision_result.html",
            {"ok": ok, "message": message, "request_id": pk},
            status=200,
        )
    (messages.success if ok else messages.error)(request, f"#{pk}: {message}")
    next_url = request.POST.get("next", "")
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme

    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("inbox")


@login_required
@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    results = []
    raw_ids = request.POST.getlist("request_ids")[:100]
    for raw in raw_ids:
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            results.append({"request_id": raw, "ok": False, "message": _("Not a request.")})
            continue
        ok, message = _decide_one(request, pk, {"action": "approve", "decision_id": None})
        results.append({"request_id": pk, "ok": ok, "message": message})
    if not raw_ids:
        messages.info(request, _("Select at least one request."))
    template = "approvals/_bulk_result.html"
    if request.htmx:
        return render(request, template, {"results": results})
    for r in results:
        (messages.success if r["ok"] else messages.error)(
            request, f"#{r['request_id']}: {r['message']}"
        )
    from django.shortcuts import redirect

    return redirect("inbox")


__all__ = ["ExpenseRequest", "inbox", "row_from_event"]
