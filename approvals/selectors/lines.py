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


@dataclass
class LineText:
    """A line as the inbox row prints it: every value formatted once, in Python, in the
    reader's language (the row template stays free of filters and includes: the inbox
    renders many rows, bench/render.py)."""

    n: int
    status: str
    rejected: bool
    merchant: str
    category: str
    date_iso: str
    date_text: str
    amount_text: str
    base_text: str  # "≈ EUR" for another currency; "" otherwise
    vat_text: str
    description: str
    attendees: str
    receipt_url: str
    preview_url: str
    rejection_text: str
    reason: str


@dataclass
class TotalText:
    count: int
    eur_text: str
    originals_text: str  # "440.40 EUR + 124.00 GBP" when some line is in another currency


def _total_text(total: Total) -> TotalText:
    from ..templatetags.amounts import eur_cents
    from ..templatetags.amounts import money as money_text

    originals = ""
    if total.converted:
        originals = " + ".join(money_text(a, c) for c, a in total.by_currency.items())
    return TotalText(total.count, eur_cents(total.eur_cents), originals)


def line_text(line: ExpenseLine) -> LineText:
    from django.utils import formats
    from django.utils.translation import gettext as _

    from ..templatetags.amounts import eur_cents
    from ..templatetags.amounts import money as money_text
    from .requests import request_url

    rejected = line.status == LineStatus.REJECTED
    rejection = ""
    if rejected:
        rejection = (
            _("Rejected by %(who)s at level %(level)s")
            % {"who": line.rejected_by, "level": line.rejected_level}
            if line.rejected_by
            else _("Rejected")
        )
    base = ""
    if line.currency != money.BASE_CURRENCY and line.base_amount_cents is not None:
        base = eur_cents(line.base_amount_cents)
    detail = request_url("request-detail", line.request_id)
    receipt = f"{detail}lines/{line.position}/receipt/" if line.receipt else ""
    return LineText(
        n=line.position,
        status=line.status,
        rejected=rejected,
        merchant=line.merchant or "—",
        category=str(line.get_category_display()),
        date_iso=line.date.isoformat() if line.date else "",
        date_text=formats.date_format(line.date, "SHORT_DATE_FORMAT") if line.date else "",
        amount_text=money_text(line.amount, line.currency),
        base_text=base,
        vat_text=money_text(line.vat, line.currency) if line.vat is not None else "",
        description=line.description,
        attendees=line.attendees,
        receipt_url=receipt,
        preview_url=f"{receipt}preview.png" if receipt else "",
        rejection_text=rejection,
        reason=line.rejection_reason,
    )


def attach_lines(rows, grouped: dict[int, list[ExpenseLine]] | None = None) -> None:
    """Give each inbox row its `lines` (ExpenseLine), `line_items` (LineText) and the
    texts of its totals, `line_total` and `line_approved`: one query for the page, none
    per row. Call it where the reader's language is active (the view)."""
    from django.utils.translation import ngettext

    if grouped is None:
        grouped = lines_by_request(row.request_id for row in rows)
    for row in rows:
        row.lines = grouped.get(row.request_id, [])
        row.line_items = [line_text(line) for line in row.lines]
        row.line_total = _total_text(report_total(row.lines))
        row.line_approved = _total_text(approved_total(row.lines))
        n = len(row.lines)
        row.line_count_text = ngettext("%(n)s line", "%(n)s lines", n) % {"n": n}
