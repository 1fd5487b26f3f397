"""Employee pages: my requests, submit, detail (withdraw, resubmit), and /healthz."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as people

from . import selectors, services
from .forms import ExpenseForm, ResubmitForm, StatusFilterForm
from .models import ApprovalPolicy, RequestStatus


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("requests")


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    form = StatusFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    context = {
        "requests": selectors.requests_of(user=request.user, status=status),
        "filter_form": form,
        "status": status,
        "statuses": RequestStatus.choices,
    }
    if request.htmx:
        return render(request, "approvals/request_list.html#request-table", context)
    return render(request, "approvals/request_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    max_amount = ApprovalPolicy.current().max_amount
    form = ExpenseForm(request.POST or None, request.FILES or None, max_amount=max_amount)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expense = services.expense_submit(
            requester=request.user,
            title=data["title"],
            amount=data["amount"],
            currency=data["currency"],
            category=data["category"],
            description=data["description"],
            receipt=data.get("receipt"),
        )
        expense.refresh_from_db()
        if expense.workflow_started_at is None:
            messages.warning(
                request,
                _(
                    "Your request was saved. The approval service is unreachable right now; "
                    "your request will start automatically as soon as it is back."
                ),
            )
        else:
            messages.success(request, _("Your request was submitted."))
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = expense_url(expense.pk)
            return response
        return redirect("request-detail", pk=expense.pk)
    template = "approvals/request_new.html"
    if request.htmx and request.method == "POST":
        template += "#expense-form"
    return render(request, template, {"form": form}, status=400 if form.is_bound else 200)


def expense_url(pk: int) -> str:
    from django.urls import reverse

    return reverse("request-detail", args=[pk])


def _detail_context(request: HttpRequest, expense, resubmit_form=None) -> dict:
    steps = list(expense.steps.all())
    is_requester = expense.requester_id == request.user.pk
    return {
        "expense": expense,
        "steps": steps,
        "is_requester": is_requester,
        "can_withdraw": is_requester and expense.status in {"pending", "changes_requested"},
        "can_resubmit": is_requester and expense.status == "changes_requested",
        "can_decide": (
            not is_requester
            and expense.status == "pending"
            and (
                request.user.username in expense.pending_approvers
                or bool(
                    set(expense.pending_approvers)
                    & set(people.delegators_for(delegate=request.user))
                )
            )
        ),
        "decision_id": str(uuid.uuid4()),
        "resubmit_form": resubmit_form
        or ResubmitForm(initial={"title": expense.title, "amount": expense.amount}),
        "history": list(expense.audit.all()[:50]),
    }


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    expense = selectors.access_request(user=request.user, pk=pk)
    context = _detail_context(request, expense)
    if request.htmx:
        return render(request, "approvals/request_detail.html#request-body", context)
    return render(request, "approvals/request_detail.html", context)


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    expense = selectors.access_request(user=request.user, pk=pk)
    reason = request.POST.get("reason", "")[:2000]
    try:
        services.expense_withdraw(request=expense, actor=request.user, reason=reason)
        messages.success(request, _("Your request was withdrawn."))
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    return _back_to_detail(request, pk)


@login_required
@require_POST
def request_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    expense = selectors.access_request(user=request.user, pk=pk)
    form = ResubmitForm(request.POST)
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
        except services.ServiceError as exc:
            form.add_error(None, str(exc))
    expense.refresh_from_db()
    context = _detail_context(request, expense, resubmit_form=form)
    template = "approvals/request_detail.html"
    if request.htmx:
        template += "#request-body"
    return render(request, template, context, status=400)


def _back_to_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        expense = selectors.access_request(user=request.user, pk=pk)
        return render(
            request, "approvals/request_detail.html#request-body", _detail_context(request, expense)
        )
    return redirect("request-detail", pk=pk)
