"""Exchange rates: loading the ECB reference-rate files.

The ECB publishes its euro foreign exchange reference rates as CSV (and the
same CSV zipped), units of each currency per 1 EUR:

- the daily file `eurofxref.csv`: a header `Date, USD, JPY, ...` and one row
  dated like `28 November 2025`;
- the history file `eurofxref-hist.csv`: the same header and one row per
  working day, dated `2025-11-28`, newest first; a currency not quoted that
  day reads `N/A`.

Both end every line with a comma (an empty trailing column). Loading is an
upsert on (currency, date), so loading a file twice, or an overlapping one,
changes nothing but the rates that differ.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from ..models import ExchangeRate

ECB_SOURCE = "ECB euro foreign exchange reference rates"
MISSING = {"", "N/A", "NA", "-"}
CODE = re.compile(r"^[A-Z]{3}$")
BATCH = 2000
RATE_QUANTUM = Decimal("0.000001")
MAX_RATE = Decimal(10) ** 12


class FxFileError(ValueError):
    """The file is not a reference-rate file we can read; the message says where."""


@dataclass(frozen=True)
class Rate:
    currency: str
    rate_date: date
    rate: Decimal


@dataclass(frozen=True)
class LoadResult:
    rates: int
    first_date: date
    last_date: date
    currencies: int


def _parse_date(text: str, line: int) -> date:
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise FxFileError(
        f"line {line}: {text!r} is not a date (expected 2026-11-30 or 30 November 2026)"
    )


def parse_ecb_csv(text: str) -> list[Rate]:
    """Every rate in an ECB CSV text, daily or history format. Raises FxFileError."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise FxFileError("the file is empty")
    header = [cell.strip() for cell in rows[0]]
    if header[0].lower() != "date":
        raise FxFileError(
            f"the first column is {header[0]!r}, not 'Date': "
            "this is not an ECB reference-rate CSV file"
        )
    columns: list[tuple[int, str]] = []
    for index, name in enumerate(header[1:], start=1):
        if not name:
            continue  # the trailing empty column every ECB line ends with
        code = name.upper()
        if not CODE.match(code):
            raise FxFileError(f"column {index + 1} of the header is {name!r}, not a currency code")
        columns.append((index, code))
    if not columns:
        raise FxFileError("the header names no currency")
    rates: list[Rate] = []
    for line, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        day = _parse_date(cells[0], line)
        for index, code in columns:
            value = cells[index] if index < len(cells) else ""
            if value.upper() in MISSING:
                continue  # not quoted that day
            try:
                rate = Decimal(value)
            except InvalidOperation:
                raise FxFileError(f"line {line}, {code}: {value!r} is not a number") from None
            if not rate.is_finite() or rate <= 0:
                raise FxFileError(f"line {line}, {code}: the rate {value!r} is not positive")
            rates.append(Rate(currency=code, rate_date=day, rate=rate))
    if not rates:
        raise FxFileError("the file holds no rates")
    return rates


def read_rate_file(path: Path) -> str:
    """The CSV text of `path`; a .zip from the ECB is opened and its one CSV read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FxFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if zipfile.is_zipfile(io.BytesIO(raw)):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise FxFileError(f"{path} should hold exactly one .csv file, it holds {names}")
            raw = archive.read(names[0])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FxFileError(f"{path} is not a text file (UTF-8)") from exc


@transaction.atomic
def fx_rates_load(*, path: Path, source: str = "") -> LoadResult:
    """Upsert every rate of the file at `path`. Raises FxFileError (nothing is saved then)."""
    rates = parse_ecb_csv(read_rate_file(path))
    source = (source or f"{ECB_SOURCE} ({path.name})")[:200]
    # One value per (currency, day): a file repeating a day keeps its last row.
    unique = {(r.currency, r.rate_date): r for r in rates}
    for r in unique.values():
        # The column holds 12 digits before and 6 after the point.
        if r.rate >= MAX_RATE or r.rate.quantize(RATE_QUANTUM) <= 0:
            raise FxFileError(f"{r.currency} on {r.rate_date}: the rate {r.rate} is out of range")
    objects = [
        ExchangeRate(
            currency=r.currency,
            rate_date=r.rate_date,
            rate=r.rate.quantize(RATE_QUANTUM),
            source=source,
        )
        for r in unique.values()
    ]
    for start in range(0, len(objects), BATCH):
        ExchangeRate.objects.bulk_create(
            objects[start : start + BATCH],
            update_conflicts=True,
            unique_fields=["currency", "rate_date"],
            update_fields=["rate", "source", "updated_at"],
        )
    days = [r.rate_date for r in unique.values()]
    return LoadResult(
        rates=len(objects),
        first_date=min(days),
        last_date=max(days),
        currencies=len({r.currency for r in unique.values()}),
    )
