"""Audit pages (admins only): search from the projection, per-request timeline.

Times are shown in the viewer's time zone: `?tz=Area/City` picks one and is
remembered in a cookie; without it, Django's current time zone
(settings.TIME_ZONE unless a middleware activated another) is used.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import evidence_pdf
from ..calendars import current_zone_key
from ..forms.audit import AuditSearchForm
from ..models import ExpenseRequest
from ..selectors import audit as audit_selectors
from ..selectors import timeline
from ..selectors.as_of import AsOf, as_of
from ..selectors.audit import audit_search
from ..selectors.evidence import evidence_of, evidence_zip

PAGE_SIZE = 25
TZ_COOKIE = "audit_tz"


def _require_auditor(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _viewer_zone(request: HttpRequest) -> tuple[str, str, bool]:
    """(zone name, error for the page, whether to remember it)."""
    default = request.COOKIES.get(TZ_COOKIE, "")
    if default not in _zones():
        default = current_zone_key()
    asked = request.GET.get("tz", "").strip()
    if not asked:
        return default, "", False
    if asked in _zones():
        return asked, "", True
    error = _("Unknown time zone “%(asked)s”; times are shown in %(zone)s.") % {
        "asked": asked[:64],
        "zone": default,
    }
    return default, error, False


def _with_zone(request: HttpRequest, render_in_zone) -> HttpResponse:
    zone, error, remember = _viewer_zone(request)
    with timezone.override(zone):
        response = render_in_zone(zone, error)
    if remember:
        response.set_cookie(TZ_COOKIE, zone, max_age=365 * 86400, samesite="Lax")
    return response


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)

    def page(zone: str, tz_error: str) -> HttpResponse:
        form = AuditSearchForm(request.GET)
        # Invalid filters show their errors and no rows, never a guess.
        qs = audit_search(**form.cleaned_data) if form.is_valid() else ExpenseRequest.objects.none()
        results = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "approvals/audit_list.html",
            {"form": form, "page": results, "time_zone": zone, "tz_error": tz_error},
        )

    return _with_zone(request, page)


@login_required
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    expense = get_object_or_404(ExpenseRequest.objects.select_related("requester"), pk=pk)

    def page(zone: str, tz_error: str) -> HttpResponse:
        built = timeline.build(expense)
        return render(
            request,
            "approvals/audit_detail.html",
            {
                "expense": expense,
                "timeline": built,
                "api_calls": audit_selectors.api_calls_of(expense),
                "time_zone": zone,
                "tz_error": tz_error,
                "as_of": _as_of(request, expense, built),
            },
        )

    return _with_zone(request, page)


def _as_of(request: HttpRequest, expense: ExpenseRequest, built) -> AsOf | None:
    """`?as_of=<event id>`: the request as it stood right after that history event."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        error = _("“%(value)s” is not an event number.") % {"value": raw[:20]}
        return AsOf(event_id=0, error=error)
    steps = sorted({e.event_id for e in built.entries if e.event_id})
    return as_of(expense, int(raw), steps)


@login_required
@require_GET
def audit_json(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    expense = get_object_or_404(ExpenseRequest, pk=pk)

    def download(zone: str, tz_error: str) -> HttpResponse:
        data = timeline.as_json(expense, timeline.build(expense))
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="expense-{pk}-timeline.json"'
        return response

    return _with_zone(request, download)


@login_required
@require_GET
def audit_evidence_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The evidence file (admins): the reader's language and time zone."""
    _require_auditor(request)
    expense = get_object_or_404(ExpenseRequest.objects.select_related("requester"), pk=pk)

    def download(zone: str, tz_error: str) -> HttpResponse:
        pdf = evidence_pdf.render(evidence_of(expense), reader=request.user.username)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="expense-{pk}-evidence.pdf"'
        return response

    return _with_zone(request, download)


@login_required
@require_GET
def audit_evidence_zip(request: HttpRequest, pk: int) -> HttpResponse:
    """For machines: the receipts, the JSON timeline and the audit chain with its hashes."""
    _require_auditor(request)
    expense = get_object_or_404(ExpenseRequest.objects.select_related("requester"), pk=pk)

    def download(zone: str, tz_error: str) -> HttpResponse:
        response = HttpResponse(evidence_zip(evidence_of(expense)), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="expense-{pk}-evidence.zip"'
        return response

    return _with_zone(request, download)
