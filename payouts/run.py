"""The payout run's activities: close the open batch for a period, write its SEPA file.

Idempotent per period: a batch carries the period it was closed for (unique),
so a second run of the same period finds that batch again (a retry from /ops/
is such a run: it takes over the batch, naming itself as its run); the file step
stores its outcome (paid / failed at file time) with the file and a retry
returns it without writing another file.

One payee never stops the file: each is checked as pain.001.001.03 needs it
(IBAN and BIC by the XSD's own patterns, accounts/bank.py) before it is added, and
should the schema still refuse the file, each transfer is tried alone and the ones
refused alone are left out (failed, `sepa_refused`). Only what concerns the whole
file (the company's own account, a file refused though each transfer passes) fails
the step, non-retryably, with its cause kept on the batch for /ops/.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

from accounts.bank import SEPA_SCHEMA, bic_valid, iban_valid, normalise
from accounts.models import User
from approvals.models import ExpenseRequest

from .models import Batch, Payment
from .notify import tell_paid
from .remittance import remittance
from .steps import Permanent, audit, publish
from .workflow.contract import (
    Closed,
    CloseRequest,
    FailedPayment,
    Failure,
    FileResult,
    PayoutStatus,
    RunFailure,
)

log = logging.getLogger(__name__)


def close_batch(req: CloseRequest) -> Closed:
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(period=req.period).first()
        if batch is None:
            batch = Batch.objects.select_for_update().filter(status=Batch.Status.OPEN).first()
            if batch is None:
                return Closed(batch_id=None)
            batch.status, batch.closed_at = Batch.Status.CLOSED, timezone.now()
            batch.period, batch.run_id = req.period, req.run_id
            batch.save(update_fields=["status", "closed_at", "period", "run_id"])
        elif not batch.outcome and batch.run_id != req.run_id:
            # A retry of a batch left without its file: this run takes it over.
            batch.run_id, batch.error, batch.error_detail, batch.error_at = req.run_id, "", "", None
            batch.save(update_fields=["run_id", "error", "error_detail", "error_at"])
        ids = list(batch.payments.order_by("request_id").values_list("request_id", flat=True))
    return Closed(batch_id=batch.pk, request_ids=ids)


def _result(batch: Batch) -> FileResult:
    return FileResult(
        batch_id=batch.pk,
        paid=list(batch.outcome.get("paid", [])),
        failed=[FailedPayment(pk, reason) for pk, reason in batch.outcome.get("failed", [])],
    )


def _transfer() -> SepaTransfer:
    return SepaTransfer(
        {
            "name": settings.PAYOUT_COMPANY_NAME,
            "IBAN": normalise(settings.PAYOUT_COMPANY_IBAN),
            "BIC": normalise(settings.PAYOUT_COMPANY_BIC),
            "batch": True,
            "currency": "EUR",
        },
        schema=SEPA_SCHEMA,
    )


def _entry(payment: Payment, user: User | None, today, title: str = "") -> dict:
    """One transfer (a fresh dict each time: sepaxml rewrites the one it is given); its
    remittance text names the report (payouts/remittance.py)."""
    entry = {
        "name": (user.get_full_name() or user.username) if user else payment.requester,
        "IBAN": normalise(user.iban if user else ""),
        "amount": payment.amount_cents,
        "execution_date": today,
        "description": remittance(payment.request_id, title),
        "endtoend_id": f"EXP{payment.request_id}R{payment.round}",
    }
    if user and user.bic:
        entry["BIC"] = normalise(user.bic)
    return entry


def _payee_problem(user: User | None) -> str | None:
    iban = normalise(user.iban if user else "")
    if not iban:
        return Failure.NO_IBAN
    if not iban_valid(iban):
        return Failure.INVALID_IBAN
    if user.bic and not bic_valid(user.bic):
        return Failure.INVALID_BIC
    return None


def _export(entries: list[dict]) -> SepaTransfer:
    sepa = _transfer()
    for entry in entries:
        sepa.add_payment(dict(entry))
    sepa.xml = sepa.export(validate=True).decode()  # raises when not schema-valid
    return sepa


def _company_check() -> None:
    iban, bic = normalise(settings.PAYOUT_COMPANY_IBAN), normalise(settings.PAYOUT_COMPANY_BIC)
    if not iban_valid(iban) or (bic and not bic_valid(bic)):
        raise Permanent(RunFailure.COMPANY_ACCOUNT, iban=iban[-4:], bic=bic)


def record_error(batch_id: int, code: str, detail: str) -> None:
    """Keep why the file step failed on the batch (own transaction: the step rolled back)."""
    Batch.objects.filter(pk=batch_id, outcome={}).update(
        error=code[:40], error_detail=detail[:2000], error_at=timezone.now()
    )


def write_file(batch_id: int) -> FileResult:
    """pain.001 from the company account to each payee's IBAN as it is now, validated
    against the XSD shipped with sepaxml; a payee who cannot be paid (IBAN missing or
    invalid, BIC invalid, transfer refused by the schema) is left out (failed at file
    time), the others are marked paid. On hold payments are in no batch."""
    try:
        result = _write_file(batch_id)
    except Permanent as exc:
        record_error(batch_id, exc.code, f"{exc.code} {exc.params}")
        raise
    except Exception as exc:
        record_error(batch_id, RunFailure.UNAVAILABLE, f"{type(exc).__name__}: {exc}")
        raise
    tell_paid(result.paid)  # after the file is stored; a retry mails whoever is left
    return result


def _write_file(batch_id: int) -> FileResult:
    _company_check()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.outcome:
            return _result(batch)
        payments = list(
            batch.payments.select_for_update()
            .filter(status=PayoutStatus.SCHEDULED)
            .order_by("request_id")
        )
        people = {
            u.username: u for u in User.objects.filter(username__in=[p.requester for p in payments])
        }
        titles = dict(
            ExpenseRequest.objects.filter(pk__in=[p.request_id for p in payments]).values_list(
                "pk", "title"
            )
        )
        today = timezone.localdate()
        failed: list[list] = []
        candidates: list[tuple[Payment, dict]] = []
        for payment in payments:
            user = people.get(payment.requester)
            problem = _payee_problem(user)
            if problem is not None:
                failed.append([payment.request_id, problem])
            else:
                entry = _entry(payment, user, today, titles.get(payment.request_id, ""))
                candidates.append((payment, entry))
        sepa = None
        if candidates:
            try:
                sepa = _export([entry for _p, entry in candidates])
            except SepaValidationError:
                candidates, refused = _isolate(candidates)
                failed.extend([p.request_id, Failure.SEPA_REFUSED] for p in refused)
                if candidates:
                    try:
                        sepa = _export([entry for _p, entry in candidates])
                    except SepaValidationError as exc:
                        raise Permanent(RunFailure.SEPA_INVALID, error=str(exc)) from exc
        paid = [payment for payment, _entry_ in candidates]
        if sepa is not None:
            batch.sepa_xml, batch.message_id = sepa.xml, sepa.msg_id[:35]
        now = timezone.now()
        for payment, entry in candidates:
            payment.status, payment.paid_at, payment.iban = PayoutStatus.PAID, now, entry["IBAN"]
            payment.bic = entry.get("BIC", "")
            payment.save(update_fields=["status", "paid_at", "iban", "bic", "updated_at"])
            audit(
                payment.request_id,
                f"payout:{payment.round}:paid",
                "payout_paid",
                {"batch": batch.pk, "round": payment.round},
            )
            publish(payment.request_id)
        failed.sort()
        batch.outcome = {"paid": [p.request_id for p in paid], "failed": failed}
        batch.error, batch.error_detail, batch.error_at = "", "", None
        batch.save(
            update_fields=["sepa_xml", "message_id", "outcome", "error", "error_detail", "error_at"]
        )
    if failed:
        log.warning("payout batch %s: %d payee(s) left out: %s", batch_id, len(failed), failed)
    return _result(batch)


def _isolate(candidates: list[tuple[Payment, dict]]):
    """The transfers the schema takes alone, and the payments it refuses alone."""
    good, refused = [], []
    for payment, entry in candidates:
        try:
            _export([entry])
        except SepaValidationError:
            refused.append(payment)
        else:
            good.append((payment, entry))
    return good, refused
