"""The approver inbox pages: the list, the badge count, one decision, bulk approval.

Rows come from the visibility query of the page, spent only when something changed
(`selectors.inbox_results`: cached, coalesced, the last good result or the record
when throttled, never an error without rows); decisions go
through `services.decisions.decide_one`, whose refusals are already in the
user's language.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from accounts import stepup
from core.metrics import timed

from ..forms.inbox import BulkApproveForm, DecisionForm, InboxFilterForm
from ..models import ExpenseRequest
from ..selectors.flags import attach as attach_flags
from ..selectors.home import waiting_count
from ..selectors.inbox import (
    decode_page_token,
    encode_page_token,
    new_decision_id,
    page_salt,
    with_budget_left,
)
from ..selectors.inbox_results import Filters, PageExpired, inbox_result
from ..selectors.lines import attach_lines
from ..services import flags as spend_flags
from ..services.decisions import decide_one
from ..stepup import approval_needs_step_up, purpose
from ..stepup import reason as step_up_reason
from . import inbox_pages

BULK_LIMIT = 100
# The proof itself is never carried back into the prompt's form.
STEP_UP_FIELDS = ("password", "stepup_credential", "csrfmiddlewaretoken")


@timed("inbox")
@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    salt = page_salt(request.user, data)
    try:
        token = decode_page_token(data.get("page") or "", salt=salt)
    except signing.BadSignature:
        messages.info(request, _("That page link is not valid here; showing the first page."))
        token = None
    filters = Filters(
        min_amount=data.get("min_amount"),
        max_amount=data.get("max_amount"),
        overdue=bool(data.get("overdue")),
    )
    try:
        result = inbox_result(user=request.user, token=token, filters=filters)
    except PageExpired:
        # A page link from an older listing: start again at the first page.
        messages.info(request, _("That page link has expired; showing the first page."))
        token = None
        result = inbox_result(user=request.user, token=None, filters=filters)
    key = inbox_pages.page_key(request, result)
    reused = inbox_pages.served(request, key, result)
    if reused is not None:
        return reused
    with_budget_left(result.rows)
    attach_lines(result.rows)  # one query for the page's lines
    error = ""
    if result.unavailable:
        error = _(
            "The approval service is not reachable right now; these rows may be out of date. "
            "Please try again in a moment."
        )
    rows = attach_flags(result.rows)
    if data.get("flagged"):
        rows = [row for row in rows if row.flags]
    params = request.GET.copy()
    params["page"] = encode_page_token(result.next_token, salt=salt)
    first = request.GET.copy()
    first.pop("page", None)
    context = {
        "rows": rows,
        "result": result,
        "refresh_seconds": int(settings.INBOX_REFRESH_SECONDS),
        "refresh_query": request.GET.urlencode(),
        "filter_form": form,
        "error": error,
        "next_page": params.urlencode() if result.next_token else "",
        "first_page": first.urlencode() if token else None,
        # Live arrivals are added only to the unfiltered first page: a pushed row
        # may not match a filter, and belongs to page one by the server's order.
        "live_insert": not token and not filters.any and not data.get("flagged"),
        "new_decision_id": new_decision_id,
        # The badge's count with the principals the result already has (no second lookup).
        "inbox_waiting": lambda: waiting_count(request.user, principals=result.principals),
    }
    template = "approvals/inbox.html"
    if request.htmx and request.headers.get("HX-Target") == "inbox-list":
        template += "#inbox-list"
    response = render(request, template, context)
    inbox_pages.keep(request, result, response)
    return response


@login_required
@require_GET
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The navigation badge: one count query on the projection, never a visibility
    call (every signed-in page asks for it, on load and on every pushed event)."""
    return render(request, "approvals/_inbox_count.html", {"count": waiting_count(request.user)})


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


@timed("decide")
@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve, reject or request changes on one request (an inbox row or the detail page).

    htmx gets 200 either way (htmx 2 does not swap error responses): a refusal
    lands in the row's message slot, a success replaces the whole row.
    """
    form = DecisionForm(request.POST)
    notes: dict[int, str] = {}
    try:
        notes = spend_flags.notes_from(request.POST)
    except ValidationError as exc:
        form.is_valid()
        form.add_error(None, exc)
    if not form.is_valid():
        ok, message = False, " ".join(e for errors in form.errors.values() for e in errors)
    else:
        data = form.cleaned_data
        expense = ExpenseRequest.objects.filter(pk=pk).first()
        if approval_needs_step_up(expense, data["action"]):
            # Nothing is sent until the person confirms (accounts/stepup.py).
            prompt = stepup.check(request, purpose=purpose(expense), reason=step_up_reason())
            if prompt is not None:
                target = request.headers.get("HX-Target") if request.htmx else ""
                return stepup.render_prompt(
                    request,
                    prompt,
                    action=request.path,
                    carry={**request.POST.dict(), "action": data["action"]}
                    # Every ticked line, not only the last box (the form reads "1,3").
                    | {"reject_line": ",".join(map(str, form.line_numbers)) or None}
                    | dict.fromkeys(STEP_UP_FIELDS, None),
                    hx_target=f"#{target}" if target else "",
                )
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
            rejected_lines=form.rejected_lines,
        )
        if ok:  # "why this flagged line is fine" goes with the decision (DB side)
            spend_flags.note(request_id=pk, by=request.user, notes=notes)
    if request.htmx:
        response = render(
            request,
            "approvals/_decision_result.html",
            # line_errors: the reasons missing at each ticked line (the form stays as typed).
            {"ok": ok, "message": message, "request_id": pk, "line_errors": form.line_errors()},
        )
        if ok and request.headers.get("HX-Target") == f"row-msg-{pk}":
            # Drop the row now; visibility may list it for a moment longer.
            retarget(response, f"#inbox-row-{pk}")
            reswap(response, "outerHTML")
        return response
    (messages.success if ok else messages.error)(request, f"#{pk}: {message}")
    return redirect(_safe_next(request) or "inbox")


@timed("bulk_approve")
@login_required
@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve the selected rows: one Update each, one result per row."""
    form = BulkApproveForm(request.POST, limit=BULK_LIMIT)
    results = []
    if form.is_valid():
        for pk in form.cleaned_data["request_ids"]:
            expense = ExpenseRequest.objects.filter(pk=pk).first()
            if approval_needs_step_up(expense, "approve"):
                ok, message = (
                    False,
                    _("This one needs a second confirmation: approve it on its own."),
                )
            else:
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
