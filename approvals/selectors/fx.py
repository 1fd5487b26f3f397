"""Reads of exchange rates: the rate a submission pins."""

from __future__ import annotations

from datetime import date

from ..models import ExchangeRate


def rate_on(*, currency: str, day: date) -> ExchangeRate | None:
    """The newest rate of `currency` dated on or before `day`, or None."""
    return (
        ExchangeRate.objects.filter(currency=currency, rate_date__lte=day)
        .order_by("-rate_date")
        .first()
    )
