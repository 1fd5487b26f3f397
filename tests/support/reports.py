"""Expense reports of several lines, saved as the report form will save them."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from approvals import services
from approvals.models import ExpenseLine

# (merchant, amount, currency, EUR cents at the pinned rate, category)
TRIP = [
    ("Taxi Berlin", "38.50", "EUR", 3850, "travel"),
    ("Hotel Adlon", "912.00", "EUR", 91200, "travel"),
    ("Deutsche Bahn", "89.90", "EUR", 8990, "travel"),
    ("The Ivy", "124.00", "GBP", 14400, "meals"),
]
TOTAL_CENTS = sum(line[3] for line in TRIP)  # 118,440: two levels (from 1,000 EUR)


def submit_report(user, lines=TRIP, title="Trip to Berlin"):
    """A report with its lines, saved in one commit: the workflow starts after it (on
    commit) and reads every line (starter.workflow_input)."""
    total = sum(line[3] for line in lines)
    with transaction.atomic():
        request = services.expense_submit(
            requester=user,
            title=title,
            amount=Decimal(total) / 100,
            currency="EUR",
            category="travel",
        )
        ExpenseLine.objects.filter(request=request).delete()  # none yet; a one-line report may
        for n, (merchant, amount, currency, base, category) in enumerate(lines, start=1):
            ExpenseLine.objects.create(
                request=request,
                position=n,
                merchant=merchant,
                amount=Decimal(amount),
                currency=currency,
                base_amount_cents=base,
                category=category,
            )
    request.refresh_from_db()
    return request


def line_rows(request) -> dict[int, tuple]:
    return {
        line.position: (line.status, line.rejected_level, line.rejected_by, line.rejection_reason)
        for line in ExpenseLine.objects.filter(request=request)
    }
