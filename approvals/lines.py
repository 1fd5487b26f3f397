"""An expense report's lines as submitted (pure: no database, no Django).

A report is a title, a description and one or more lines. Its headline (the
request's `amount`, `currency`, `category`) is the one line's own for a
one-line report; for several lines it is their sum when they share a
currency, else their EUR total in EUR, and the largest line's category.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import money


@dataclass
class LineData:
    """One line as a form or the API hands it to the service (cleaned, typed)."""

    amount: Decimal
    currency: str
    category: str
    date: date | None = None
    merchant: str = ""
    vat: Decimal | None = None
    description: str = ""
    attendees: str = ""
    receipt: object = None  # an uploaded file (already checked), or None
    # Resubmission: the position of the line of the last round this one continues (it
    # keeps that line's receipt unless a new one is chosen); None = a new line.
    origin: int | None = None
    # The fields OCR filled that the person left as read (ExpenseLine.ocr_fields).
    ocr_fields: tuple[str, ...] = ()


@dataclass
class Headline:
    amount: Decimal
    currency: str
    category: str
    base_amount_cents: int
    lines_base_cents: list[int] = field(default_factory=list)


def merchant_key(merchant: str) -> str:
    """What the duplicate check compares: lower-cased, runs of spaces as one."""
    return re.sub(r"\s+", " ", merchant).strip().lower()


def headline(lines: Sequence[LineData], base_cents: Sequence[int]) -> Headline:
    """The report's headline from its lines and each line's EUR cents."""
    if not lines:
        raise ValueError("a report has at least one line")
    total = sum(base_cents)
    largest = max(range(len(lines)), key=lambda i: (base_cents[i], -i))
    category = lines[largest].category
    currencies = {line.currency for line in lines}
    if len(currencies) == 1:
        currency = lines[0].currency
        amount = sum((line.amount for line in lines), Decimal(0))
    else:
        currency = money.BASE_CURRENCY
        amount = money.from_minor(total, money.BASE_CURRENCY)
    return Headline(
        amount=amount.quantize(money.quantum(currency)),
        currency=currency,
        category=category,
        base_amount_cents=total,
        lines_base_cents=list(base_cents),
    )
