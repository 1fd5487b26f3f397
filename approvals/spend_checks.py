"""Spend checks: the policy's flags on an expense report's lines, as one pure function.

Pure: no Django, no ORM, no I/O. `evaluate(lines, report, history, rules)` is what
submission runs (`services.flags`, which reads the candidate past lines through
the indexes) and what the what-if runs for a draft over past reports, so the
what-if shows exactly what a draft would flag. The checks are part of the
versioned policy (`PolicyRules.checks`, the JSON in `PolicyVersion.rules`),
pinned with the request like the routing.

Each check is `off`, `warn` (a flag the approver sees) or `block` (submission is
refused with the message at the line). A flag names a line (1-based) or 0 for
the report as a whole, and carries plain parameters; `approvals.flag_labels`
words it in the reader's language.

Checks (all amounts in EUR cents, at the report's pinned rates):
- `receipt_missing`: a line without a receipt from an amount (per category).
- `over_limit`: a category's limit per line, per night (`nights` read from the
  description, "3 nights"/"3 Nächte", else 1), per person (attendees: names
  separated by commas, semicolons or lines, plus the requester) or per day (the
  report's lines of that category on one date together). A limit may apply only
  to lines whose merchant or description contains a word (`match`, e.g.
  "hotel" on travel lines: there is no hotel category).
- `duplicate`: another line (any employee's, or an earlier line of this report)
  with the same receipt file (SHA-256), or the same merchant, date and amount.
- `near_duplicate`: the same merchant, the amount within `tolerance_percent`
  and the date within `days` days (and not an exact duplicate).
- `split`: the same person's other reports within `days` days with a line of
  the same merchant or category, which together with this one reach a routing
  threshold (more management levels, or a rule's minimum) that each of them
  stays under.
- `weekend` / `holiday`: a line dated on a Saturday/Sunday / a public holiday
  of the requester's calendar.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date

from .policy.rules import DEMO_CHECKS, PolicyRules

OFF, WARN, BLOCK = "off", "warn", "block"
ACTIONS = (OFF, WARN, BLOCK)
PER_LINE, PER_NIGHT, PER_PERSON, PER_DAY = "line", "night", "person", "day"
PERS = (PER_LINE, PER_NIGHT, PER_PERSON, PER_DAY)


class Code:
    DUPLICATE = "duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    SPLIT = "split"
    RECEIPT_MISSING = "receipt_missing"
    OVER_LIMIT = "over_limit"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


CODES = (
    Code.DUPLICATE,
    Code.NEAR_DUPLICATE,
    Code.SPLIT,
    Code.RECEIPT_MISSING,
    Code.OVER_LIMIT,
    Code.WEEKEND,
    Code.HOLIDAY,
)


# --------------------------------------------------------------- the rules
@dataclass
class CategoryLimit:
    category: str
    cents: int
    per: str = PER_LINE
    match: str = ""  # only lines whose merchant or description contains this word


@dataclass
class SpendChecks:
    receipt: str = OFF
    receipt_from_cents: int = 2_500
    receipt_from_by_category: dict[str, int] = field(default_factory=dict)
    limits: str = OFF
    category_limits: list[CategoryLimit] = field(default_factory=list)
    duplicates: str = OFF
    near_duplicates: str = OFF
    near_tolerance_percent: int = 5
    near_days: int = 3
    splits: str = OFF
    split_days: int = 7
    weekend: str = OFF
    holiday: str = OFF

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> SpendChecks:
        data = dict(data or {})
        limits = [CategoryLimit(**dict(raw)) for raw in data.pop("category_limits", []) or []]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, category_limits=limits)


def demo_checks() -> SpendChecks:
    """The demo's defaults (`policy.rules.DEMO_CHECKS`, part of version 1)."""
    return SpendChecks.from_dict(DEMO_CHECKS)


# --------------------------------------------------------------- the facts
@dataclass(frozen=True)
class LineFacts:
    """A line of the report being checked."""

    position: int
    date: date
    category: str
    amount_minor: int  # in the line's currency
    currency: str
    base_cents: int  # EUR at the report's pinned rate
    merchant_key: str = ""
    receipt_sha256: str = ""
    description: str = ""
    attendees: str = ""


@dataclass(frozen=True)
class ReportFacts:
    requester: str
    day: date  # the submission day (a line without a date is dated so)
    total_cents: int  # EUR, the report's routing amount
    request_id: int = 0  # 0: not saved yet
    holidays: frozenset[date] = frozenset()  # the requester's calendar
    routing_thresholds: tuple[int, ...] = ()  # EUR cents where the routing adds a level


@dataclass(frozen=True)
class PastLine:
    request_id: int
    position: int
    requester: str
    date: date
    category: str
    amount_minor: int
    currency: str
    base_cents: int
    report_total_cents: int
    merchant_key: str = ""
    receipt_sha256: str = ""


@dataclass
class PastLines:
    """The candidates the service read through the indexes (any may be irrelevant:
    the checks decide; the service only narrows)."""

    lines: list[PastLine] = field(default_factory=list)


@dataclass(frozen=True)
class Flag:
    code: str
    line: int  # 1-based; 0 = the report
    severity: str  # WARN | BLOCK
    params: dict = field(default_factory=dict, hash=False, compare=True)


# --------------------------------------------------------------- helpers
_SEPARATORS = re.compile(r"[,;\n]+")
_NIGHTS = re.compile(r"(\d{1,3})\s*(?:nights?|nächte|nacht|naechte|n\b)", re.IGNORECASE)


def merchant_key(text: str) -> str:
    """What the duplicate checks compare: lower-cased, spaces collapsed."""
    return " ".join((text or "").lower().split())


def people_count(attendees: str) -> int:
    """The attendees named (comma, semicolon or line separated) plus the requester."""
    return 1 + sum(1 for name in _SEPARATORS.split(attendees or "") if name.strip())


def nights_of(description: str) -> int:
    found = _NIGHTS.search(description or "")
    return max(1, int(found.group(1))) if found else 1


def checks_of(rules: PolicyRules) -> SpendChecks:
    return SpendChecks.from_dict(rules.checks)


def routing_thresholds(rules: PolicyRules) -> tuple[int, ...]:
    """The EUR amounts from which the routing adds a level: more managers, or a rule."""
    minimums = [r.when.min_cents for r in rules.rules]
    found = (rules.two_levels_from_cents, rules.three_levels_from_cents, *minimums)
    return tuple(sorted({t for t in found if t > 0}))


def _applies(limit: CategoryLimit, line: LineFacts) -> bool:
    if limit.category and line.category != limit.category:
        return False
    if limit.match:
        word = limit.match.lower()
        return word in line.merchant_key or word in (line.description or "").lower()
    return True


def _sev(action: str) -> str:
    return BLOCK if action == BLOCK else WARN


# --------------------------------------------------------------- the checks
def _receipts(lines, checks: SpendChecks) -> list[Flag]:
    found = []
    for line in lines:
        limit = checks.receipt_from_by_category.get(line.category, checks.receipt_from_cents)
        if not line.receipt_sha256 and line.base_cents >= limit:
            found.append(
                Flag(Code.RECEIPT_MISSING, line.position, _sev(checks.receipt), {"from": limit})
            )
    return found


def _limits(lines, checks: SpendChecks) -> list[Flag]:
    found = []
    for limit in checks.category_limits:
        if limit.per == PER_DAY:
            by_day: dict[date, list[LineFacts]] = {}
            for line in lines:
                if _applies(limit, line):
                    by_day.setdefault(line.date, []).append(line)
            for day, same in sorted(by_day.items()):
                total = sum(x.base_cents for x in same)
                if total > limit.cents:
                    found.append(
                        Flag(
                            Code.OVER_LIMIT,
                            same[-1].position,
                            _sev(checks.limits),
                            {
                                "category": limit.category,
                                "per": PER_DAY,
                                "limit": limit.cents,
                                "actual": total,
                                "date": day.isoformat(),
                            },
                        )
                    )
            continue
        for line in lines:
            if not _applies(limit, line):
                continue
            units = 1
            if limit.per == PER_NIGHT:
                units = nights_of(line.description)
            elif limit.per == PER_PERSON:
                units = people_count(line.attendees)
            # Exact: over the limit when amount > limit * units (no division, no rounding).
            if line.base_cents > limit.cents * units:
                found.append(
                    Flag(
                        Code.OVER_LIMIT,
                        line.position,
                        _sev(checks.limits),
                        {
                            "category": limit.category,
                            "per": limit.per,
                            "limit": limit.cents,
                            "actual": line.base_cents // units,
                            "units": units,
                        },
                    )
                )
    return found


def _near(a: int, b: int, percent: int) -> bool:
    return abs(a - b) * 100 <= percent * max(a, b)


def _duplicates(lines, report: ReportFacts, history: PastLines, checks: SpendChecks):
    found = []
    others = [p for p in history.lines if p.request_id != report.request_id or not p.request_id]
    for line in lines:
        earlier = [
            PastLine(
                request_id=report.request_id,
                position=x.position,
                requester=report.requester,
                date=x.date,
                category=x.category,
                amount_minor=x.amount_minor,
                currency=x.currency,
                base_cents=x.base_cents,
                report_total_cents=report.total_cents,
                merchant_key=x.merchant_key,
                receipt_sha256=x.receipt_sha256,
            )
            for x in lines
            if x.position < line.position
        ]
        exact = None
        near = None
        for past in [*others, *earlier]:
            same_receipt = bool(line.receipt_sha256) and past.receipt_sha256 == line.receipt_sha256
            same_merchant = bool(line.merchant_key) and past.merchant_key == line.merchant_key
            same_amount = (past.amount_minor, past.currency) == (line.amount_minor, line.currency)
            if same_receipt or (same_merchant and past.date == line.date and same_amount):
                exact = exact or (past, "receipt" if same_receipt else "merchant")
            elif (
                same_merchant
                and abs((past.date - line.date).days) <= checks.near_days
                and _near(past.base_cents, line.base_cents, checks.near_tolerance_percent)
            ):
                near = near or past
        if exact and checks.duplicates != OFF:
            past, why = exact
            found.append(
                Flag(
                    Code.DUPLICATE,
                    line.position,
                    _sev(checks.duplicates),
                    {
                        "request": past.request_id,
                        "line": past.position,
                        "by": why,
                        "same_report": any(past is e for e in earlier),
                    },
                )
            )
        elif near and checks.near_duplicates != OFF:
            found.append(
                Flag(
                    Code.NEAR_DUPLICATE,
                    line.position,
                    _sev(checks.near_duplicates),
                    {"request": near.request_id, "line": near.position},
                )
            )
    return found


def _splits(lines, report: ReportFacts, history: PastLines, checks: SpendChecks):
    if not report.routing_thresholds:
        return []
    keys = {x.merchant_key for x in lines if x.merchant_key}
    categories = {x.category for x in lines}
    days = [x.date for x in lines] or [report.day]
    totals: dict[int, int] = {}
    for past in history.lines:
        if past.requester != report.requester or past.request_id == report.request_id:
            continue
        related = (past.merchant_key and past.merchant_key in keys) or past.category in categories
        near = min(abs((past.date - d).days) for d in days) <= checks.split_days
        if related and near:
            totals[past.request_id] = past.report_total_cents
    if not totals:
        return []
    together = report.total_cents + sum(totals.values())
    largest = max(report.total_cents, *totals.values())
    for threshold in report.routing_thresholds:
        if largest < threshold <= together:
            return [
                Flag(
                    Code.SPLIT,
                    0,
                    _sev(checks.splits),
                    {
                        "threshold": threshold,
                        "total": together,
                        "requests": sorted(totals),
                    },
                )
            ]
    return []


def _calendar(lines, report: ReportFacts, checks: SpendChecks) -> list[Flag]:
    found = []
    for line in lines:
        if checks.holiday != OFF and line.date in report.holidays:
            found.append(
                Flag(Code.HOLIDAY, line.position, _sev(checks.holiday), {"date": str(line.date)})
            )
        elif checks.weekend != OFF and line.date.weekday() >= 5:
            found.append(
                Flag(Code.WEEKEND, line.position, _sev(checks.weekend), {"date": str(line.date)})
            )
    return found


def evaluate(
    lines: list[LineFacts], report: ReportFacts, history: PastLines, checks: SpendChecks
) -> list[Flag]:
    """Every flag of the report, ordered by line then code (report-level flags first)."""
    found: list[Flag] = []
    if checks.receipt != OFF:
        found += _receipts(lines, checks)
    if checks.limits != OFF:
        found += _limits(lines, checks)
    if checks.duplicates != OFF or checks.near_duplicates != OFF:
        found += _duplicates(lines, report, history, checks)
    if checks.splits != OFF:
        found += _splits(lines, report, history, checks)
    if checks.weekend != OFF or checks.holiday != OFF:
        found += _calendar(lines, report, checks)
    return sorted(found, key=lambda f: (f.line, CODES.index(f.code)))


def blocking(flags: list[Flag]) -> list[Flag]:
    return [f for f in flags if f.severity == BLOCK]
