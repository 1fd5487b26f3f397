"""Policy rules as data, and the one function that turns them into a chain.

Pure: no Django, no Temporal. `evaluate(facts, org, rules)` is what the
`resolve_route` activity runs for a request's pinned policy version, and what
the what-if page runs for a draft, so the what-if is exactly what the draft
will do. `problems(rules, org)` explains a draft that cannot be published
(codes + parameters; `approvals.policy.words` words them).

A policy version is: the management levels by amount (1 level below
`two_levels_from_cents`, 2 below `three_levels_from_cents`, else 3; level n is
the requester's n-th manager), a maximum amount, and an ordered list of rules.
A rule's conditions (EUR amount range `[min, below)`, categories, cost centres,
requester's departments, roles; an empty list matches anything) add levels
after the managers, in rule order: the n-th manager, a named person, or a
group (`any`: one level any one member decides; `all`: one level per member,
so N people still approve N levels). A level already added (same manager,
person or group) is not added twice.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

from ..workflow.contract import LevelKind, LevelSpec, RouteFacts

MANAGER, PERSON, GROUP = LevelKind.MANAGER, LevelKind.PERSON, LevelKind.GROUP
ANY, ALL = "any", "all"
MAX_MANAGER = 10


@dataclass
class LevelRule:
    """One level a rule adds."""

    kind: str  # LevelKind.MANAGER | PERSON | GROUP
    manager: int = 0  # the n-th manager
    person: str = ""
    group: str = ""
    mode: str = ANY  # groups: ANY member decides the one level, or ALL members one each


@dataclass
class Conditions:
    min_cents: int = 0  # from this EUR amount (inclusive)
    below_cents: int | None = None  # up to this EUR amount (exclusive); None: no limit
    categories: list[str] = field(default_factory=list)
    cost_centres: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)


@dataclass
class PolicyRule:
    name: str
    when: Conditions = field(default_factory=Conditions)
    adds: list[LevelRule] = field(default_factory=list)


@dataclass
class PolicyRules:
    two_levels_from_cents: int = 100_000
    three_levels_from_cents: int = 1_000_000
    max_amount_cents: int = 100_000_000
    rules: list[PolicyRule] = field(default_factory=list)
    # The spend checks (approvals.spend_checks.SpendChecks as a dict; {}: none). Plain
    # data here: the workflow never reads them, submission and the what-if do.
    checks: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PolicyRules:
        data = dict(data or {})
        rules = []
        for raw in data.pop("rules", []) or []:
            raw = dict(raw)
            when = Conditions(**(raw.pop("when", None) or {}))
            adds = [LevelRule(**a) for a in raw.pop("adds", []) or []]
            rules.append(PolicyRule(name=raw.get("name", ""), when=when, adds=adds))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, rules=rules)


@dataclass
class OrgSnapshot:
    """The organisation as the routing sees it: today's, for the real route and the what-if."""

    ladder: list[str] = field(default_factory=list)  # the requester's active managers upward
    admins: list[str] = field(default_factory=list)  # active admins (not the requester)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> active members
    people: list[str] = field(default_factory=list)  # active usernames named by the policy
    role: str = ""  # the requester's
    department: str = ""  # the requester's (empty where the org chart has none)


# The demo's spend checks (SpendChecks.to_dict()): receipts from 25 EUR, hotel nights
# (travel lines that say "hotel"; there is no hotel category) 200 EUR, meals 60 EUR a
# person, duplicates, near-duplicates and splits warn; weekends and holidays off.
DEMO_CHECKS = {
    "receipt": "warn",
    "receipt_from_cents": 2_500,
    "receipt_from_by_category": {},
    "limits": "warn",
    "category_limits": [
        {"category": "travel", "cents": 20_000, "per": "night", "match": "hotel"},
        {"category": "meals", "cents": 6_000, "per": "person", "match": ""},
    ],
    "duplicates": "warn",
    "near_duplicates": "warn",
    "near_tolerance_percent": 5,
    "near_days": 3,
    "splits": "warn",
    "split_days": 7,
    "weekend": "off",
    "holiday": "off",
}


def demo_policy() -> PolicyRules:
    """The contract's default policy (DESIGN.md §2): version 1 of every fresh database."""
    return PolicyRules(
        two_levels_from_cents=100_000,
        three_levels_from_cents=1_000_000,
        max_amount_cents=100_000_000,
        rules=[
            PolicyRule(
                name="Finance from 5,000 EUR",
                when=Conditions(min_cents=500_000),
                adds=[LevelRule(kind=GROUP, group="finance")],
            ),
            PolicyRule(
                name="IT for equipment and software from 500 EUR",
                when=Conditions(min_cents=50_000, categories=["equipment", "software"]),
                adds=[LevelRule(kind=GROUP, group="IT")],
            ),
        ],
        checks=copy.deepcopy(DEMO_CHECKS),
    )


# --------------------------------------------------------------- evaluation
def management_levels(rules: PolicyRules, amount_cents: int) -> int:
    if amount_cents >= rules.three_levels_from_cents:
        return 3
    if amount_cents >= rules.two_levels_from_cents:
        return 2
    return 1


def _in(value: str, allowed: list[str]) -> bool:
    return not allowed or value in allowed


def matches(when: Conditions, facts: RouteFacts, org: OrgSnapshot) -> bool:
    amount = facts.amount_cents
    return (
        amount >= when.min_cents
        and (when.below_cents is None or amount < when.below_cents)
        and _in(facts.category, when.categories)
        and _in(facts.cost_centre, when.cost_centres)
        and _in(org.department, when.departments)
        and _in(org.role, when.roles)
    )


def _manager(org: OrgSnapshot, n: int) -> LevelSpec:
    approvers = [org.ladder[n - 1]] if n <= len(org.ladder) else list(org.admins)
    return LevelSpec(kind=MANAGER, label="manager", approvers=approvers, manager=n)


def _expand(add: LevelRule, org: OrgSnapshot) -> list[LevelSpec]:
    if add.kind == MANAGER:
        return [_manager(org, add.manager)]
    if add.kind == PERSON:
        approvers = [add.person] if add.person in org.people else []
        return [LevelSpec(kind=PERSON, label=add.person, approvers=approvers)]
    members = sorted(org.groups.get(add.group, []))
    if add.mode == ALL and members:
        return [
            LevelSpec(kind=GROUP, label=add.group, approvers=[m], group=add.group, mode=ALL)
            for m in members
        ]
    return [LevelSpec(kind=GROUP, label=add.group, approvers=members, group=add.group)]


def _key(spec: LevelSpec) -> tuple:
    if spec.kind == MANAGER:
        return (MANAGER, spec.manager)
    if spec.kind == GROUP and spec.mode == ALL:
        return (GROUP, spec.group, tuple(spec.approvers))
    return (spec.kind, spec.label)


def evaluate(facts: RouteFacts, org: OrgSnapshot, rules: PolicyRules) -> list[LevelSpec]:
    """The chain: one spec per level, in order (never empty: at least the first manager)."""
    specs = [_manager(org, n) for n in range(1, management_levels(rules, facts.amount_cents) + 1)]
    seen = {_key(s) for s in specs}
    for rule in rules.rules:
        if not matches(rule.when, facts, org):
            continue
        for add in rule.adds:
            for spec in _expand(add, org):
                if _key(spec) not in seen:
                    seen.add(_key(spec))
                    specs.append(spec)
    return specs


# --------------------------------------------------------------- validation
@dataclass
class Problem:
    code: str
    rule: int = 0  # 1-based rule number; 0 = the policy as a whole
    params: dict = field(default_factory=dict)


class ProblemCode:
    THRESHOLDS_ORDER = "thresholds_order"  # two levels from >= three levels from
    MAXIMUM_TOO_LOW = "maximum_too_low"  # the maximum is not above zero
    NO_NAME = "no_name"
    NO_LEVELS = "no_levels"  # a rule that adds nothing
    EMPTY_RANGE = "empty_range"  # min >= below: matches no amount
    ABOVE_MAXIMUM = "above_maximum"  # starts at or above the maximum: never reached
    MANAGER_RANGE = "manager_range"
    UNKNOWN_PERSON = "unknown_person"  # nobody active by that name
    UNKNOWN_GROUP = "unknown_group"
    EMPTY_GROUP = "empty_group"  # no active member: its level would go to the admins
    OVERLAP = "overlap"  # two rules match the same requests and add the same level


def _ranges_meet(a: Conditions, b: Conditions) -> bool:
    a_top = a.below_cents if a.below_cents is not None else float("inf")
    b_top = b.below_cents if b.below_cents is not None else float("inf")
    return max(a.min_cents, b.min_cents) < min(a_top, b_top)


def _sets_meet(a: list[str], b: list[str]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def overlap(a: Conditions, b: Conditions) -> bool:
    """Whether one request can match both."""
    return _ranges_meet(a, b) and all(
        _sets_meet(getattr(a, name), getattr(b, name))
        for name in ("categories", "cost_centres", "departments", "roles")
    )


def _add_key(add: LevelRule) -> tuple:
    if add.kind == MANAGER:
        return (MANAGER, add.manager)
    return (add.kind, add.person if add.kind == PERSON else add.group)


def problems(rules: PolicyRules, org: OrgSnapshot) -> list[Problem]:
    """Why this policy should not be published (empty: it may be)."""
    found: list[Problem] = []
    if rules.max_amount_cents <= 0:
        found.append(Problem(ProblemCode.MAXIMUM_TOO_LOW))
    if not 0 < rules.two_levels_from_cents < rules.three_levels_from_cents:
        found.append(Problem(ProblemCode.THRESHOLDS_ORDER))
    for number, rule in enumerate(rules.rules, start=1):
        when = rule.when
        if not rule.name.strip():
            found.append(Problem(ProblemCode.NO_NAME, number))
        if not rule.adds:
            found.append(Problem(ProblemCode.NO_LEVELS, number))
        if when.below_cents is not None and when.min_cents >= when.below_cents:
            found.append(Problem(ProblemCode.EMPTY_RANGE, number))
        elif when.min_cents >= rules.max_amount_cents > 0:
            found.append(
                Problem(ProblemCode.ABOVE_MAXIMUM, number, {"maximum": rules.max_amount_cents})
            )
        for add in rule.adds:
            if add.kind == MANAGER and not 1 <= add.manager <= MAX_MANAGER:
                found.append(Problem(ProblemCode.MANAGER_RANGE, number, {"max": MAX_MANAGER}))
            elif add.kind == PERSON and add.person not in org.people:
                found.append(Problem(ProblemCode.UNKNOWN_PERSON, number, {"person": add.person}))
            elif add.kind == GROUP and add.group not in org.groups:
                found.append(Problem(ProblemCode.UNKNOWN_GROUP, number, {"group": add.group}))
            elif add.kind == GROUP and not org.groups[add.group]:
                found.append(Problem(ProblemCode.EMPTY_GROUP, number, {"group": add.group}))
    for i, first in enumerate(rules.rules):
        for j in range(i + 1, len(rules.rules)):
            second = rules.rules[j]
            shared = {_add_key(a) for a in first.adds} & {_add_key(a) for a in second.adds}
            if shared and overlap(first.when, second.when):
                found.append(Problem(ProblemCode.OVERLAP, j + 1, {"other": i + 1}))
    return found
