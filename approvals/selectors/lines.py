"""Reads of a report's lines for the pages that decide it (request page, inbox row,
mail link page, mails, API): the lines in order and what is approved of them.

`lines_by_request` loads the lines of many reports in one query (the inbox asks once
per page, never per row). `approved_total` is the sum of the lines still open: in EUR
(each line at the report's pinned rate) and in each original currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .. import money
from ..models import ExpenseLine, ExpenseRequest, LineStatus


def line_base_cents(line: ExpenseLine) -> int:
    """The line in EUR cents at the report's pinned rate (EUR lines: their own amount)."""
    if line.base_amount_cents is not None:
        return line.base_amount_cents
    if line.currency == money.BASE_CURRENCY:
        return line.amount_cents
    return 0


@dataclass
class Total:
    eur_cents: int = 0
    # currency -> amount in that currency (Decimal), in first-seen order
    by_currency: dict = field(default_factory=dict)
    count: int = 0

    @property
    def converted(self) -> bool:
        """Show the EUR figure beside the originals: some line is in another currency."""
        return any(c != money.BASE_CURRENCY for c in self.by_currency)

    @property
    def eur(self):
        return money.from_minor(self.eur_cents, money.BASE_CURRENCY)


def _total(lines, *, open_only: bool) -> Total:
    total = Total()
    for line in lines:
        if open_only and line.status == LineStatus.REJECTED:
            continue
        total.count += 1
        total.eur_cents += line_base_cents(line)
        total.by_currency[line.currency] = total.by_currency.get(line.currency, 0) + line.amount
    return total


def approved_total(lines) -> Total:
    """What is approved so far: the lines nobody rejected."""
    return _total(lines, open_only=True)


def report_total(lines) -> Total:
    """Every line, rejected ones included (the report as submitted)."""
    return _total(lines, open_only=False)


def lines_of(request: ExpenseRequest) -> list[ExpenseLine]:
    """The report's lines in order (uses a prefetch when the caller made one)."""
    return sorted(request.lines.all(), key=lambda line: line.position)


def lines_by_request(request_ids) -> dict[int, list[ExpenseLine]]:
    """The lines of each report, in order: ONE query whatever the number of reports."""
    grouped: dict[int, list[ExpenseLine]] = defaultdict(list)
    ids = sorted({int(pk) for pk in request_ids})
    if not ids:
        return {}
    for line in ExpenseLine.objects.filter(request_id__in=ids).order_by("request_id", "position"):
        grouped[line.request_id].append(line)
    return dict(grouped)


def attach_lines(rows) -> None:
    """Give each inbox row its `lines`, `line_total` and `line_approved` (one query for
    the page, none per row)."""
    grouped = lines_by_request(row.request_id for row in rows)
    for row in rows:
        row.lines = grouped.get(row.request_id, [])
        row.line_total = report_total(row.lines)
        row.line_approved = approved_total(row.lines)
