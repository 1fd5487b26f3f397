"""Payout reads: a request's payment, the batches (admins), failed payouts (/ops/), budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.bank import mask
from accounts.models import AccountAuditEntry, User
from accounts.selectors import bank_changes_pending, is_finance

from .labels import failure_text, run_failure_text, status_text
from .models import Batch, Payment, Reservation
from .workflow.contract import PayoutStatus


@dataclass
class PaymentView:
    status: str  # a PayoutStatus code (data-testid="payment-status" shows it)
    label: str
    reason: str = ""
    reason_text: str = ""
    paid_at: object = None  # when paid (data-testid="payment-detail")
    account: str = ""  # the IBAN paid to, masked to its last four ("••1234")
    expected_on: date | None = None  # scheduled: the day of the next payout run


def last_four(iban: str) -> str:
    """An IBAN as the payment detail shows it: its last four only."""
    iban = "".join(iban.split())
    return f"••{iban[-4:]}" if len(iban) > 4 else "••"


def next_payout_run(now: datetime | None = None) -> date:
    """The day of the next weekly payout run (payouts/schedule.py: PAYOUT_RUN_WEEKDAY,
    0 = Sunday, at PAYOUT_RUN_HOUR local time); today if it has not run yet."""
    now = timezone.localtime(now or timezone.now())
    weekday = int(getattr(settings, "PAYOUT_RUN_WEEKDAY", 1)) % 7  # 0 = Sunday
    hour = int(getattr(settings, "PAYOUT_RUN_HOUR", 6))
    days = (weekday - (now.isoweekday() % 7)) % 7
    if days == 0 and now.hour >= hour:
        days = 7
    return (now + timedelta(days=days)).date()


def payment_view(payment: Payment | None) -> PaymentView | None:
    if payment is None:
        return None
    paid = payment.status == PayoutStatus.PAID
    return PaymentView(
        status=payment.status,
        label=status_text(payment.status),
        reason=payment.reason,
        reason_text=failure_text(payment.reason) if payment.reason else "",
        paid_at=payment.paid_at if paid else None,
        account=last_four(payment.iban) if paid and payment.iban else "",
        # In an open batch, it goes out with the next run.
        expected_on=next_payout_run()
        if payment.status == PayoutStatus.SCHEDULED and payment.batch_id
        else None,
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


def budgets_left(usernames: Sequence[str]) -> dict[str, int]:
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


# A closed batch without its file after this long (or with an error) is stuck: the run's
# bounded retries (8 attempts, at most 2 minutes each) are over by then.
STUCK_AFTER = timedelta(minutes=20)


def stuck_batches(limit: int = 20) -> list[Batch]:
    """Closed batches without a file: a run failed on them (its cause kept) or stopped."""
    old = timezone.now() - STUCK_AFTER
    rows = list(
        Batch.objects.filter(status=Batch.Status.CLOSED, outcome={})
        .filter(~Q(error="") | Q(closed_at__lt=old))
        .annotate(count=Count("payments"), total=Sum("payments__amount_cents"))
        .order_by("closed_at", "pk")[:limit]
    )
    for row in rows:
        row.cause_text = run_failure_text(row.error)
    return rows


def may_see_payouts(user: User) -> bool:
    return bool(user.is_superuser or is_finance(user))


@dataclass
class PendingChange:
    entry: AccountAuditEntry
    person: str
    old_iban: str
    new_iban: str
    new_bic: str
    held: int
    held_cents: int
    may_confirm: bool


def pending_bank_changes(viewer: User) -> list[PendingChange]:
    """Bank changes waiting for a finance member, with what each holds (one query each
    for the changes and the holds). The new IBAN is shown in full: finance checks it
    with the person before confirming."""
    entries = list(bank_changes_pending())
    names = [e.subject.username for e in entries]
    holds = {
        row["requester"]: row
        for row in Payment.objects.filter(requester__in=names, status=PayoutStatus.ON_HOLD)
        .values("requester")
        .annotate(n=Count("pk"), cents=Sum("amount_cents"))
    }
    finance = is_finance(viewer)
    return [
        PendingChange(
            entry=e,
            person=e.subject.display_name,
            old_iban=mask(e.detail.get("old_iban", "")),
            new_iban=e.detail.get("new_iban", ""),
            new_bic=e.detail.get("new_bic", ""),
            held=holds.get(e.subject.username, {}).get("n", 0),
            held_cents=holds.get(e.subject.username, {}).get("cents") or 0,
            may_confirm=finance and e.subject_id != viewer.pk,
        )
        for e in entries
    ]
