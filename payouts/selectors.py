"""Payout reads: a request's payment, the batches (admins), failed payouts (/ops/), budgets."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.shortcuts import get_object_or_404

from accounts.models import User
from approvals.workflow.payout_contract import PayoutStatus

from .labels import failure_text, status_text
from .models import Batch, Payment, Reservation


@dataclass
class PaymentView:
    status: str  # a PayoutStatus code (data-testid="payment-status" shows it)
    label: str
    reason: str = ""
    reason_text: str = ""


def payment_view(payment: Payment | None) -> PaymentView | None:
    if payment is None:
        return None
    return PaymentView(
        status=payment.status,
        label=status_text(payment.status),
        reason=payment.reason,
        reason_text=failure_text(payment.reason) if payment.reason else "",
    )


def payment_for(request_id: int) -> PaymentView | None:
    return payment_view(Payment.objects.filter(request_id=request_id).first())


def batches():
    return Batch.objects.annotate(
        count=Count("payments"),
        total=Sum("payments__amount_cents"),
        paid=Count("payments", filter=Q(payments__status=PayoutStatus.PAID)),
    ).order_by("-opened_at", "-pk")


def batch_detail(pk: int) -> tuple[Batch, list[Payment]]:
    batch = get_object_or_404(Batch, pk=pk)
    return batch, list(batch.payments.order_by("request_id"))


def failed_payouts(limit: int = 50) -> list[Payment]:
    rows = list(Payment.objects.filter(status=PayoutStatus.FAILED).order_by("-updated_at")[:limit])
    for row in rows:
        row.reason_text = failure_text(row.reason)
    return rows


def budgets_left(usernames: list[str]) -> dict[str, int]:
    """EUR cents left on each requester's cost centre (held reservations subtracted):
    one query whatever the number of names (the inbox asks once per page)."""
    holds = "cost_centre__holds__"
    rows = (
        User.objects.filter(username__in=usernames, cost_centre__isnull=False)
        .annotate(
            held=Sum(
                holds + "amount_cents",
                filter=Q(
                    **{holds + "released_at__isnull": True},
                    **{holds + "created_at__year": F("cost_centre__year")},
                ),
            )
        )
        .values_list("username", "cost_centre__budget_cents", "held")
    )
    return {name: budget - (held or 0) for name, budget, held in rows}


def held_for(request_id: int) -> bool:
    return Reservation.objects.filter(request_id=request_id, released_at__isnull=True).exists()


@dataclass
class PaymentRow:
    request_id: int
    requester: str
    amount_cents: int
    status: str
    label: str
    reason_text: str
    iban: str

    @classmethod
    def of(cls, p: Payment) -> PaymentRow:
        return cls(
            p.request_id,
            p.requester,
            p.amount_cents,
            p.status,
            status_text(p.status),
            failure_text(p.reason) if p.reason else "",
            p.iban,
        )
