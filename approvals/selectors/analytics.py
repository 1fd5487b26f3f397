"""SLA analytics (admins): how long decisions take, what is overdue, escalations, outcomes.

From the projection and the audit table only (no Temporal call), over a period of
`days` before now (0 = everything):

- time to decision per level: from the level's assignment (its latest `assigned` row
  before the decision) to the decision; per approver: from when the level reached the
  decider (the latest `assigned`, `escalated` or `rerouted` row of that level) to their
  decision. Median and 90th percentile, linear interpolation between the closest
  ranks (numpy's default: p of [1, 2, 3, 4] is 1 + 3p).
- overdue now: pending requests past their level's deadline (whatever the period).
- escalations and expiries per week (weeks start on Monday, in the current time zone).
- requests by outcome (their status now) and lines by category (rejected lines left
  out, with their EUR), of the requests submitted in the period.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from ..models import AuditEntry, Category, ExpenseLine, ExpenseRequest, LineStatus, RequestStatus
from ..workflow.contract import StepKind

PERIODS = (7, 30, 90, 365, 0)
DEFAULT_PERIOD = 90
MAX_WEEKS = 52
OUTCOMES = [s.value for s in RequestStatus]


def percentile(values: list[float], p: float) -> float | None:
    """The p-quantile (0..1) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Timing:
    key: str
    label: str
    seconds: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.seconds)

    @property
    def median(self) -> float | None:
        return percentile(self.seconds, 0.5)

    @property
    def p90(self) -> float | None:
        return percentile(self.seconds, 0.9)


@dataclass
class Week:
    start: date
    escalations: int = 0
    expiries: int = 0


@dataclass
class CategoryRow:
    key: str
    label: str
    counts: dict[str, int]  # lines per outcome of their report
    eur_cents: int = 0  # the lines' EUR at their reports' pinned rates

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Analytics:
    days: int
    since: datetime | None
    by_level: list[Timing]
    by_approver: list[Timing]
    overdue: list[ExpenseRequest]
    overdue_total: int
    weeks: list[Week]
    outcomes: dict[str, int]
    categories: list[CategoryRow]

    @property
    def decisions(self) -> int:
        return sum(t.count for t in self.by_level)


def _since(days: int, now: datetime) -> datetime | None:
    return now - timedelta(days=days) if days else None


def _in_period(qs, since: datetime | None, field_name: str = "at"):
    return qs.filter(**{f"{field_name}__gte": since}) if since else qs


def time_to_decision(since: datetime | None) -> tuple[list[Timing], list[Timing]]:
    decided = list(
        _in_period(AuditEntry.objects.filter(kind=StepKind.DECIDED), since).values_list(
            "request_id", "level", "at", "actor_username", "actor_name"
        )
    )
    if not decided:
        return [], []
    starts: dict[tuple[int, int], list[tuple[datetime, str]]] = defaultdict(list)
    for request_id, level, at, kind in AuditEntry.objects.filter(
        request_id__in={d[0] for d in decided},
        kind__in=(StepKind.ASSIGNED, StepKind.ESCALATED, StepKind.REROUTED),
    ).values_list("request_id", "level", "at", "kind"):
        starts[(request_id, level)].append((at, kind))
    levels: dict[int, Timing] = {}
    people: dict[str, Timing] = {}
    for request_id, level, at, username, name in decided:
        before = [(t, k) for t, k in starts.get((request_id, level), []) if t <= at]
        assigned = [t for t, k in before if k == StepKind.ASSIGNED]
        if not assigned:
            continue  # its assignment is not in the audit table (e.g. imported)
        lt = levels.setdefault(level, Timing(str(level), str(level)))
        lt.seconds.append((at - max(assigned)).total_seconds())
        pt = people.setdefault(username, Timing(username, name or username))
        pt.seconds.append((at - max(t for t, _k in before)).total_seconds())
    return (
        [levels[k] for k in sorted(levels)],
        sorted(people.values(), key=lambda t: (-t.count, t.label)),
    )


def weekly(since: datetime | None, now: datetime) -> list[Week]:
    rows = list(
        _in_period(
            AuditEntry.objects.filter(kind__in=(StepKind.ESCALATED, StepKind.EXPIRED)), since
        ).values_list("kind", "at")
    )

    def monday(at: datetime) -> date:
        local = timezone.localtime(at).date()
        return local - timedelta(days=local.weekday())

    last = monday(now)
    first = monday(since) if since else min((monday(at) for _k, at in rows), default=last)
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    weeks = {}
    day = first
    while day <= last:
        weeks[day] = Week(day)
        day += timedelta(weeks=1)
    for kind, at in rows:
        week = weeks.get(monday(at))
        if week is None:
            continue
        if kind == StepKind.ESCALATED:
            week.escalations += 1
        else:
            week.expiries += 1
    return list(weeks.values())


def outcomes_and_categories(since: datetime | None) -> tuple[dict[str, int], list[CategoryRow]]:
    """Outcomes per report; categories per line (a report's lines may differ), rejected
    lines left out, with their EUR at the pinned rates. A request without line rows
    (none in practice since lines exist) counts as one line of its own category."""
    requests = _in_period(ExpenseRequest.objects.all(), since, "created_at")
    outcomes: Counter[str] = Counter(
        dict(requests.values_list("status").annotate(n=Count("pk")).order_by())
    )
    per_category: dict[str, Counter[str]] = defaultdict(Counter)
    eur: Counter[str] = Counter()
    lines = (
        ExpenseLine.objects.filter(request__in=requests)
        .exclude(status=LineStatus.REJECTED)
        .values_list("category", "request__status")
        .annotate(n=Count("pk"), cents=Sum("base_amount_cents"))
        .order_by()
    )
    for category, status, n, cents in lines:
        per_category[category][status] += n
        eur[category] += cents or 0
    bare = (
        requests.filter(lines__isnull=True)
        .values_list("category", "status")
        .annotate(n=Count("pk"), cents=Sum("base_amount_cents"))
        .order_by()
    )
    for category, status, n, cents in bare:
        per_category[category][status] += n
        eur[category] += cents or 0
    labels = dict(Category.choices)
    rows = [
        CategoryRow(key, str(labels.get(key, key)), dict(per_category[key]), eur[key])
        for key in [c.value for c in Category] + sorted(set(per_category) - set(labels))
        if key in per_category
    ]
    return {s: outcomes.get(s, 0) for s in OUTCOMES}, rows


def overdue_now(now: datetime, limit: int = 50) -> list[ExpenseRequest]:
    return list(
        ExpenseRequest.objects.filter(status=RequestStatus.PENDING, due_at__lt=now)
        .select_related("requester")
        .order_by("due_at")[:limit]
    )


def analytics(*, days: int = DEFAULT_PERIOD, now: datetime | None = None) -> Analytics:
    now = now or timezone.now()
    since = _since(days, now)
    by_level, by_approver = time_to_decision(since)
    outcomes, categories = outcomes_and_categories(since)
    return Analytics(
        days=days,
        since=since,
        by_level=by_level,
        by_approver=by_approver,
        overdue=overdue_now(now),
        overdue_total=ExpenseRequest.objects.filter(
            status=RequestStatus.PENDING, due_at__lt=now
        ).count(),
        weeks=weekly(since, now),
        outcomes=outcomes,
        categories=categories,
    )
