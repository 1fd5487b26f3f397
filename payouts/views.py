"""Admin pages of the payout: batches, a batch's payments, its SEPA file; /ops/ retry.

Superusers only (403 otherwise), like /ops/ and /audit/.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from approvals.temporal.client import TemporalUnavailable

from . import selectors
from .labels import failure_text
from .services import PayoutError, payout_retry


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "payouts/batches.html", {"batches": selectors.batches()})


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    batch, payments = selectors.batch_detail(pk)
    failed = batch.outcome.get("failed", []) if batch.outcome else []
    return render(
        request,
        "payouts/batch_detail.html",
        {
            "batch": batch,
            "payments": [selectors.PaymentRow.of(p) for p in payments],
            "failed_at_file": [
                {"request_id": pk, "reason_text": failure_text(code)}
                for pk, code in failed
            ],
        },
    )


@login_required
@require_GET
def batch_file(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    batch, _payments = selectors.batch_detail(pk)
    if not batch.sepa_xml:
        raise Http404(_("This batch has no SEPA file (yet)."))
    response = HttpResponse(batch.sepa_xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.pk}.xml"'
    return response


@login_required
@require_POST
def payout_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """/ops/: start a fresh payout of a failed one (once its cause is mended)."""
    _require_admin(request)
    words = {
        "unknown": _("Request #%(id)s has no payout."),
        "not_failed": _("The payout of request #%(id)s has not failed; nothing to retry."),
        "running": _("The payout of request #%(id)s is running already."),
    }
    try:
        payout_retry(request_id=pk)
    except PayoutError as exc:
        messages.info(request, words.get(exc.code, exc.code) % {"id": pk})
    except TemporalUnavailable:
        messages.error(request, _("Temporal is unreachable; try again in a moment."))
    else:
        started = _("The payout of request #%(id)s was started again.")
        messages.success(request, started % {"id": pk})
    return redirect("ops")
