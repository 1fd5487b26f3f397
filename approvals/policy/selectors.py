"""Reads of the policy: its versions, and the what-if of a draft on real past requests.

The what-if re-evaluates every request submitted in a period (from the
projection: its pinned EUR amount, category and cost centre) under the draft
and under the request's own pinned version, both with **today's**
organisation (one `OrgCache` for all), and shows them beside what actually
happened (the approvers in the projection's steps). Comparing two versions on
the same organisation isolates what the policy change does; org changes since
(a new manager, a leaver) show only in the "actual" column. No workflow is
touched; the function is the one `resolve_route` runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.shortcuts import get_object_or_404

from ..models import ExpenseRequest, PolicyVersion
from ..workflow.contract import LevelKind, LevelSpec
from .rules import PolicyRules
from .versions import OrgCache, chain_for, legacy_rules, rules_of

MAX_ROWS = 5000  # a year of a big company's requests is still one page


class Change:
    MORE_LEVELS = "more_levels"
    FEWER_LEVELS = "fewer_levels"
    OTHER_APPROVERS = "other_approvers"
    NOW_GROUP = "now_group"  # now needs a group's level (finance, IT)
    NO_LONGER_GROUP = "no_longer_group"


CHANGES = (
    Change.MORE_LEVELS,
    Change.FEWER_LEVELS,
    Change.OTHER_APPROVERS,
    Change.NOW_GROUP,
    Change.NO_LONGER_GROUP,
)


@dataclass
class WhatIfRow:
    request: ExpenseRequest
    actual: list[str]  # who decided (or waits) per level, as it happened
    pinned: list[LevelSpec]  # the request's pinned version, today's organisation
    draft: list[LevelSpec]  # the draft, today's organisation
    changes: list[tuple[str, str]] = field(default_factory=list)  # (Change, group or "")


@dataclass
class WhatIf:
    start: date
    end: date
    rows: list[WhatIfRow]
    counts: dict[str, int]
    workload: list[tuple[str, int, int, int]]  # (person, levels pinned, levels draft, change)
    now_groups: dict[str, int] = field(default_factory=dict)  # group -> requests newly needing it
    truncated: bool = False  # more than MAX_ROWS requests in the period: the first ones only

    @property
    def changed(self) -> list[WhatIfRow]:
        return [r for r in self.rows if r.changes]


def policy_versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.select_related("published_by").order_by("-number"))


def access_version(*, number: int) -> PolicyVersion:
    return get_object_or_404(PolicyVersion.objects.select_related("published_by"), number=number)


def _key(spec: LevelSpec) -> tuple:
    return (spec.kind, spec.label, tuple(spec.approvers))


def _groups(specs: list[LevelSpec]) -> set[str]:
    return {s.label for s in specs if s.kind == LevelKind.GROUP}


def compare(pinned: list[LevelSpec], draft: list[LevelSpec]) -> list[tuple[str, str]]:
    changes: list[tuple[str, str]] = []
    if len(draft) > len(pinned):
        changes.append((Change.MORE_LEVELS, ""))
    elif len(draft) < len(pinned):
        changes.append((Change.FEWER_LEVELS, ""))
    elif [_key(s) for s in draft] != [_key(s) for s in pinned]:
        changes.append((Change.OTHER_APPROVERS, ""))
    changes += [(Change.NOW_GROUP, g) for g in sorted(_groups(draft) - _groups(pinned))]
    changes += [(Change.NO_LONGER_GROUP, g) for g in sorted(_groups(pinned) - _groups(draft))]
    return changes


def _actual(request: ExpenseRequest) -> list[str]:
    return [
        step.decided_by or ", ".join(step.approvers) or "—"
        for step in sorted(request.steps.all(), key=lambda s: s.level)
    ]


def _load(specs: list[LevelSpec]) -> Counter:
    return Counter(person for spec in specs for person in spec.approvers)


def what_if(*, draft: PolicyVersion, start: date, end: date) -> WhatIf:
    """The draft on the requests submitted from `start` to `end` (both days included)."""
    org = OrgCache()
    draft_rules = rules_of(draft)
    pinned_rules: dict[int, PolicyRules] = {}
    period = ExpenseRequest.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
    truncated = period.count() > MAX_ROWS
    requests = (
        period.select_related("requester", "requester__reports_to")
        .prefetch_related("steps")
        .order_by("created_at", "pk")[:MAX_ROWS]
    )
    rows: list[WhatIfRow] = []
    before, after = Counter(), Counter()
    for request in requests:
        if request.policy_version:
            if request.policy_version not in pinned_rules:
                version = PolicyVersion.objects.filter(number=request.policy_version).first()
                pinned_rules[request.policy_version] = (
                    rules_of(version) if version else legacy_rules(request)
                )
            rules = pinned_rules[request.policy_version]
        else:
            rules = legacy_rules(request)
        pinned = chain_for(request, rules, org)
        proposed = chain_for(request, draft_rules, org)
        rows.append(
            WhatIfRow(request, _actual(request), pinned, proposed, compare(pinned, proposed))
        )
        before += _load(pinned)
        after += _load(proposed)
    result = {"requests": len(rows), "changed": sum(1 for r in rows if r.changes)}
    for code in CHANGES:
        result[code] = sum(1 for r in rows if any(c == code for c, _g in r.changes))
    now_groups = Counter(g for r in rows for c, g in r.changes if c == Change.NOW_GROUP)
    workload = sorted(
        (person, before[person], after[person], after[person] - before[person])
        for person in set(before) | set(after)
    )
    return WhatIf(start, end, rows, result, workload, dict(sorted(now_groups.items())), truncated)
