"""API operations on requests: mine (list, detail, submit), a request's live status,
and the Updates (decision, withdraw, resubmit, extend deadline).

Each operation is one service or selector call, like a view. `access_request`
decides who may see a request (404 otherwise, exactly as for a missing one);
the workflow's validator decides what is allowed (409 with its code and words).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from ninja import Path, Query, Router, Status

from accounts import stepup
from accounts.models import User

from .. import flag_labels, money, selectors, services
from ..amounts import plain_refusal_text
from ..forms.report import ReportForm, ResubmitReportForm
from ..forms.requests import ExpenseForm, ResubmitForm
from ..labels import ServiceCode, refusal_text
from ..models import ExpenseRequest
from ..selectors.lines import approved_total, lines_of
from ..services.decisions import LINE_REFUSALS
from ..stepup import api_refusal as step_up_api_refusal
from ..stepup import approval_needs_step_up
from ..temporal.starter import current_max_amount
from ..workflow.contract import ApprovalState, Refusal
from . import auth
from .lines import line_out, lines_in, submission_errors
from .schemas import (
    DecisionIn,
    ExtendIn,
    Message,
    Refused,
    RequestList,
    RequestOut,
    ResubmitIn,
    StatusName,
    SubmitIn,
    ValidationErrors,
    WithdrawIn,
)

router = Router(tags=["requests"])

# Every operation may answer these (ninja's own 400/401/422, our 403/429).
COMMON = {
    400: Message,
    401: Message,
    403: Message,
    422: ValidationErrors,
    429: Message,
}
ONE = {**COMMON, 404: Message}
UPDATE = {200: ApprovalState, **ONE, 409: Refused, 503: Refused}
PK = Path(..., ge=1, le=2**63 - 1, description="The request's number")


def _refused(exc: services.ServiceError):
    """A refusal in words (the caller's language: Accept-Language); 503 for an outage."""
    status = 503 if exc.code == ServiceCode.UNAVAILABLE else 409
    return Status(status, {"code": exc.code, "message": exc.message})


def _form_errors(form) -> Status:
    """A Django form's errors in ninja's 422 shape."""
    return Status(
        422,
        {
            "detail": [
                {
                    "loc": ["body", "payload", field],
                    "msg": str(message),
                    "type": error.code or "invalid",
                }
                for field, errors in form.errors.as_data().items()
                for error in errors
                for message in error.messages
            ]
        },
    )


def _amount_errors(value) -> Status | None:
    """422 in the form's shape if `value` is no amount at all (see `money.read_plain`)."""
    try:
        money.read_plain(value)
    except money.AmountRefused:
        loc = ["body", "payload", "amount"]
        return Status(422, {"detail": [{"loc": loc, "msg": plain_refusal_text(), "type": "plain"}]})
    return None


def _decimal(amount, currency: str) -> str:
    return f"{amount:.{money.exponent(currency)}f}"


def _lines_out(expense: ExpenseRequest) -> tuple[list[dict], dict]:
    """The lines as `line_out` gives them, with who rejected one at which level and the
    receipt's preview (issue 26), and the approved total (the open lines)."""
    lines = lines_of(expense)
    approved = approved_total(lines)
    out = [
        {
            **line_out(expense, line),
            "rejected_level": line.rejected_level,
            "rejected_by": line.rejected_by,
            "receipt_preview_url": reverse("line-receipt-preview", args=[expense.pk, line.position])
            if line.receipt
            else None,
        }
        for line in lines
    ]
    total = {
        "eur_cents": approved.eur_cents,
        "by_currency": {c: _decimal(a, c) for c, a in approved.by_currency.items()},
        "lines": approved.count,
    }
    return out, total


def request_out(expense: ExpenseRequest, *, steps: bool = False) -> dict:
    lines, approved = _lines_out(expense)
    return {
        "approved_total": approved,
        "id": expense.pk,
        "requester": expense.requester.username,
        "title": expense.title,
        "amount": f"{expense.amount:.2f}",
        "currency": expense.currency,
        "category": expense.category,
        "description": expense.description,
        "status": expense.status,
        "current_level": expense.current_level,
        "levels": expense.levels,
        "pending_approvers": list(expense.pending_approvers),
        "due_at": expense.due_at,
        "created_at": expense.created_at,
        "policy_version": expense.policy_version,
        "lines": lines,
        "flags": [flag_labels.worded(f) for f in expense.flags.all()],
        "steps": [
            {
                "level": s.level,
                "approvers": list(s.approvers),
                "status": s.status,
                "due_at": s.due_at,
                "decided_by": s.decided_by,
                "on_behalf_of": s.on_behalf_of,
                "decided_at": s.decided_at,
                "comment": s.comment,
                "kind": s.kind,
                "label": s.label,
            }
            for s in expense.steps.all()
        ]
        if steps
        else [],
    }


@router.get(
    "/requests", response={200: RequestList, **COMMON}, auth=auth.READ, url_name="api-requests"
)
def my_requests(
    request,
    status: StatusName | None = None,
    limit: int = Query(50, ge=1, le=100),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """My own requests, newest first (filter by status)."""
    qs = (
        selectors.requests_of(user=request.auth, status=status or "")
        .select_related("requester")
        .prefetch_related("lines", "flags")
    )
    return {"count": qs.count(), "items": [request_out(e) for e in qs[offset : offset + limit]]}


@router.post(
    "/requests",
    response={201: RequestOut, 200: RequestOut, **COMMON},
    auth=auth.SUBMIT,
    url_name="api-requests",
)
def submit(request, payload: SubmitIn):
    """Submit a report: `lines` (each with its date, merchant, category, amount, currency,
    VAT, description, attendees), or the flat `amount`, `currency`, `category` as a
    one-line report. The web form's validation and `submit_token`; receipts are the web
    form's. With a `submit_token`, a repeat answers 200 with the request the first call
    made."""
    user: User = request.auth
    lines = None
    if payload.lines is not None:
        lines, refused = lines_in(payload.lines, max_amount=current_max_amount())
        if refused:
            return refused
        form = ReportForm(
            {
                "title": payload.title,
                "description": payload.description,
                "submit_token": str(payload.submit_token or ""),
            }
        )
    else:
        if refused := _amount_errors(payload.amount):
            return refused
        form = ExpenseForm(
            {
                "title": payload.title,
                "amount": money.read_plain(payload.amount),  # the form bounds it, in its words
                "currency": payload.currency,
                "category": payload.category,
                "description": payload.description,
                "submit_token": str(payload.submit_token or ""),
            },
            max_amount=current_max_amount(),
        )
    if not form.is_valid():
        return _form_errors(form)
    data = form.cleaned_data
    token = data.get("submit_token")
    seen = token is not None and user.expense_requests.filter(submit_token=token).exists()
    try:
        if lines is not None:
            expense = services.expense_submit(
                requester=user,
                title=data["title"],
                description=data["description"],
                submit_token=token,
                lines=lines,
            )
        else:
            expense = services.expense_submit(
                requester=user,
                title=data["title"],
                amount=data["amount"],
                currency=data["currency"],
                category=data["category"],
                description=data["description"],
                submit_token=token,
            )
    except ValidationError as exc:  # no rate, or above the maximum once in EUR
        return submission_errors(form, exc)
    expense.refresh_from_db()
    return Status(200 if seen else 201, request_out(expense, steps=True))


@router.get(
    "/requests/{pk}", response={200: RequestOut, **ONE}, auth=auth.READ, url_name="api-request"
)
def request_detail(request, pk: int = PK):
    """A request I may see (mine, one I approve or decide for, any for admins)."""
    return request_out(selectors.access_request(user=request.auth, pk=pk), steps=True)


@router.get(
    "/requests/{pk}/status",
    response={200: ApprovalState, **ONE, 409: Refused, 503: Refused},
    auth=auth.READ,
    url_name="api-request-status",
)
def request_status(request, pk: int = PK):
    """The workflow's own state now (its `get_status` query), not the projection."""
    expense = selectors.access_request(user=request.auth, pk=pk)
    return _run(lambda: services.workflow_state(expense))


def _run(change):
    try:
        return change()
    except services.ServiceError as exc:
        return _refused(exc)


def _as_approver(user: User, pk: int, change):
    """An approver's Update (decision, extension): sent whenever the request exists, since
    the projection `can_view` reads may lag behind a fresh assignment or escalation and
    the workflow's validator is the authority. A refusal to someone who may not see the
    request is the same 404 as a missing request, so nothing leaks."""
    expense = ExpenseRequest.objects.select_related("requester").filter(pk=pk).first()
    if expense is None:
        raise Http404("No such request")
    visible = selectors.can_view(user=user, request=expense)
    try:
        return change(expense)
    except services.ServiceError as exc:
        if not visible:
            raise Http404("No such request") from exc
        return _refused(exc)


@router.post("/requests/{pk}/decision", response=UPDATE, auth=auth.DECIDE, url_name="api-decision")
def decide(request, payload: DecisionIn, pk: int = PK):
    """Approve, reject or request changes (a Workflow Update): the new state, or the
    validator's refusal (409). The same `decision_id` again is applied once.

    Approving more than STEP_UP_EUR is refused (403, in words) to personal access
    tokens, and to a browser session without a step-up or sign-in in the last
    STEP_UP_FRESH_SECONDS: a token is one factor that a script keeps."""
    expense = ExpenseRequest.objects.filter(pk=pk).first()
    if approval_needs_step_up(expense, payload.action) and (
        getattr(request, "api_token", None) is not None or not stepup.is_fresh(request)
    ):
        if not selectors.can_view(user=request.auth, request=expense):
            raise Http404("No such request")
        return Status(403, {"detail": step_up_api_refusal()})
    if refused := _line_errors(payload):
        return refused
    return _as_approver(
        request.auth,
        pk,
        lambda expense: _lines_unprocessable(
            lambda: services.decision_record(
                request=expense,
                actor=request.auth,
                action=payload.action,
                comment=payload.comment,
                decision_id=payload.decision_id or None,
                level=payload.level,
                override=payload.override,
                rejected_lines={r.line: r.reason for r in payload.rejected_lines},
            )
        ),
    )


def _line_error(index: int | None, field: str, message: str, kind: str) -> Status:
    loc = ["body", "payload", "rejected_lines"]
    if index is not None:
        loc += [index, field]
    return Status(422, {"detail": [{"loc": loc, "msg": str(message), "type": kind}]})


def _line_errors(payload: DecisionIn) -> Status | None:
    """422 in words for line rejections that cannot be sent: on a reject or a request for
    changes (those are about the whole report), a line twice, a reason missing."""
    if not payload.rejected_lines:
        return None
    if payload.action != "approve":
        code = Refusal.LINES_ONLY_WHEN_APPROVING
        return _line_error(None, "", refusal_text(code), code)
    seen: set[int] = set()
    for i, rejection in enumerate(payload.rejected_lines):
        if rejection.line in seen:
            words = refusal_text(Refusal.LINE_TWICE, {"line": rejection.line})
            return _line_error(i, "line", words, Refusal.LINE_TWICE)
        seen.add(rejection.line)
        if not rejection.reason.strip():
            words = refusal_text(Refusal.LINE_REASON_REQUIRED, {"line": rejection.line})
            return _line_error(i, "reason", words, Refusal.LINE_REASON_REQUIRED)
    return None


def _lines_unprocessable(change):
    """The workflow's refusals about single lines (no such line, rejected at an earlier
    level, ...) are the caller's input: 422 with the words; every other refusal as before."""
    try:
        return change()
    except services.ServiceError as exc:
        if exc.code in LINE_REFUSALS:
            return _line_error(None, "", exc.message, exc.code)
        raise


@router.post("/requests/{pk}/withdraw", response=UPDATE, auth=auth.SUBMIT, url_name="api-withdraw")
def withdraw(request, payload: WithdrawIn, pk: int = PK):
    """Withdraw my pending request."""
    expense = selectors.access_request(user=request.auth, pk=pk)
    return _run(
        lambda: services.expense_withdraw(
            request=expense, actor=request.auth, reason=payload.reason
        )
    )


@router.post("/requests/{pk}/resubmit", response=UPDATE, auth=auth.SUBMIT, url_name="api-resubmit")
def resubmit(request, payload: ResubmitIn, pk: int = PK):
    """Resubmit my request after changes were requested (the web form's validation):
    `lines`, the whole report again (a kept line names its `origin`, the position it had,
    and keeps its receipt), or the flat `amount` of a one-line report."""
    expense = selectors.access_request(user=request.auth, pk=pk)
    if payload.lines is not None:
        lines, refused = lines_in(payload.lines, max_amount=None)
        if refused:
            return refused
        form = ResubmitReportForm({"title": payload.title, "comment": payload.comment})
        if not form.is_valid():
            return _form_errors(form)
        try:
            return _run(
                lambda: services.expense_resubmit(
                    request=expense,
                    actor=request.auth,
                    title=form.cleaned_data["title"],
                    comment=form.cleaned_data["comment"],
                    lines=lines,
                )
            )
        except ValidationError as exc:
            return submission_errors(form, exc)
    if refused := _amount_errors(payload.amount):
        return refused
    form = ResubmitForm(
        {
            "title": payload.title,
            "amount": money.read_plain(payload.amount),
            "comment": payload.comment,
        },
        max_amount=services.max_amount_of(expense),
        currency=expense.currency,
    )
    if not form.is_valid():
        return _form_errors(form)
    try:
        return _run(
            lambda: services.expense_resubmit(
                request=expense,
                actor=request.auth,
                title=form.cleaned_data["title"],
                amount=form.cleaned_data["amount"],
                comment=form.cleaned_data["comment"],
            )
        )
    except ValidationError as exc:  # decimals the currency has not (the form says so first)
        form.add_error(None, exc)
        return _form_errors(form)


@router.post("/requests/{pk}/extend", response=UPDATE, auth=auth.DECIDE, url_name="api-extend")
def extend(request, payload: ExtendIn, pk: int = PK):
    """Extend the current level's deadline by `seconds` (its approver or an admin)."""
    return _as_approver(
        request.auth,
        pk,
        lambda expense: services.deadline_extend(
            request=expense, actor=request.auth, seconds=payload.seconds, reason=payload.reason
        ),
    )
