"""Amounts for people: read and written in the reader's language, refusals in words.

Amounts are typed as text and read by `money.parse_amount` in the convention of
the active language, taken from Django's locale formats (`DECIMAL_SEPARATOR`,
`THOUSAND_SEPARATOR`): German "1.450,00" and "38,50", English "1,450.00" and
"38.50". Django's own `sanitize_separators` is not used: it reads German
"1.450" as 1.45 (or, with USE_THOUSAND_SEPARATOR, guesses), and the contract
is that nothing is guessed. The rule itself is pure (`money.py`), so a
property test holds it to "read exactly as meant, or refused"; this module
adds the reader's language and the words.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from . import money

# The example a message shows, spelled in the reader's language.
EXAMPLE = Decimal("1450.00")


def reader_convention() -> tuple[str, str]:
    """The active language's (decimal separator, group separator)."""
    return formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR")


def amount_text(amount: Decimal, currency: str = "") -> str:
    """`amount` as people read it: the currency's own decimals (none for JPY), grouped, in
    the active language's separators ("1,234.50"; German "1.234,50"). No currency code."""
    return formats.number_format(
        amount, money.exponent(currency), use_l10n=True, force_grouping=True
    )


def minor_text(minor: int, currency: str = money.BASE_CURRENCY) -> str:
    """Minor units (cents; yen for JPY) of `currency` as `amount_text` shows them."""
    return amount_text(money.from_minor(minor, currency), currency)


def money_text(minor, currency: str = "") -> str:
    """Minor units with their currency code ("1,234.50 EUR"), "?" when not a number."""
    try:
        text = minor_text(int(minor), currency)
    except (TypeError, ValueError):
        return "?"
    return f"{text} {currency}".strip()


def spell(amount: Decimal, currency: str = money.BASE_CURRENCY) -> str:
    """`amount` as the reader types it, so that the field reads it back unchanged."""
    decimal, group = reader_convention()
    return money.spell(amount, places=money.exponent(currency), decimal=decimal, group=group)


def decimals_error(currency: str) -> str:
    if money.exponent(currency) == 0:
        return _("%(currency)s has no decimals: enter a whole amount, such as 1500.") % {
            "currency": currency
        }
    return _("Use at most two decimals.")


def _fitting(readings, currency: str) -> list[str]:
    """The readings that are amounts in `currency`, spelled for the reader."""
    return [
        spell(value, currency)
        for value in readings
        if value > 0 and not money.has_too_many_decimals(value, currency)
    ]


def plain_refusal_text() -> str:
    """The API's words for an amount that is not a JSON number or a `.`-notation string."""
    return _(
        'Send the amount as a JSON number or as a string such as "1450.00": digits, '
        "a point before the decimals, no thousands separators."
    )


def refusal_text(exc: money.AmountRefused, *, typed: str, currency: str) -> str:
    """A refused amount in words that show how to write it in the reader's language."""
    decimal, group = reader_convention()
    example = spell(EXAMPLE, currency)
    if exc.code == "decimals":
        return decimals_error(currency)
    suggestions = _fitting(exc.readings, currency)
    if not suggestions and any(
        value > 0 and money.has_too_many_decimals(value, currency) for value in exc.readings
    ):
        return decimals_error(currency)  # "12.5" JPY: however it is read, it has decimals
    if exc.code == "ambiguous":
        typed = typed.strip()
        if len(suggestions) >= 2:
            return _("“%(typed)s” can be read two ways. Write %(first)s or %(second)s.") % {
                "typed": typed,
                "first": suggestions[-1],
                "second": suggestions[0],
            }
        if suggestions:
            return _("“%(typed)s” can be read two ways. Write %(first)s.") % {
                "typed": typed,
                "first": suggestions[0],
            }
    if exc.code == "foreign" and suggestions:
        return _(
            "Write %(example)s: the decimals follow “%(decimal)s”, and “%(group)s” "
            "separates thousands."
        ) % {"example": suggestions[0], "decimal": decimal, "group": group}
    return _("Enter an amount such as %(example)s.") % {"example": example}
