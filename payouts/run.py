"""The payout run's activities: close the open batch for a period, write its SEPA file.

Idempotent per period: a batch carries the period it was closed for (unique),
so a second run of the same period finds that batch again; the file step
stores its outcome (paid / failed at file time) with the file and a retry
returns it without writing another file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from sepaxml import SepaTransfer

from accounts.bank import iban_valid, normalise
from accounts.models import User
from approvals.workflow.payout_contract import (
    Closed,
    CloseRequest,
    FailedPayment,
    Failure,
    FileResult,
    PayoutStatus,
)

from .models import Batch, Payment
from .steps import audit, publish

SEPA_SCHEMA = "pain.001.001.03"


def close_batch(req: CloseRequest) -> Closed:
    with transaction.atomic():
        batch = Batch.objects.filter(period=req.period).first()
        if batch is None:
            batch = Batch.objects.select_for_update().filter(status=Batch.Status.OPEN).first()
            if batch is None:
                return Closed(batch_id=None)
            batch.status, batch.closed_at = Batch.Status.CLOSED, timezone.now()
            batch.period, batch.run_id = req.period, req.run_id
            batch.save(update_fields=["status", "closed_at", "period", "run_id"])
        ids = list(batch.payments.order_by("request_id").values_list("request_id", flat=True))
    return Closed(batch_id=batch.pk, request_ids=ids)


def _result(batch: Batch) -> FileResult:
    return FileResult(
        batch_id=batch.pk,
        paid=list(batch.outcome.get("paid", [])),
        failed=[FailedPayment(pk, reason) for pk, reason in batch.outcome.get("failed", [])],
    )


def write_file(batch_id: int) -> FileResult:
    """pain.001 from the company account to each payee's IBAN as it is now, validated
    against the XSD shipped with sepaxml; a payee whose IBAN is missing or invalid now
    is left out (failed at file time), the others are marked paid."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.outcome:
            return _result(batch)
        payments = list(batch.payments.filter(status=PayoutStatus.SCHEDULED).order_by("request_id"))
        people = {
            u.username: u for u in User.objects.filter(username__in=[p.requester for p in payments])
        }
        sepa = SepaTransfer(
            {
                "name": settings.PAYOUT_COMPANY_NAME,
                "IBAN": normalise(settings.PAYOUT_COMPANY_IBAN),
                "BIC": normalise(settings.PAYOUT_COMPANY_BIC),
                "batch": True,
                "currency": "EUR",
            },
            schema=SEPA_SCHEMA,
        )
        paid: list[Payment] = []
        failed: list[list] = []
        today = timezone.localdate()
        for payment in payments:
            user = people.get(payment.requester)
            iban = normalise(user.iban if user else "")
            if not iban_valid(iban):
                failed.append(
                    [payment.request_id, Failure.INVALID_IBAN if iban else Failure.NO_IBAN]
                )
                continue
            entry = {
                "name": (user.get_full_name() or user.username) if user else payment.requester,
                "IBAN": iban,
                "amount": payment.amount_cents,
                "execution_date": today,
                "description": f"Expense request {payment.request_id}",
                "endtoend_id": f"EXP{payment.request_id}R{payment.round}",
            }
            if user and user.bic:
                entry["BIC"] = normalise(user.bic)
            sepa.add_payment(entry)
            payment.iban = iban
            paid.append(payment)
        if paid:
            batch.sepa_xml = sepa.export(validate=True).decode()  # raises when not schema-valid
            batch.message_id = sepa.msg_id[:35]
        now = timezone.now()
        for payment in paid:
            payment.status, payment.paid_at = PayoutStatus.PAID, now
            payment.save(update_fields=["status", "paid_at", "iban", "updated_at"])
            audit(
                payment.request_id,
                f"payout:{payment.round}:paid",
                "payout_paid",
                {"batch": batch.pk, "round": payment.round},
            )
            publish(payment.request_id)
        batch.outcome = {"paid": [p.request_id for p in paid], "failed": failed}
        batch.save(update_fields=["sepa_xml", "message_id", "outcome"])
    return _result(batch)
