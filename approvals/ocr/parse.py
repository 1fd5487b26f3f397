"""Reading a receipt's OCR text: amount, currency, date, merchant and VAT.

Pure standard library (no Django, no I/O): the activity runs Tesseract and hands the
text here; the tests feed it tables of German and English receipts.

Rules (DESIGN §2 "Receipts are read": what is filled is marked for checking, so a
field left empty is always better than a wrong one):

- **Amounts** are read with `approvals.money.read` in both conventions ("38,50",
  "1.234,56", "1,234.56", "1 234,56"). A token two conventions read as different
  numbers ("1.450") is never read; only tokens with decimals (a receipt's amounts
  have cents) or next to a currency mark count. The total is the amount on the best
  total line ("zu zahlen"/"Amount due"/"Gesamtbetrag"/"Grand total" before
  "Summe"/"Gesamt"/"Total"/"Betrag"; never "Zwischensumme"/"Subtotal"/"Netto" nor a
  VAT line); without one, the largest amount next to a currency mark.
- **Currency**: the mark on the total line ("EUR", "€", "GBP", "£", "USD", "$",
  "CHF"), else the one the receipt names most; none when it names none.
- **Dates**: "05.12.2026" and "5.12.26" are day.month.year everywhere; ISO
  "2026-12-05"; "5 Dec 2026"/"5. Dezember 2026". A slash date "12/05/2026" is read
  day/month/year (en-GB and German use; this is a European company's expense tool)
  unless the receipt is in dollars (a US receipt: month/day/year); when only the other
  order is a valid date ("12/25/2026"), that order. The date on a "Datum"/"Date" line
  is preferred, else the first one.
- **VAT**: on "MwSt"/"USt"/"VAT"/"Mehrwertsteuer"/"Tax" lines, the smallest amount
  that is not a rate ("19%") and is below the total; several rates are summed.
- **Merchant**: the first line with four different letters that is mostly letters and
  is not a heading such as "Rechnung"/"Receipt", an address, a phone number or a date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from approvals import money

# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class ReceiptReading:
    amount: Decimal | None = None
    currency: str = ""
    date: dt.date | None = None
    merchant: str = ""
    vat: Decimal | None = None
    language: str = ""
    # The fields that were read (in the form's names), for the UI and `ocr_fields`.
    fields: tuple[str, ...] = field(default=())

    def as_json(self) -> dict:
        return {
            "amount": None if self.amount is None else f"{self.amount:f}",
            "currency": self.currency,
            "date": self.date.isoformat() if self.date else "",
            "merchant": self.merchant,
            "vat": None if self.vat is None else f"{self.vat:f}",
            "language": self.language,
        }


# ---------------------------------------------------------------- amounts

# A run of digits with separators inside (never ending in one): "1.234,56", "38,50",
# "1 234,56". Spaces inside only between groups of digits ("1 234,56").
_NUMBER = re.compile(
    r"(?<![0-9.,])[0-9](?:[0-9]|[.,'](?=[0-9])|[ \u00a0\u202f](?=[0-9]{3}\b))*", re.ASCII
)
_PERCENT_AFTER = re.compile(r"\s*%")
_CURRENCY_MARKS = (
    (re.compile(r"€|\bEUR\b|\bEuro\b", re.IGNORECASE), "EUR"),
    (re.compile(r"£|\bGBP\b", re.IGNORECASE), "GBP"),
    (re.compile(r"\bCHF\b|\bSFr\b", re.IGNORECASE), "CHF"),
    (re.compile(r"\$|\bUSD\b", re.IGNORECASE), "USD"),
)
_ANY_MARK = re.compile(r"€|£|\$|\b(?:EUR|GBP|USD|CHF)\b", re.IGNORECASE)


def read_amount(token: str) -> Decimal | None:
    """`token` as an amount in whichever convention reads it, or None when no
    convention does or two read different numbers ("1.450")."""
    token = token.strip().replace("'", "")
    values = {
        value
        for decimal, group in money.CONVENTIONS
        if (value := money.read(token, decimal=decimal, group=group)) is not None
    }
    if len(values) != 1:
        return None
    return values.pop()


@dataclass(frozen=True)
class _Amount:
    value: Decimal
    marked: bool  # next to a currency mark
    decimals: bool  # written with cents


def _amounts(line: str) -> list[_Amount]:
    found = []
    for match in _NUMBER.finditer(line):
        token = match.group()
        if _PERCENT_AFTER.match(line, match.end()):
            continue  # a rate, "19%" / "19,00 %"
        before = line[max(0, match.start() - 4) : match.start()]
        after = line[match.end() : match.end() + 5]
        # Part of a date or time ("05.12.2026", "14:32"): not an amount.
        if re.match(r"[./:-][0-9]", line[match.end() : match.end() + 2]) or re.search(
            r"[0-9][/:-]$", line[max(0, match.start() - 2) : match.start()]
        ):
            continue
        value = read_amount(token)
        if value is None or value <= 0:
            continue
        decimals = bool(re.search(r"[.,][0-9]{2}$", token))
        marked = bool(_ANY_MARK.search(before) or _ANY_MARK.search(after))
        if decimals or marked:
            found.append(_Amount(value, marked, decimals))
    return found


# ---------------------------------------------------------------- keywords

_TOTAL_STRONG = re.compile(
    r"zu\s*zahlen|amount\s*due|balance\s*due|grand\s*total|gesamtbetrag|endbetrag|"
    r"total\s*to\s*pay|rechnungsbetrag|total\s*amount|total\s*due",
    re.IGNORECASE,
)
_TOTAL = re.compile(r"summe|gesamt|total|betrag|to\s*pay|amount", re.IGNORECASE)
_NOT_TOTAL = re.compile(
    r"zwischen\s*summe|sub\s*-?\s*total|netto|\bnet\b|gegeben|r[üu]ckgeld|change|"
    r"tendered|cash\s*given|trinkgeld\s*$",
    re.IGNORECASE,
)
_VAT = re.compile(
    r"mwst|m\s*w\s*s\s*t|\bust\b|u\s*st\.|mehrwert|umsatzsteuer|\bvat\b|\btax\b|steuer",
    re.IGNORECASE,
)
_INCLUDED = re.compile(r"\binkl|\bincl|including|enthalten", re.IGNORECASE)
_DATE_LABEL = re.compile(r"datum|\bdate\b|\bdated\b", re.IGNORECASE)
_GERMAN = re.compile(
    r"summe|gesamt|mwst|\bust\b|datum|betrag|zu\s*zahlen|rechnung|quittung|vielen\s*dank|"
    r"stra(?:ss|ß)e|str\.|uhrzeit|kasse|bar\b|netto|brutto",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"total|\bvat\b|\bdate\b|amount|receipt|thank\s*you|invoice|\btax\b|subtotal|"
    r"\bstreet\b|\broad\b|change|cash|card",
    re.IGNORECASE,
)


def detect_language(text: str, hint: str = "") -> str:
    """'de' or 'en' by the receipt's words; the hint (the reader's language) decides a
    tie."""
    de = len(_GERMAN.findall(text))
    en = len(_ENGLISH.findall(text))
    if de > en:
        return "de"
    if en > de:
        return "en"
    return "de" if (hint or "").lower().startswith("de") else "en"


# ---------------------------------------------------------------- dates

_MONTHS = {
    "jan": 1, "januar": 1, "january": 1, "jän": 1, "feb": 2, "februar": 2, "february": 2,
    "mar": 3, "mär": 3, "maerz": 3, "märz": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "mai": 5, "jun": 6, "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10, "okt": 10,
    "oktober": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "dez": 12,
    "dezember": 12, "december": 12,
}  # fmt: skip
_DOTTED = re.compile(
    r"(?<![0-9])([0-9]{1,2})\s?\.\s?([0-9]{1,2})\s?\.\s?([0-9]{4}|[0-9]{2})(?![0-9])"
)
_SLASHED = re.compile(
    r"(?<![0-9])([0-9]{1,2})\s?/\s?([0-9]{1,2})\s?/\s?([0-9]{4}|[0-9]{2})(?![0-9])"
)
_ISO = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
_NAMED = re.compile(r"(?<![0-9])([0-9]{1,2})\.?\s+([A-Za-zÄÖÜäöü]{3,9})\.?,?\s+([0-9]{4})(?![0-9])")
_NAMED_US = re.compile(r"\b([A-Za-z]{3,9})\.?\s+([0-9]{1,2}),?\s+([0-9]{4})(?![0-9])")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _make(year: int, month: int, day: int) -> dt.date | None:
    if not 1990 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _dates(line: str, *, month_first: bool) -> list[tuple[int, dt.date]]:
    found: list[tuple[int, dt.date]] = []
    for m in _ISO.finditer(line):
        if day := _make(int(m[1]), int(m[2]), int(m[3])):
            found.append((m.start(), day))
    for m in _DOTTED.finditer(line):
        if day := _make(_year(m[3]), int(m[2]), int(m[1])):
            found.append((m.start(), day))
    for m in _SLASHED.finditer(line):
        a, b, year = int(m[1]), int(m[2]), _year(m[3])
        first, second = (_make(year, a, b), _make(year, b, a))  # m/d, d/m
        day = (first or second) if month_first else (second or first)
        if day:
            found.append((m.start(), day))
    for m in _NAMED.finditer(line):
        month = _MONTHS.get(m[2].lower())
        if month and (day := _make(int(m[3]), month, int(m[1]))):
            found.append((m.start(), day))
    for m in _NAMED_US.finditer(line):
        month = _MONTHS.get(m[1].lower())
        if month and (day := _make(int(m[3]), month, int(m[2]))):
            found.append((m.start(), day))
    return sorted(found, key=lambda pair: pair[0])


# ---------------------------------------------------------------- merchant

_HEADINGS = re.compile(
    r"^(?:rechnung|quittung|beleg|kassenbon|kassenbeleg|bon|receipt|invoice|tax\s*invoice|"
    r"sales\s*receipt|willkommen|welcome|kundenbeleg|bewirtungsbeleg|copy|kopie|original)\b",
    re.IGNORECASE,
)
_ADDRESS_OR_CONTACT = re.compile(
    r"\btel\b|telefon|phone|fax|www\.|https?:|@|\bst(?:r|eu)?[.-]?\s*nr|\bust-?id|"
    r"\bvat\s*(?:no|reg)|\b[0-9]{5}\b|\b[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}\b",
    re.IGNORECASE,
)


def _merchant(lines: list[str]) -> str:
    for raw in lines[:8]:
        line = re.sub(r"\s+", " ", raw).strip(" *-=_.,:;|#~'\"")
        letters = sum(ch.isalpha() for ch in line)
        visible = sum(not ch.isspace() for ch in line)
        if letters < 3 or letters < 0.6 * visible:
            continue
        if len({ch.lower() for ch in line if ch.isalpha()}) < 4:
            continue  # "eee", "nn EEE": a photo's edge read as letters
        if _HEADINGS.match(line) or _ADDRESS_OR_CONTACT.search(line):
            continue
        if _TOTAL.search(line) or _VAT.search(line) or _DATE_LABEL.search(line):
            continue
        return line[:200]
    return ""


# ---------------------------------------------------------------- the reader


def _currency_of(text: str) -> str:
    counts = {
        code: len(pattern.findall(text))
        for pattern, code in _CURRENCY_MARKS
        if pattern.search(text)
    }
    if not counts:
        return ""
    return max(counts, key=lambda code: counts[code])


def parse_receipt(text: str, language: str = "") -> ReceiptReading:
    """What the OCR `text` of one receipt says; `language` ("de"/"en") is the reader's,
    used only when the receipt's own words do not tell."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    lang = detect_language(text or "", language)

    # Total: the best total line's last amount (or the next line's first, where OCR
    # put the column below its label).
    best: tuple[int, Decimal, int] | None = None  # (rank, value, line index)
    for index, line in enumerate(lines):
        if _NOT_TOTAL.search(line):
            continue
        strong = _TOTAL_STRONG.search(line)
        if not strong and not _TOTAL.search(line):
            continue
        if _VAT.search(line) and not _INCLUDED.search(line):
            continue
        amounts = _amounts(line)
        if not amounts and index + 1 < len(lines) and not _TOTAL.search(lines[index + 1]):
            amounts = _amounts(lines[index + 1])[:1]
        if not amounts:
            continue
        rank = 2 if strong else 1
        value = amounts[-1].value
        if best is None or (rank, value) > (best[0], best[1]):
            best = (rank, value, index)
    total_line = ""
    if best is not None:
        total = best[1]
        total_line = lines[best[2]]
    else:
        marked = [a.value for line in lines for a in _amounts(line) if a.marked and a.decimals]
        total = max(marked) if marked else None

    currency = _currency_of(total_line) or _currency_of(text or "")

    # VAT: smallest non-rate amount below the total on each VAT line, summed per rate.
    vat_parts: list[Decimal] = []
    for line in lines:
        if not _VAT.search(line):
            continue
        candidates = [
            a.value for a in _amounts(line) if a.decimals and (total is None or a.value < total)
        ]
        if candidates:
            part = min(candidates)
            if part not in vat_parts:
                vat_parts.append(part)
    vat = sum(vat_parts, Decimal(0)) if vat_parts else None
    if vat is not None and total is not None and vat >= total:
        vat = None

    # Date: a "Datum"/"Date" line's, else the first.
    month_first = currency == "USD"
    labelled = [
        d
        for line in lines
        if _DATE_LABEL.search(line)
        for _, d in _dates(line, month_first=month_first)
    ]
    anywhere = [d for line in lines for _, d in _dates(line, month_first=month_first)]
    date = (labelled or anywhere or [None])[0]

    merchant = _merchant(lines)
    if total is not None:
        total = (
            total.quantize(money.quantum(currency or "EUR"))
            if not money.has_too_many_decimals(total, currency or "EUR")
            else None
        )
    fields = tuple(
        name
        for name, value in (
            ("amount", total),
            ("currency", currency),
            ("date", date),
            ("merchant", merchant),
            ("vat", vat),
        )
        if value not in (None, "")
    )
    return ReceiptReading(
        amount=total,
        currency=currency,
        date=date,
        merchant=merchant,
        vat=vat,
        language=lang,
        fields=fields,
    )
