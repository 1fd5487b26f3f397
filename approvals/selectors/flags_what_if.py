"""The what-if of a draft's spend checks: which past reports it would have flagged or
blocked, beside what was flagged at their submission.

Each report of the period is evaluated by the same pure `spend_checks.evaluate` as at
submission, with its own lines and, as history, the lines of the reports submitted
before it (read once for the period and the checks' look-back window, indexed in
memory by receipt hash, merchant and requester). Nothing is changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..calendars import holiday_dates
from ..flag_facts import PAST_FIELDS, past_line
from ..flag_labels import worded
from ..models import ExpenseLine, ExpenseRequest, LineFlag, LineStatus, RequestStatus
from ..policy.rules import PolicyRules
from ..spend_checks import (
    BLOCK,
    LineFacts,
    PastLine,
    PastLines,
    ReportFacts,
    checks_of,
    evaluate,
    routing_thresholds,
)


@dataclass
class FlagRow:
    request: ExpenseRequest
    flags: list[dict]  # the draft's, worded
    at_submission: list[dict] = field(default_factory=list)  # stored when it was submitted

    @property
    def blocked(self) -> bool:
        return any(f["severity"] == BLOCK for f in self.flags)


@dataclass
class FlagsWhatIf:
    rows: list[FlagRow]  # reports the draft flags (or blocks)
    flagged: int = 0
    blocked: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


def _holidays(start: date, end: date) -> frozenset[date]:
    found = holiday_dates(
        settings.HOLIDAY_COUNTRY, settings.HOLIDAY_SUBDIVISION, start.year - 1, end.year + 1
    )
    return frozenset(date.fromisoformat(d) for d in found)


def flags_what_if(
    *, requests: list[ExpenseRequest], rules: PolicyRules, start: date, end: date
) -> FlagsWhatIf:
    if not rules.checks or not requests:
        return FlagsWhatIf(rows=[])
    checks = checks_of(rules)
    back = timedelta(days=max(checks.split_days, checks.near_days) + 1)
    rows = (
        ExpenseLine.objects.filter(
            request__created_at__date__gte=start - back, request__created_at__date__lte=end
        )
        .exclude(status=LineStatus.REJECTED)
        .exclude(request__status=RequestStatus.WITHDRAWN)
        .values(*PAST_FIELDS, "description", "attendees")
    )
    created: dict[int, datetime] = {}
    own: dict[int, list[tuple[PastLine, dict]]] = defaultdict(list)
    by_hash, by_merchant, by_person = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in rows:
        line = past_line(row)
        created[line.request_id] = row["request__created_at"]
        own[line.request_id].append((line, row))
        if line.receipt_sha256:
            by_hash[line.receipt_sha256].append(line)
        if line.merchant_key:
            by_merchant[line.merchant_key].append(line)
        by_person[line.requester].append(line)
    stored: dict[int, list[dict]] = defaultdict(list)
    for flag in LineFlag.objects.filter(request_id__in=[r.pk for r in requests]):
        stored[flag.request_id].append(worded(flag))
    holidays = _holidays(start, end)
    thresholds = routing_thresholds(rules)
    result = FlagsWhatIf(rows=[])
    counts: dict[str, int] = defaultdict(int)
    for request in requests:
        mine = own.get(request.pk, [])
        if not mine:
            continue
        day = timezone.localdate(request.created_at)
        facts = [
            LineFacts(
                position=p.position,
                date=p.date,
                category=p.category,
                amount_minor=p.amount_minor,
                currency=p.currency,
                base_cents=p.base_cents,
                merchant_key=p.merchant_key,
                receipt_sha256=p.receipt_sha256,
                description=row["description"],
                attendees=row["attendees"],
            )
            for p, row in mine
        ]
        candidates = {
            (c.request_id, c.position): c
            for p in facts
            for c in [
                *by_hash.get(p.receipt_sha256, []),
                *by_merchant.get(p.merchant_key, []),
            ]
        }
        for c in by_person.get(request.requester.username, []):
            candidates[(c.request_id, c.position)] = c
        before = [
            c
            for c in candidates.values()
            if c.request_id != request.pk
            and (created[c.request_id], c.request_id) < (request.created_at, request.pk)
        ]
        report = ReportFacts(
            requester=request.requester.username,
            day=day,
            total_cents=request.base_amount_cents or 0,
            request_id=request.pk,
            holidays=holidays,
            routing_thresholds=thresholds,
        )
        found = evaluate(facts, report, PastLines(before), checks)
        if found:
            row = FlagRow(request, [worded(f) for f in found], stored.get(request.pk, []))
            result.rows.append(row)
            result.blocked += row.blocked
            for code in {f.code for f in found}:
                counts[code] += 1
    result.flagged = len(result.rows)
    result.by_code = dict(sorted(counts.items()))
    return result
