"""The amount reader (`money.parse_amount`): an amount typed in English or German is
read exactly as meant or refused, never silently another number.

Table-driven examples for the rules, then hypothesis properties across both
languages and many spellings (grouped or not, by points, commas or spaces, with
or without decimals and trailing zeros), written by someone who thinks in
either language.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from approvals import money
from approvals.money import AmountRefused, parse_amount, read_plain, spell

DE = {"decimal": ",", "group": "."}
EN = {"decimal": ".", "group": ","}
LANGUAGES = {"de": DE, "en": EN}
# One group separator followed by exactly three digits: 1450 to one reader, 1.45 to the other.
AMBIGUOUS = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")


def read(text: str, language: str, places: int | None = 2) -> Decimal | str:
    try:
        return parse_amount(text, places=places, **LANGUAGES[language])
    except AmountRefused as exc:
        return exc.code


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # Written as the reader writes.
        ("38,50", "de", Decimal("38.50")),
        ("1.450,00", "de", Decimal("1450.00")),
        ("1450,00", "de", Decimal("1450.00")),
        ("12.345.678,9", "de", Decimal("12345678.90")),
        ("1 450,00", "de", Decimal("1450.00")),
        ("1\u00a0450,00", "de", Decimal("1450.00")),
        ("1,5", "de", Decimal("1.50")),
        (",5", "de", Decimal("0.50")),
        ("  38,50 ", "de", Decimal("38.50")),
        ("38.50", "en", Decimal("38.50")),
        ("1,450.00", "en", Decimal("1450.00")),
        ("1,450,000", "en", Decimal("1450000.00")),
        ("1 450.5", "en", Decimal("1450.50")),
        ("1450", "en", Decimal("1450.00")),
        ("1450", "de", Decimal("1450.00")),
        ("12,500", "en", "ambiguous"),
        # Could be 1450 or 1.45: refused in both languages.
        ("1.450", "de", "ambiguous"),
        ("1,450", "de", "ambiguous"),
        ("1.450", "en", "ambiguous"),
        ("1,450", "en", "ambiguous"),
        ("999.000", "de", "ambiguous"),
        # Written the other way: refused, with the reader's way in the message.
        ("38.50", "de", "foreign"),
        ("1,450.00", "de", "foreign"),
        ("1.5", "de", "foreign"),
        ("12.345.678", "en", "foreign"),
        ("38,50", "en", "foreign"),
        ("1,5", "en", "foreign"),
        ("1.450,00", "en", "foreign"),
        # Not an amount in any language.
        ("", "de", "invalid"),
        ("1.45.0", "de", "invalid"),
        ("1,45,0", "en", "invalid"),
        ("1.450 000", "de", "invalid"),  # two kinds of group separator
        ("12.34,5", "de", "invalid"),  # a group of two
        ("1e3", "en", "invalid"),
        ("NaN", "en", "invalid"),
        ("Infinity", "de", "invalid"),
        ("0x10", "en", "invalid"),
        ("1_000", "en", "invalid"),
        ("１２３", "de", "invalid"),  # full-width digits
        ("١٢٣٫٤٥", "de", "invalid"),  # Arabic-Indic digits
        ("38,", "de", "invalid"),
        ("9" * 41, "en", "invalid"),
        # More decimals than the currency has.
        ("12,345", "de", "ambiguous"),
        ("12,3456", "de", "decimals"),
        ("12.3456", "en", "decimals"),
        ("12,500", "de", "ambiguous"),
        ("12,5000", "de", Decimal("12.50")),  # trailing zeros are the same amount
    ],
)
def test_reading_examples(text, language, expected):
    assert read(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("1500", "de", Decimal("1500")),
        ("1500,00", "de", Decimal("1500")),
        ("12,5", "de", "decimals"),
        ("12.5", "en", "decimals"),
        ("1.500.000", "de", Decimal("1500000")),
        ("1.500", "de", "ambiguous"),  # the same rule whatever the currency
    ],
)
def test_a_currency_without_decimals(text, language, expected):
    assert read(text, language, places=0) == expected


def test_a_refusal_names_what_the_text_could_mean():
    with pytest.raises(AmountRefused) as refused:
        parse_amount("1.450", **DE)
    assert set(refused.value.readings) == {Decimal("1450"), Decimal("1.45")}
    with pytest.raises(AmountRefused) as refused:
        parse_amount("38.50", **DE)
    assert refused.value.readings == (Decimal("38.50"),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, Decimal(12)),
        (Decimal("12.10"), Decimal("12.10")),
        ("1450.00", Decimal("1450.00")),
        (" 38.5 ", Decimal("38.5")),
        ("-3", Decimal(-3)),
        ("1,450.00", "plain"),
        ("38,50", "plain"),
        ("1e3", "plain"),
        ("NaN", "plain"),
        (Decimal("NaN"), "plain"),
        (Decimal("Infinity"), "plain"),
        (12.5, "plain"),  # a float may already be another number
        (True, "plain"),
        (None, "plain"),
        ([1], "plain"),
        ("", "plain"),
    ],
)
def test_the_api_reads_json_numbers_and_point_notation(value, expected):
    try:
        assert read_plain(value) == expected
    except AmountRefused as exc:
        assert exc.code == expected


# ------------------------------------------------------------------ properties
amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2
) | st.integers(min_value=1, max_value=10**7).map(Decimal)


@st.composite
def spellings(draw, value: Decimal, decimal: str, group: str) -> str:
    """`value` as a person thinking in (`decimal`, `group`) might type it."""
    whole, _, frac = f"{value:f}".partition(".")
    frac = frac.rstrip("0")
    # "1450" when whole; else "1450,5", "1450,50", "1450,500"
    padded = frac + "0" * draw(st.integers(0, 2))
    frac = "" if not frac and draw(st.booleans()) else padded
    separator = draw(st.sampled_from([None, group, " ", "\u00a0", "\u202f"]))
    if separator is not None and len(whole) > 3:
        whole = f"{int(whole):,}".replace(",", separator)
    if frac and draw(st.booleans()) and whole == "0":
        whole = ""  # ",5"
    text = whole + (decimal + frac if frac else "")
    return draw(st.sampled_from(["", " "])) + text + draw(st.sampled_from(["", " "]))


@st.composite
def typed(draw):
    value = draw(amounts)
    thinks_in = draw(st.sampled_from(sorted(LANGUAGES)))
    text = draw(spellings(value, **LANGUAGES[thinks_in]))
    return value, thinks_in, text


@settings(max_examples=2000, deadline=None)
@given(typed(), st.sampled_from(sorted(LANGUAGES)))
@example((Decimal("1450"), "en", "1,450"), "de")
@example((Decimal("1.45"), "de", "1,45"), "en")
@example((Decimal("38.5"), "de", "38,50"), "en")
@example((Decimal("1450"), "en", "1,450.00"), "de")
@example((Decimal("12.5"), "de", "12,500"), "en")
def test_an_amount_is_read_exactly_as_meant_or_refused(case, reader):
    """Whoever types it, in whichever language, the reader gets the typed amount or a
    refusal: never another number."""
    value, thinks_in, text = case
    try:
        got = parse_amount(text, places=2, **LANGUAGES[reader])
    except AmountRefused as exc:
        assert thinks_in != reader or AMBIGUOUS.fullmatch(text.strip()), text
        event(f"refused: {exc.code}")
        return
    event("read" if thinks_in == reader else "read across languages (the same in both)")
    assert got == value, (text, thinks_in, reader)


@settings(max_examples=1000, deadline=None)
@given(amounts, st.sampled_from(sorted(LANGUAGES)), st.sampled_from([0, 2]))
def test_an_amount_spelled_for_the_reader_reads_back_exactly(value, language, places):
    """What the page shows as "understood as" and what a refusal suggests is accepted."""
    if places == 0:
        value = value.to_integral_value()
    text = spell(value, places=places, **LANGUAGES[language])
    assert parse_amount(text, places=places, **LANGUAGES[language]) == value
    other = "en" if language == "de" else "de"
    assert read(text, other, places) in {value, "foreign"}


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789.,  +-\u00a0", max_size=16))
@example("1.450")
@example("1,450")
@example("0,450")
def test_no_text_is_two_amounts_to_two_readers(text):
    """German and English readers never both accept a text as different numbers."""
    german, english = read(text, "de", None), read(text, "en", None)
    if isinstance(german, Decimal) and isinstance(english, Decimal):
        assert german == english, text


@settings(max_examples=1000, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999"), places=4),
    st.sampled_from(sorted(LANGUAGES)),
)
def test_decimals_the_currency_has_not_are_refused_never_rounded(value, language):
    text = spell(value, places=2, **LANGUAGES[language])
    result = read(text, language)
    if money.has_too_many_decimals(value, "EUR"):
        assert result in {"decimals", "ambiguous"}, text
    else:
        assert result == value
