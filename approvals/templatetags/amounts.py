"""`{{ amount|money:currency }}`: an amount with its currency's decimals, localised.

1,500 JPY shows no decimals (the yen has no minor unit); 12.50 EUR shows two.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

from .. import money as fx
from ..amounts import EXAMPLE, amount_text, spell

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """The amount formatted for the active language, followed by the currency code."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount_text(amount, currency)} {currency}".strip()


@register.filter
def eur_cents(value) -> str:
    """EUR cents (an int) as an amount in EUR."""
    if value is None or value == "":
        return ""
    try:
        return money(fx.from_minor(int(value), fx.BASE_CURRENCY), fx.BASE_CURRENCY)
    except (TypeError, ValueError):
        return ""


@register.filter
def fx_rate(value) -> str:
    """A rate with as many decimals as it has (0.8547, 180.62), localised."""
    if value is None or value == "":
        return ""
    try:
        rate = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    places = max(0, -rate.as_tuple().exponent)
    return formats.number_format(rate, places, use_l10n=True)


@register.simple_tag
def amount_example(currency: str = "") -> str:
    """An amount spelled as the reader types it (1.450,00 in German, 1450 for JPY)."""
    return spell(EXAMPLE, currency or fx.BASE_CURRENCY)
