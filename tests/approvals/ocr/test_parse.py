"""The receipt parser on tables of German and English OCR text (as Tesseract prints
it, noise included), and a property: an amount written in either convention is read
back exactly or not at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from approvals import money
from approvals.ocr.parse import parse_receipt, read_amount

D = Decimal
day = dt.date

# (text, hint, amount, currency, date, merchant, vat) — None/"" where nothing should be read.
CASES = [
    # --- German receipts
    (
        "Taxi Berlin GmbH\nDatum: 05.12.2026\nFahrpreis 38,50 EUR\nSumme 38,50 EUR\nMwSt 7% 2,52",
        "de",
        D("38.50"),
        "EUR",
        day(2026, 12, 5),
        "Taxi Berlin GmbH",
        D("2.52"),
    ),
    (
        "Hotel Adlon\nRechnung Nr. 4711\n04.12.2026\nÜbernachtung 1.234,56 €\n"
        "Gesamtbetrag 1.234,56 €\nenthaltene MwSt 7% 80,77 €",
        "de",
        D("1234.56"),
        "EUR",
        day(2026, 12, 4),
        "Hotel Adlon",
        D("80.77"),
    ),
    (
        "Deutsche Bahn\nFahrkarte Berlin - München\nBetrag 89,90 EUR\nDatum 5.12.26\n"
        "MwSt 19% 14,35",
        "de",
        D("89.90"),
        "EUR",
        day(2026, 12, 5),
        "Deutsche Bahn",
        D("14.35"),
    ),
    (
        "RECHNUNG\nRestaurant Zur Post\nHauptstr. 5\n10115 Berlin\n2 x Schnitzel 29,80\n"
        "1 x Wasser 4,50\nZwischensumme 34,30\nSumme EUR 34,30\nGegeben 50,00\nRückgeld 15,70",
        "de",
        D("34.30"),
        "EUR",
        None,
        "Restaurant Zur Post",
        None,
    ),
    (
        "Bäckerei Müller\nBrötchen 2,40\nKaffee 3,10\nzu zahlen 5,50 €\nBAR 10,00\n"
        "Datum: 01.02.2026",
        "de",
        D("5.50"),
        "EUR",
        day(2026, 2, 1),
        "Bäckerei Müller",
        None,
    ),
    (
        "Kassenbon\nEDEKA Markt Schulz\nTel. 030 123456\nSumme 12,99\nMwSt A 19% 2,07\n"
        "MwSt B 7% 0,00\n05.12.2026 14:32",
        "de",
        D("12.99"),
        "",
        day(2026, 12, 5),
        "EDEKA Markt Schulz",
        D("2.07"),
    ),
    (
        "Tankstelle Aral\nSuper E10 45,67 L\nGesamt 78,12 EUR\nNetto 65,65\nUSt 19% 12,47\n"
        "Datum 30.11.2026",
        "de",
        D("78.12"),
        "EUR",
        day(2026, 11, 30),
        "Tankstelle Aral",
        D("12.47"),
    ),
    (
        "Buchhandlung Lehmann\nSumme: 2.150,00 EUR\nMwSt 7%: 140,65 EUR\n15.03.2026",
        "de",
        D("2150.00"),
        "EUR",
        day(2026, 3, 15),
        "Buchhandlung Lehmann",
        D("140.65"),
    ),
    (
        "Parkhaus Mitte\nEinfahrt 05.12.2026 08:10\nAusfahrt 05.12.2026 17:45\nBetrag EUR 18,00",
        "de",
        D("18.00"),
        "EUR",
        day(2026, 12, 5),
        "Parkhaus Mitte",
        None,
    ),
    (
        "Café Einstein\n3. Dezember 2026\nCappuccino 4,20\nKuchen 4,80\nSUMME 9,00 €",
        "de",
        D("9.00"),
        "EUR",
        day(2026, 12, 3),
        "Café Einstein",
        None,
    ),
    (
        "Kiosk am Markt\nGesamt\n7,40\nDatum 2026-12-05",
        "de",
        D("7.40"),
        "",
        day(2026, 12, 5),
        "Kiosk am Markt",
        None,
    ),
    (
        "Apotheke am Park\nSumme 1 234,56 EUR\n05.12.2026",
        "de",
        D("1234.56"),
        "EUR",
        day(2026, 12, 5),
        "Apotheke am Park",
        None,
    ),
    (
        "Copyshop Schmidt\nKopien 100 Stück\nSumme 1.450 EUR\n05.12.2026",
        "de",
        None,
        "EUR",
        day(2026, 12, 5),
        "Copyshop Schmidt",
        None,
    ),  # 1450 or 1.45? not read
    (
        "Bewirtungsbeleg\nGasthaus Krone\nSpeisen 98,00\nGetränke 26,00\nRechnungsbetrag 124,00 €\n"
        "darin MwSt 19% 19,80 €\nDatum 06.12.2026",
        "de",
        D("124.00"),
        "EUR",
        day(2026, 12, 6),
        "Gasthaus Krone",
        D("19.80"),
    ),
    (
        "Sushi Bar Tokyo\nMwSt 7% 1,23\nMwSt 19% 2,10\nSumme 27,90 EUR\n07.12.2026",
        "de",
        D("27.90"),
        "EUR",
        day(2026, 12, 7),
        "Sushi Bar Tokyo",
        D("3.33"),
    ),
    (
        "Fahrradladen\nReparatur 45,-\nSumme 45,00\n08.12.2026",
        "de",
        D("45.00"),
        "",
        day(2026, 12, 8),
        "Fahrradladen",
        None,
    ),
    # --- English receipts
    (
        "The Ivy Restaurant\n1-5 West Street\nLondon WC2H 9NQ\nDate: 12/05/2026\n"
        "Subtotal £103.33\nVAT 20% £20.67\nTotal £124.00",
        "en",
        D("124.00"),
        "GBP",
        day(2026, 5, 12),
        "The Ivy Restaurant",
        D("20.67"),
    ),
    (
        "Pret A Manger\nFlat White 3.20\nSandwich 4.95\nTOTAL GBP 8.15\n05/12/2026",
        "en",
        D("8.15"),
        "GBP",
        day(2026, 12, 5),
        "Pret A Manger",
        None,
    ),
    (
        "Yellow Cab NYC\nFare $38.50\nTip $7.70\nAmount due $46.20\nDate 12/05/2026",
        "en",
        D("46.20"),
        "USD",
        day(2026, 12, 5),
        "Yellow Cab NYC",
        None,
    ),  # US: m/d/y
    (
        "Marriott Hotel\nRoom 2 nights 1,234.56\nGrand Total USD 1,234.56\nTax 98.76\n"
        "Date: 12/25/2026",
        "en",
        D("1234.56"),
        "USD",
        day(2026, 12, 25),
        "Marriott Hotel",
        D("98.76"),
    ),
    (
        "Heathrow Express\nSingle ticket\nTotal: £25.00\n25/12/2026",
        "en",
        D("25.00"),
        "GBP",
        day(2026, 12, 25),
        "Heathrow Express",
        None,
    ),
    (
        "TAX INVOICE\nOffice Supplies Ltd\nPaper 12.00\nTotal 12.00 EUR\nVAT 0.00\n1 Dec 2026",
        "en",
        D("12.00"),
        "EUR",
        day(2026, 12, 1),
        "Office Supplies Ltd",
        None,
    ),
    (
        "Starbucks Coffee\nLatte 4.10\nMuffin 2.90\nCash 10.00\nChange 3.00\nTotal 7.00\n"
        "Dec 5, 2026",
        "en",
        D("7.00"),
        "",
        day(2026, 12, 5),
        "Starbucks Coffee",
        None,
    ),
    (
        "Hilton Garden Inn\nBalance due: EUR 312.00\nVAT included 7% 20.41\n04/12/2026",
        "en",
        D("312.00"),
        "EUR",
        day(2026, 12, 4),
        "Hilton Garden Inn",
        D("20.41"),
    ),
    (
        "Uber\nTrip fare 21.34\nBooking fee 1.50\nTotal 22.84 €\n2026-12-05",
        "en",
        D("22.84"),
        "EUR",
        day(2026, 12, 5),
        "Uber",
        None,
    ),
    (
        "Receipt\nWaterstones Books\nTel 020 7851 2400\nTotal to pay £15.98\n03/12/26",
        "en",
        D("15.98"),
        "GBP",
        day(2026, 12, 3),
        "Waterstones Books",
        None,
    ),
    (
        "Conference Centre\nRegistration fee 1,450.00\nTotal 1,450.00 GBP\nVAT 241.67\n01/12/2026",
        "en",
        D("1450.00"),
        "GBP",
        day(2026, 12, 1),
        "Conference Centre",
        D("241.67"),
    ),
    (
        "Costa Coffee\nTotal 1,450 GBP\n01/12/2026",
        "en",
        None,
        "GBP",
        day(2026, 12, 1),
        "Costa Coffee",
        None,
    ),  # ambiguous, not read
    # --- noise, as Tesseract prints photographs
    (
        "  ~ Taxi Muller ~\n\n'Datum: O5.12.2026\nSumme  38,50 EUR |\n",
        "de",
        D("38.50"),
        "EUR",
        day(2026, 12, 5),
        "Taxi Muller",
        None,
    ),  # "O5": the 5 is read
    ("", "de", None, "", None, "", None),
    ("%%% ### ...\n12 34\n", "en", None, "", None, "", None),
    ("Shell Station\nTotal 0.00\n", "en", None, "", None, "Shell Station", None),
    # Amounts only next to no keyword: the largest one with a currency mark.
    (
        "Museum Shop\nPostcard 1.50 EUR\nBook 24.00 EUR\nThank you!",
        "en",
        D("24.00"),
        "EUR",
        None,
        "Museum Shop",
        None,
    ),
    # A German receipt read by an English speaker: the receipt's words decide.
    (
        "Imbiss Ali\nDöner 6,50\nSumme 6,50 €\nDatum 09.12.2026",
        "en",
        D("6.50"),
        "EUR",
        day(2026, 12, 9),
        "Imbiss Ali",
        None,
    ),
]


@pytest.mark.parametrize(
    "text,hint,amount,currency,date,merchant,vat",
    CASES,
    ids=[f"{i}-{(c[0].splitlines() or ['empty'])[0][:20]}" for i, c in enumerate(CASES)],
)
def test_receipt_table(text, hint, amount, currency, date, merchant, vat):
    reading = parse_receipt(text, hint)
    assert (reading.amount, reading.currency, reading.date, reading.merchant, reading.vat) == (
        amount,
        currency,
        date,
        merchant,
        vat,
    )


def test_fields_name_what_was_read():
    reading = parse_receipt("Taxi Berlin\nSumme 38,50 EUR\n05.12.2026", "de")
    assert reading.fields == ("amount", "currency", "date", "merchant")
    assert reading.as_json() == {
        "amount": "38.50",
        "currency": "EUR",
        "date": "2026-12-05",
        "merchant": "Taxi Berlin",
        "vat": None,
        "language": "de",
    }


def test_language_of_the_receipt_wins_over_the_hint():
    assert parse_receipt("Summe 3,00\nMwSt 0,20", "en").language == "de"
    assert parse_receipt("Total 3.00\nVAT 0.20", "de").language == "en"
    assert parse_receipt("3,00", "de").language == "de"


@pytest.mark.parametrize(
    "token,value",
    [
        ("38,50", D("38.50")),
        ("38.50", D("38.50")),
        ("1.234,56", D("1234.56")),
        ("1,234.56", D("1234.56")),
        ("1 234,56", D("1234.56")),
        ("1.450", None),
        ("1,450", None),
        ("1.2.3", None),
    ],
)
def test_read_amount(token, value):
    assert read_amount(token) == value


amounts = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2, allow_nan=False)


@given(
    amount=amounts,
    convention=st.sampled_from(money.CONVENTIONS),
    label=st.sampled_from(["Summe", "Total", "Gesamt", "Amount due", "zu zahlen", "Betrag"]),
    mark=st.sampled_from(["", " EUR", " €", " GBP", " £"]),
)
def test_a_written_total_is_read_back_exactly_or_not_at_all(amount, convention, label, mark):
    decimal, group = convention
    written = money.spell(amount, places=2, decimal=decimal, group=group)
    reading = parse_receipt(f"Shop\n{label} {written}{mark}\n", "de" if decimal == "," else "en")
    assert reading.amount in (None, amount)


@given(
    amount=st.decimals(min_value=D("0.001"), max_value=D("9999999"), places=3, allow_nan=False),
    decimal=st.sampled_from([".", ","]),
    group=st.sampled_from([".", ",", " ", ""]),
)
def test_any_grouping_is_read_as_itself_or_refused(amount, decimal, group):
    whole, _, frac = f"{amount:f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", group)
    token = f"{grouped}{decimal}{frac}"
    value = read_amount(token)
    assert value is None or value == amount or decimal == group
