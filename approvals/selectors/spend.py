"""Spend in money (issue 27): EUR by category, cost centre and month, from the lines of
the reports submitted in the period, and the flagged lines and how they were decided.

Spend counts the lines of reports that are approved or still in approval (queued,
pending, changes requested); rejected lines and withdrawn, rejected or expired reports
are out. Amounts are the lines' pinned EUR cents (`base_amount_cents`), summed by
the database. A month is the line's date's (the submission day for a line without
one), as an ISO date of its first day. A line is flagged when a spend-check flag names
it or its report as a whole (a split); how it was decided: the line rejected, else its
report's status now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from ..models import Category, ExpenseLine, LineFlag, LineStatus, RequestStatus

SPENDING = [
    RequestStatus.QUEUED,
    RequestStatus.PENDING,
    RequestStatus.CHANGES_REQUESTED,
    RequestStatus.APPROVED,
]
LINE_REJECTED = "line_rejected"


@dataclass
class Spend:
    by_category: list[tuple[str, str, int]] = field(default_factory=list)  # key, label, cents
    by_cost_centre: list[tuple[str, int]] = field(default_factory=list)  # code ("" none), cents
    by_month: list[tuple[date, int]] = field(default_factory=list)
    total_cents: int = 0
    lines: int = 0  # every line of the period's reports (for the flagged share)
    flagged: int = 0
    decided: dict[str, int] = field(default_factory=dict)  # outcome -> flagged lines

    @property
    def flagged_percent(self) -> float:
        return 100 * self.flagged / self.lines if self.lines else 0.0


def _period_lines(days: int):
    lines = ExpenseLine.objects.all()
    if days:
        lines = lines.filter(request__created_at__gte=timezone.now() - timedelta(days=days))
    return lines


def spend(*, days: int) -> Spend:
    lines = _period_lines(days)
    counted = lines.filter(request__status__in=SPENDING).exclude(status=LineStatus.REJECTED)
    cents = Sum("base_amount_cents")
    labels = dict(Category.choices)
    result = Spend()
    for row in counted.values("category").annotate(c=cents).order_by("category"):
        result.by_category.append((row["category"], str(labels.get(row["category"], "")), row["c"]))
    for row in (
        counted.values("request__requester__cost_centre__code")
        .annotate(c=cents)
        .order_by("request__requester__cost_centre__code")
    ):
        result.by_cost_centre.append((row["request__requester__cost_centre__code"] or "", row["c"]))
    month = TruncMonth(Coalesce("date", TruncDate("request__created_at")))
    for row in counted.annotate(m=month).values("m").annotate(c=cents).order_by("m"):
        result.by_month.append((row["m"], row["c"]))
    result.total_cents = sum(c or 0 for _k, _l, c in result.by_category)
    named = LineFlag.objects.filter(request=OuterRef("request")).filter(
        Q(position=OuterRef("position")) | Q(position=0)
    )
    flagged = lines.annotate(flagged=Exists(named))
    result.lines = lines.count()
    outcomes = (
        flagged.filter(flagged=True)
        .values("status", "request__status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    decided: dict[str, int] = {}
    for row in outcomes:
        key = LINE_REJECTED if row["status"] == LineStatus.REJECTED else row["request__status"]
        decided[key] = decided.get(key, 0) + row["n"]
    result.decided = dict(sorted(decided.items()))
    result.flagged = sum(decided.values())
    return result
