"""Money arithmetic: minor units per currency and conversion to the base currency (EUR).

Pure standard library (Decimal) so the workflow, the worker, the services and
the templates can all use it. "Cents" in this project means the currency's
minor unit: 1/100 for most currencies, the unit itself for zero-decimal
currencies such as JPY (1,500 JPY is 1500 "cents", ISO 4217 exponent 0).
"""

from __future__ import annotations

import re
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


# ---------------------------------------------------------------- typed amounts
# How people write amounts: a decimal separator and a group (thousands) separator.
# A convention is the pair; "." and "," swap roles between English and German, so
# the text "1.450" means 1450 to one reader and 1.45 to the other. Spaces (plain,
# no-break, narrow no-break) group thousands in every convention and are never a
# decimal separator.
CONVENTIONS = ((".", ","), (",", "."))
GROUP_SPACES = " \u00a0\u202f"
# Longer than any amount the columns hold, however it is grouped.
MAX_TYPED = 40


class AmountRefused(ValueError):
    """Typed text that is not one amount: `code` says why, `readings` are the values it
    could stand for (for a message that shows how to write them).

    Codes: "invalid" (not an amount in any convention), "foreign" (well-formed only
    in another convention than the reader's, e.g. "38.50" for a German reader),
    "ambiguous" (well-formed in two conventions with different values, e.g. "1.450"),
    "decimals" (more decimals than the currency has).
    """

    def __init__(self, code: str, readings: tuple[Decimal, ...] = ()):
        super().__init__(code)
        self.code = code
        self.readings = readings


def _pattern(decimal: str, group: str):
    groups = re.escape("".join(dict.fromkeys(group + GROUP_SPACES)))
    # An integer part is plain digits or groups of exactly three behind a first group
    # of one to three digits that does not start with 0 ("0.450" is no grouping);
    # one group separator throughout ("1.450 000" is refused).
    return re.compile(
        r"(?P<sign>[+-]?)"
        r"(?P<int>[0-9]+|[1-9][0-9]{0,2}(?P<g>[" + groups + r"])[0-9]{3}(?:(?P=g)[0-9]{3})*)?"
        r"(?:" + re.escape(decimal) + r"(?P<frac>[0-9]+))?",
        re.ASCII,
    )


_PATTERNS: dict[tuple[str, str], re.Pattern] = {}


def read(text: str, *, decimal: str, group: str) -> Decimal | None:
    """`text` read in one convention, or None if it is not well-formed there.

    Nothing is guessed: digits only in ASCII, no exponent, decimals only after the
    decimal separator, thousands only in groups of three."""
    key = (decimal, group)
    if key not in _PATTERNS:
        _PATTERNS[key] = _pattern(decimal, group)
    match = _PATTERNS[key].fullmatch(text)
    if match is None or not (match["int"] or match["frac"]):
        return None
    digits = re.sub(r"[^0-9]", "", match["int"] or "0", flags=re.ASCII)
    return Decimal(f"{match['sign']}{digits}.{match['frac'] or '0'}")


def parse_amount(
    text: str, *, decimal: str, group: str, places: int | None = None
) -> Decimal:
    """The amount `text` stands for in the reader's convention (`decimal`, `group`),
    quantized to `places` decimals when given; AmountRefused otherwise.

    An amount is read only if the reader's convention reads it and no other
    convention reads it as a different number: "1.450" and "1,450" are refused in
    English and German alike (1450 or 1.45?), "38.50" is refused in German and
    "38,50" in English (written the other way). So one text is never two amounts
    to two readers, and a refusal names the values the text could stand for.
    """
    text = (text or "").strip()
    if not text or len(text) > MAX_TYPED:
        raise AmountRefused("invalid")
    mine = read(text, decimal=decimal, group=group)
    others = {
        value
        for d, g in CONVENTIONS
        if (d, g) != (decimal, group) and (value := read(text, decimal=d, group=g)) is not None
    }
    if mine is None:
        raise AmountRefused("foreign" if others else "invalid", tuple(sorted(others)))
    if any(value != mine for value in others):
        raise AmountRefused("ambiguous", tuple(sorted({mine, *others})))
    if places is None:
        return mine
    if _too_many_decimals(mine, places):
        raise AmountRefused("decimals", (mine,))
    return mine.quantize(Decimal(1).scaleb(-places))


PLAIN = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def read_plain(value: object) -> Decimal:
    """An amount from a machine (the JSON API): a JSON number (an int, or a Decimal when
    the JSON was parsed with `parse_float=Decimal`, so never through a float) or a
    string in "." notation ("1450.00": no grouping, no exponent). AmountRefused
    ("plain") for anything else, a float included (it may already be another number).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= MAX_TYPED and PLAIN.fullmatch(text):
            return Decimal(text)
    raise AmountRefused("plain")


def _too_many_decimals(amount: Decimal, places: int) -> bool:
    try:
        return amount != amount.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return True


def spell(amount: Decimal, *, places: int, decimal: str, group: str) -> str:
    """`amount` written in a convention so that `parse_amount` reads it back, in that
    convention, as exactly `amount`, and no other convention reads another number:
    grouped, with at least the currency's decimals, where it has decimals
    ("1.450,00"); plain digits where it has none ("1450": "1.450" would be ambiguous).
    Decimals beyond the currency's are kept, never rounded away."""
    own = -amount.normalize().as_tuple().exponent if amount.is_finite() else 0
    shown = max(places, own)
    sign = "-" if amount < 0 else ""
    whole, _, frac = f"{abs(amount).quantize(Decimal(1).scaleb(-shown)):f}".partition(".")
    if not frac:
        return f"{sign}{whole}"
    if len(frac) == 3 and len(whole) <= 3:
        frac += "0"  # "1,450" is ambiguous, "1,4500" is not
    grouped = f"{int(whole):,}".replace(",", group)
    return f"{sign}{grouped}{decimal}{frac}"
