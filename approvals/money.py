"""Money arithmetic: minor units per currency and conversion to the base currency (EUR).

Pure standard library (Decimal) so the workflow, the worker, the services and
the templates can all use it. "Cents" in this project means the currency's
minor unit: 1/100 for most currencies, the unit itself for zero-decimal
currencies such as JPY (1,500 JPY is 1500 "cents", ISO 4217 exponent 0).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

BASE_CURRENCY = "EUR"

# ISO 4217 minor-unit exponents that differ from 2 (among currencies the ECB quotes,
# and a few more that might be added to the form).
EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "HUF": 2}


def exponent(currency: str) -> int:
    """How many decimals the currency has (2 unless listed)."""
    return EXPONENTS.get((currency or "").upper(), 2)


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal("0.01"), or Decimal("1") for JPY."""
    return Decimal(1).scaleb(-exponent(currency))


def has_too_many_decimals(amount: Decimal, currency: str) -> bool:
    try:
        return amount != amount.quantize(quantum(currency))
    except InvalidOperation:
        return True


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in the currency's minor units: 12.34 EUR -> 1234, 1500 JPY -> 1500."""
    return int((amount.scaleb(exponent(currency))).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor(minor: int | str | Decimal, currency: str) -> Decimal:
    """The inverse of `to_minor`, quantized to the currency's decimals."""
    return Decimal(int(minor)).scaleb(-exponent(currency)).quantize(quantum(currency))


def to_base_cents(amount: Decimal, currency: str, rate: Decimal) -> int:
    """EUR cents of `amount` at `rate` (units of `currency` per 1 EUR), half up."""
    if currency == BASE_CURRENCY:
        return to_minor(amount, BASE_CURRENCY)
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    return int((amount / rate * 100).to_integral_value(rounding=ROUND_HALF_UP))
