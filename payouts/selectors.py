"""Payout reads: a request's payment, the batches (admins), failed payouts (/ops/), budgets."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.shortcuts import get_object_or_404

from accounts.models import User
from approvals.workflow.payout_contract import PayoutStatus

from .labels import failure_text, status_text
from .models import Batch, CostCentre, Payment, Reservation


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
    two queries whatever the number of names (the inbox asks once per page)."""
    centres = dict(
        User.objects.filter(username__in=usernames, cost_centre__isnull=False).values_list(
            "username", "cost_centre_id"
        )
    )
    if not centres:
        return {}
    left = {}
    for centre in CostCentre.objects.filter(pk__in=set(centres.values())).annotate(
        held=Sum(
            "holds__amount_cents",
            filter=Q(holds__released_at__isnull=True, holds__created_at__year=F("year")),
        )
    ):
        left[centre.pk] = centre.budget_cents - (centre.held or 0)
    return {name: left[pk] for name, pk in centres.items() if pk in left}


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
