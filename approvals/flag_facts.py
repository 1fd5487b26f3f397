"""Rows of the database as the pure spend checks see them (`spend_checks` facts):
shared by submission (`services.flags`) and the what-if (`selectors.flags_what_if`)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from . import money
from .models import ExpenseLine
from .spend_checks import LineFacts, PastLine, merchant_key


def line_facts(line: ExpenseLine, day: date) -> LineFacts:
    return LineFacts(
        position=line.position,
        date=line.date or day,
        category=line.category,
        amount_minor=line.amount_cents,
        currency=line.currency,
        base_cents=line.base_amount_cents or 0,
        merchant_key=line.merchant_key or merchant_key(line.merchant),
        receipt_sha256=line.receipt_sha256,
        description=line.description,
        attendees=line.attendees,
    )


PAST_FIELDS = (
    "request_id",
    "position",
    "request__requester__username",
    "date",
    "request__created_at",
    "category",
    "amount",
    "currency",
    "base_amount_cents",
    "request__base_amount_cents",
    "merchant_key",
    "receipt_sha256",
)


def past_line(row: dict) -> PastLine:
    return PastLine(
        request_id=row["request_id"],
        position=row["position"],
        requester=row["request__requester__username"],
        date=row["date"] or timezone.localdate(row["request__created_at"]),
        category=row["category"],
        amount_minor=money.to_minor(row["amount"], row["currency"]),
        currency=row["currency"],
        base_cents=row["base_amount_cents"] or 0,
        report_total_cents=row["request__base_amount_cents"] or 0,
        merchant_key=row["merchant_key"],
        receipt_sha256=row["receipt_sha256"],
    )
