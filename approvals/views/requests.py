"""Employee pages: my requests, submit, detail (withdraw, resubmit).

Each page is one template whose swappable region is a named partial; an htmx
request gets just that partial. Invalid htmx posts answer 200 with the form
and its errors (htmx 2 does not swap 4xx answers); plain posts answer 400.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import selectors as people

from .. import ports, selectors, services
from ..forms import report
from ..forms.actions import ExtendForm, OverrideForm
from ..forms.amounts import AmountField
from ..forms.report import LineFormSet, ReportForm, ResubmitReportForm
from ..forms.requests import AMOUNT_CEILING, ExpenseForm, ResubmitForm, StatusFilterForm
from ..models import CURRENCIES, ExpenseRequest, RequestStatus
from ..policy.words import level_name
from ..selectors import chain
from ..selectors.flags import by_line, flags_of
from ..selectors.lines import approved_total, lines_of, report_total
from ..selectors.live import EVENT_LABELS, live_words
from ..temporal.starter import current_max_amount
from . import reports
from .receipts import file_response

# How a level's state and a history entry read on the page.
STEP_LABELS = {
    "waiting": gettext_lazy("waiting"),
    "pending": gettext_lazy("awaiting decision"),
    "approved": gettext_lazy("approved"),
    "rejected": gettext_lazy("rejected"),
    "changes_requested": gettext_lazy("changes requested"),
}


def _partial(request: HttpRequest) -> bool:
    # A history restore (back button after hx-push-url) needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


@login_required
@require_GET
@vary_on_headers("HX-Request")
def request_list(request: HttpRequest) -> HttpResponse:
    form = StatusFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = Paginator(selectors.requests_of(user=request.user, status=status), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "requests": page,
        "page_obj": page,
        "filter_form": form,
        "status": status,
    }
    template = "approvals/request_list.html"
    if _partial(request):
        template += "#request-table"
    return render(request, template, context)


def _report_forms(request: HttpRequest, data=None, files=None, *, max_amount=None):
    """The report form and its lines formset (one empty line when unbound)."""
    user_id = request.user.pk
    return ReportForm(data), LineFormSet(
        data, files, max_amount=max_amount, user_id=user_id, initial=None if data else [{}]
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def request_new(request: HttpRequest) -> HttpResponse:
    max_amount = current_max_amount()
    if request.method != "POST":
        template = "approvals/request_new.html"
        if _partial(request):
            template += "#expense-form"  # e.g. a fresh form after "submit another"
        form, lines = _report_forms(request, max_amount=max_amount)
        return render(request, template, {"form": form, "lines": lines})
    if f"{report.PREFIX}-TOTAL_FORMS" in request.POST:
        return _report_new(request, max_amount)
    # The flat fields (amount, currency, category): a one-line report, as before lines.
    form = ExpenseForm(request.POST, request.FILES, max_amount=max_amount)
    expense = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            expense = services.expense_submit(
                requester=request.user,
                title=data["title"],
                amount=data["amount"],
                currency=data["currency"],
                category=data["category"],
                description=data["description"],
                receipt=data.get("receipt"),
                submit_token=data.get("submit_token"),
            )
        except ValidationError as exc:
            # No rate for the currency, decimals it has not, above the limit in EUR:
            # keyed by field, so each message shows at its field.
            form.add_error(None, exc)
    if expense is None:
        context = {"form": form, "flat": True, "reattach": bool(request.FILES.get("receipt"))}
        return _form_again(request, context)
    return _submitted(request, expense)


def _form_again(request: HttpRequest, context: dict, *, status: int = 400) -> HttpResponse:
    if _partial(request):
        return render(request, "approvals/request_new.html#expense-form", context)
    return render(request, "approvals/request_new.html", context, status=status)


def _report_new(request: HttpRequest, max_amount) -> HttpResponse:
    """The report form: title, description and its lines (formset `lines`)."""
    data = request.POST.copy()  # mutable: receipts kept across a re-render are added
    choose_at_once = [f for f in request.FILES.getlist("receipts") if f]
    receipts_errors = reports.spread_receipts(request, data, choose_at_once)
    adding = "add_line" in data
    if adding:
        data = report.one_more_line(data)
    form, lines = _report_forms(request, data, request.FILES, max_amount=max_amount)
    expense = None
    valid = form.is_valid() & lines.is_valid()  # both, so every error shows at once
    if valid and not adding and not receipts_errors:
        cleaned = form.cleaned_data
        try:
            expense = services.expense_submit(
                requester=request.user,
                title=cleaned["title"],
                description=cleaned["description"],
                submit_token=cleaned.get("submit_token"),
                lines=lines.lines(),
            )
        except ValidationError as exc:
            reports.errors_at_lines(form, lines, exc)
    if expense is None:
        lines.stash_receipts()
        context = {
            "form": form,
            "lines": lines,
            "receipts_errors": receipts_errors,
            # "add line" and receipts spread into lines are no errors: 200.
        }
        clean = adding or (choose_at_once and not receipts_errors)
        return _form_again(request, context, status=200 if clean else 400)
    return _submitted(request, expense)


def _submitted(request: HttpRequest, expense: ExpenseRequest) -> HttpResponse:
    expense.refresh_from_db(fields=["workflow_started_at", "status"])
    if expense.workflow_started_at is None:
        messages.warning(
            request,
            _(
                "Your request #%(id)s was saved. The approval service is unreachable right "
                "now; your request will start automatically as soon as it is back. "
                "You do not need to submit it again."
            )
            % {"id": expense.pk},
        )
    else:
        messages.success(request, _("Your request #%(id)s was submitted.") % {"id": expense.pk})
    url = reverse("request-detail", args=[expense.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_GET
def amount_hint(request: HttpRequest) -> HttpResponse:
    """How the amount being typed is read (htmx, as the person types): the amount as
    understood, or the refusal the form would show. The limit is the form's to say."""
    amount_key, currency_key = "amount", "currency"
    if amount_key not in request.GET:  # a report line's: lines-<n>-amount, lines-<n>-currency
        line = next((k for k in request.GET if k.endswith("-amount")), None)
        if line:
            amount_key, currency_key = line, line.removesuffix("amount") + "currency"
    currency = request.GET.get(currency_key, "EUR")
    if currency not in dict(CURRENCIES):
        currency = "EUR"
    text = request.GET.get(amount_key, "")
    context = {"currency": currency}
    try:
        context["amount"] = AmountField(
            currency=currency, max_value=AMOUNT_CEILING, required=False
        ).clean(text)
    except ValidationError as exc:
        context["error"] = exc.messages[0]
    return render(request, "approvals/_amount_hint.html", context)


def _detail_context(
    request: HttpRequest, expense: ExpenseRequest, resubmit_form=None, **action_forms
) -> dict:
    user = request.user
    is_requester = expense.requester_id == user.pk
    principals = {user.username, *people.delegators_for(delegate=user)}
    steps = list(expense.steps.all())
    for step in steps:
        step.status_label = STEP_LABELS.get(step.status, step.status)
        step.level_name = level_name(step)
    pending = expense.status == RequestStatus.PENDING
    can_decide = not is_requester and pending and bool(principals & set(expense.pending_approvers))
    history = list(expense.audit.order_by("-at", "-pk")[:20])
    for entry in history:
        entry.label = EVENT_LABELS.get(entry.kind, entry.kind)
    stepper = chain.stepper(expense, steps)
    can_resubmit = is_requester and expense.status == RequestStatus.CHANGES_REQUESTED
    resubmit_lines = action_forms.pop("resubmit_lines", None)
    if resubmit_lines is None and can_resubmit:
        resubmit_lines = LineFormSet(
            initial=report.initial_lines(expense), max_amount=None, user_id=user.pk
        )
    lines = lines_of(expense)
    approved = approved_total(lines)
    budget_left_cents = None
    if pending:
        # As the inbox row says it: the cost centre's budget left once this is paid.
        left = ports.budgets_left([expense.requester.username])
        if expense.requester.username in left:
            budget_left_cents = left[expense.requester.username] - approved.eur_cents
    flags = flags_of(expense)
    flags_by_line = by_line(flags)
    for line in lines:  # each line shows its own flags; the report's (line 0) above them
        line.flags = flags_by_line.get(line.position, [])
    forms = {
        "extend_form": action_forms.get("extend_form") or ExtendForm(),
        "override_form": action_forms.get("override_form") or OverrideForm(),
        "resubmit_form": resubmit_form or ResubmitReportForm(initial={"title": expense.title}),
    }
    # Ids carry the level (and differ per form: extend and override both have a
    # `reason`), so a kept form of a level that moved on never clashes with the next.
    for name, form in forms.items():
        form.auto_id = f"{name.removesuffix('_form')}-{expense.current_level}-%s"
    return {
        "expense": expense,
        "steps": steps,
        "is_requester": is_requester,
        "can_withdraw": is_requester
        and expense.status in {RequestStatus.PENDING, RequestStatus.CHANGES_REQUESTED},
        "can_resubmit": can_resubmit,
        "resubmit_lines": resubmit_lines,
        "line_changes": None if is_requester else reports.line_changes(expense),
        "can_decide": can_decide,
        "decision_id": str(uuid.uuid4()),
        "payment": ports.payment_for(expense.pk),
        "stepper": stepper,
        "live": live_words(expense=expense, stepper=stepper, user=user),
        "policy": chain.pinned_policy(expense),
        # The workflow decides (extend_refusal, authority); these only choose what to offer.
        "can_extend": pending
        and not is_requester
        and expense.due_at is not None
        and (user.is_superuser or user.username in expense.pending_approvers),
        "can_override": pending and user.is_superuser and not is_requester and not can_decide,
        "own_request_admin": pending and user.is_superuser and is_requester,
        **forms,
        "history": history,
        "lines": lines,
        "lines_total": report_total(lines),
        "approved": approved,
        "budget_left_cents": budget_left_cents,
        # The per-line reject controls sit in the lines list; they belong to this form.
        "decide_form_id": f"decide-{expense.pk}-{expense.current_level}",
        "flags": flags,
        "report_flags": flags_by_line.get(0, []) if lines else flags,
        "flagged_lines": sorted(by_line(flags)) if can_decide else [],
    }


def _render_detail(
    request, expense, *, resubmit_form=None, status=200, **action_forms
) -> HttpResponse:
    context = _detail_context(request, expense, resubmit_form=resubmit_form, **action_forms)
    if _partial(request):
        return render(request, "approvals/request_detail.html#request-body", context)
    return render(request, "approvals/request_detail.html", context, status=status)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    expense = selectors.access_request(user=request.user, pk=pk)
    return _render_detail(request, expense)


def _own_request(request: HttpRequest, pk: int) -> ExpenseRequest:
    """404 for who may not see it; 403 for who may see it but is not the requester."""
    expense = selectors.access_request(user=request.user, pk=pk)
    if expense.requester_id != request.user.pk:
        raise PermissionDenied(_("Only the requester can change a request."))
    return expense


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _own_request(request, pk)
    try:
        services.expense_withdraw(request=expense, actor=request.user)
        messages.success(request, _("Your request was withdrawn."))
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    return _back_to_detail(request, pk)


@login_required
@require_POST
def request_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _own_request(request, pk)
    if f"{report.PREFIX}-TOTAL_FORMS" in request.POST:
        return _resubmit_report(request, expense)
    # The flat fields (title, amount): a one-line report's new amount, as before lines.
    form = ResubmitForm(
        request.POST, max_amount=services.max_amount_of(expense), currency=expense.currency
    )
    if form.is_valid():
        try:
            services.expense_resubmit(
                request=expense,
                actor=request.user,
                title=form.cleaned_data["title"],
                amount=form.cleaned_data["amount"],
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, _("Your changes were resubmitted."))
            return _back_to_detail(request, pk)
        except services.ServiceError as exc:  # the workflow's validator said no
            form.add_error(None, exc.message)
        except ValidationError as exc:  # e.g. decimals the currency does not have
            form.add_error(None, exc)
    expense.refresh_from_db()
    return _render_detail(request, expense, resubmit_form=form, status=400)


def _resubmit_report(request: HttpRequest, expense: ExpenseRequest) -> HttpResponse:
    """The resubmit form with the report's lines: edit, add, remove lines and receipts."""
    data = request.POST.copy()
    adding = "add_line" in data
    if adding:
        data = report.one_more_line(data)
    form = ResubmitReportForm(data)
    lines = LineFormSet(data, request.FILES, max_amount=None, user_id=request.user.pk)
    valid = form.is_valid() & lines.is_valid()
    if valid and not adding:
        try:
            services.expense_resubmit(
                request=expense,
                actor=request.user,
                title=form.cleaned_data["title"],
                comment=form.cleaned_data["comment"],
                lines=lines.lines(),
            )
            messages.success(request, _("Your changes were resubmitted."))
            return _back_to_detail(request, expense.pk)
        except services.ServiceError as exc:  # the workflow's validator said no
            form.add_error(None, exc.message)
        except ValidationError as exc:
            reports.errors_at_lines(form, lines, exc)
    lines.stash_receipts()
    expense.refresh_from_db()
    return _render_detail(
        request,
        expense,
        resubmit_form=form,
        resubmit_lines=lines,
        status=200 if adding else 400,
    )


def _back_to_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        expense = selectors.access_request(user=request.user, pk=pk)
        return _render_detail(request, expense)
    return redirect("request-detail", pk=pk)


@login_required
@require_GET
def request_receipt(request: HttpRequest, pk: int) -> FileResponse:
    """The receipt, to whoever may see the request (404 otherwise, as for the page);
    `?line=<n>` a line's own (1-based)."""
    expense = selectors.access_request(user=request.user, pk=pk)
    receipt, name = expense.receipt, f"receipt-{pk}"
    if "line" in request.GET:
        number = request.GET["line"]
        line = (
            expense.lines.filter(position=int(number)).first()
            if number.isdigit() and 0 < int(number) < 1000
            else None
        )
        if line is None:
            raise Http404("No such line")
        receipt, name = line.receipt, f"receipt-{pk}-{line.position}"
    if not receipt:
        raise Http404("No receipt")
    try:
        handle = receipt.open("rb")
    except FileNotFoundError as exc:
        raise Http404("No receipt") from exc
    suffix = Path(receipt.name).suffix.lower()
    return file_response(request, handle, as_attachment=True, filename=f"{name}{suffix}")
