"""Pages of the payout: batches, a batch's payments, its SEPA file, bank changes waiting
for finance (/payouts/); /ops/ retries of a failed payout and of a batch left without file.

Superusers and the finance group see /payouts/ and its batches (403 otherwise); only a
finance member confirms a bank change, never their own; /ops/ actions are superusers'.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import bank_history, is_finance
from accounts.services import BankChangeError
from accounts.services import bank_change_confirm as bank_change_confirm_service
from approvals.temporal.client import TemporalUnavailable

from . import selectors
from .labels import failure_text
from .services import PayoutError, batch_close, batch_retry, payout_retry


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


def _require_payouts(request: HttpRequest) -> None:
    if not selectors.may_see_payouts(request.user):
        raise PermissionDenied


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    _require_payouts(request)
    context = {
        "batches": selectors.batches(),
        "changes": selectors.pending_bank_changes(request.user),
        "history": bank_history(limit=20),
    }
    return render(request, "payouts/batches.html", context)


CONFIRM_WORDS = {
    "unknown": _lazy("There is no such bank change."),
    "not_finance": _lazy("Only a member of the finance group may confirm bank changes."),
    "own_change": _lazy("You cannot confirm a change of your own bank details."),
    "not_pending": _lazy("This change is confirmed already or was replaced by a newer one."),
}


@login_required
@require_POST
def bank_change_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """A finance member confirms a bank change; the payments it held are scheduled again."""
    if not is_finance(request.user):
        raise PermissionDenied
    try:
        released = bank_change_confirm_service(change_id=pk, by=request.user)
    except BankChangeError as exc:
        messages.error(request, CONFIRM_WORDS.get(exc.code, exc.code))
    else:
        messages.success(
            request,
            ngettext(
                "The change is confirmed; %(count)d payment is scheduled again.",
                "The change is confirmed; %(count)d payments are scheduled again.",
                released,
            )
            % {"count": released},
        )
    return redirect("payout-batches")


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_payouts(request)
    batch, payments = selectors.batch_detail(pk)
    failed = batch.outcome.get("failed", []) if batch.outcome else []
    return render(
        request,
        "payouts/batch_detail.html",
        {
            "batch": batch,
            "payments": [selectors.PaymentRow.of(p) for p in payments],
            "failed_at_file": [
                {"request_id": pk, "reason_text": failure_text(code)} for pk, code in failed
            ],
        },
    )


@login_required
@require_GET
def batch_file(request: HttpRequest, pk: int) -> HttpResponse:
    _require_payouts(request)
    batch, _payments = selectors.batch_detail(pk)
    if not batch.sepa_xml:
        raise Http404(_("This batch has no SEPA file (yet)."))
    response = HttpResponse(batch.sepa_xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.pk}.xml"'
    return response


def _retry_from_ops(request: HttpRequest, pk: int, retry, words: dict, started: str):
    """Run `retry` for /ops/ and say how it went (a PayoutError's code picks its words)."""
    _require_admin(request)
    try:
        retry(pk)
    except PayoutError as exc:
        messages.info(request, words.get(exc.code, exc.code) % {"id": pk})
    except TemporalUnavailable:
        messages.error(request, _("Temporal is unreachable; try again in a moment."))
    else:
        messages.success(request, started % {"id": pk})
    return redirect("ops")


@login_required
@require_POST
def batch_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    """/payouts/: close the open batch now; its payout run writes the file and pays."""
    _require_admin(request)
    words = {
        "not_open": _("Batch #%(id)s is not the open batch; nothing to close."),
        "empty": _("Batch #%(id)s has no payment yet; nothing to close."),
        "running": _("A payout run for batch #%(id)s is running already."),
    }
    try:
        batch_close(batch_id=pk)
    except PayoutError as exc:
        messages.info(request, words.get(exc.code, exc.code) % {"id": pk})
    except TemporalUnavailable:
        messages.error(request, _("Temporal is unreachable; try again in a moment."))
    else:
        messages.success(
            request,
            _(
                "Batch #%(id)s is being closed: the payout run writes its SEPA file and pays "
                "its payments. This page shows the file once it is written."
            )
            % {"id": pk},
        )
    return redirect("payout-batches")


@login_required
@require_POST
def payout_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """/ops/: start a fresh payout of a failed one (once its cause is mended)."""
    words = {
        "unknown": _("Request #%(id)s has no payout."),
        "not_failed": _("The payout of request #%(id)s has not failed; nothing to retry."),
        "running": _("The payout of request #%(id)s is running already."),
    }
    started = _("The payout of request #%(id)s was started again.")
    return _retry_from_ops(request, pk, lambda p: payout_retry(request_id=p), words, started)


@login_required
@require_POST
def batch_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """/ops/: run the payout again for this very batch (left closed without its file)."""
    words = {
        "not_closed": _("Batch #%(id)s is not a closed batch of a payout run."),
        "written": _("The file of batch #%(id)s is written already; nothing to retry."),
        "running": _("A retry of batch #%(id)s is running already."),
    }
    started = _("The payout run of batch #%(id)s was started again.")
    return _retry_from_ops(request, pk, lambda p: batch_retry(batch_id=p), words, started)
