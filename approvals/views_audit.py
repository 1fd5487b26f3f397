"""Audit pages (admins only): search from the projection, per-request timeline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import timeline
from .models import ExpenseRequest


def _require_auditor(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    qs = ExpenseRequest.objects.select_related("requester").order_by("-created_at", "-pk")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "approvals/audit_list.html", {"page": page})


@login_required
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    expense = get_object_or_404(ExpenseRequest, pk=pk)
    result = timeline.build(expense)
    return render(request, "approvals/audit_detail.html", {"expense": expense, "timeline": result})


@login_required
@require_GET
def audit_json(request: HttpRequest, pk: int) -> JsonResponse:
    _require_auditor(request)
    expense = get_object_or_404(ExpenseRequest, pk=pk)
    result = timeline.build(expense)
    response = JsonResponse(timeline.as_json(expense, result), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="expense-{pk}-timeline.json"'
    return response
