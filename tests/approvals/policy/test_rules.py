"""The policy rule function over the contract's default policy (DESIGN.md §2), table-driven,
and the validation that explains a draft (codes; words in tests/approvals/policy/test_pages.py)."""

from __future__ import annotations

import pytest

from approvals.policy.rules import (
    ALL,
    GROUP,
    MANAGER,
    PERSON,
    Conditions,
    LevelRule,
    OrgSnapshot,
    PolicyRule,
    PolicyRules,
    ProblemCode,
    demo_policy,
    evaluate,
    problems,
)
from approvals.workflow.contract import LevelKind, RouteFacts

# emma's organisation of the demo (seed_demo): max, diana, victor above her.
EMMA = OrgSnapshot(
    ladder=["max", "diana", "victor"],
    admins=["admin"],
    groups={"finance": ["felix", "fiona"], "IT": ["ivan"]},
    people=["admin", "diana", "emma", "felix", "fiona", "ivan", "max", "victor"],
    role="employee",
)

M1, M2, M3 = ("manager", ["max"]), ("manager", ["diana"]), ("manager", ["victor"])
FIN = ("finance", ["felix", "fiona"])
IT = ("IT", ["ivan"])


def chain(euros: str, category: str = "travel", org: OrgSnapshot = EMMA, rules=None):
    cents = int(round(float(euros) * 100))
    specs = evaluate(RouteFacts(cents, category), org, rules or demo_policy())
    return [(s.label, s.approvers) for s in specs]


@pytest.mark.parametrize(
    ("euros", "category", "expected"),
    [
        ("0.01", "travel", [M1]),
        ("999.99", "travel", [M1]),
        ("1000.00", "travel", [M1, M2]),
        ("4999.99", "travel", [M1, M2]),
        ("5000.00", "travel", [M1, M2, FIN]),
        ("9999.99", "meals", [M1, M2, FIN]),
        ("10000.00", "travel", [M1, M2, M3, FIN]),
        ("499.99", "equipment", [M1]),
        ("500.00", "equipment", [M1, IT]),
        ("500.00", "software", [M1, IT]),
        ("500.00", "training", [M1]),
        ("1500.00", "software", [M1, M2, IT]),
        ("5000.00", "equipment", [M1, M2, FIN, IT]),
        ("25000.00", "software", [M1, M2, M3, FIN, IT]),
    ],
)
def test_the_default_policy_routes_by_amount_category_and_groups(euros, category, expected):
    assert chain(euros, category) == expected


def test_levels_past_the_top_of_the_ladder_go_to_the_admins():
    victor = OrgSnapshot(ladder=[], admins=["admin"], groups=EMMA.groups, people=EMMA.people)
    assert chain("12000.00", org=victor) == [
        ("manager", ["admin"]),
        ("manager", ["admin"]),
        ("manager", ["admin"]),
        FIN,
    ]


def test_an_empty_group_is_a_level_with_no_preferred_approver():
    org = OrgSnapshot(ladder=["max"], admins=["admin"], groups={"finance": [], "IT": []})
    assert chain("6000.00", org=org)[-1] == ("finance", [])


def rules_with(*rules: PolicyRule, **kw) -> PolicyRules:
    return PolicyRules(rules=list(rules), **kw)


def test_conditions_on_role_department_and_cost_centre():
    cfo = PolicyRule(
        "Sales travel",
        Conditions(roles=["employee"], departments=["sales"], cost_centres=["CC-7"]),
        [LevelRule(PERSON, person="victor")],
    )
    sales = OrgSnapshot(**{**EMMA.__dict__, "department": "sales"})
    rules = rules_with(cfo)
    facts = RouteFacts(100, "travel", "CC-7")
    assert [s.label for s in evaluate(facts, sales, rules)] == ["manager", "victor"]
    assert [s.label for s in evaluate(facts, EMMA, rules)] == ["manager"]  # no department
    other = RouteFacts(100, "travel", "CC-8")
    assert [s.label for s in evaluate(other, sales, rules)] == ["manager"]


def test_all_members_is_one_level_per_member_and_nothing_is_added_twice():
    rules = rules_with(
        PolicyRule("Both finance", Conditions(), [LevelRule(GROUP, group="finance", mode=ALL)]),
        PolicyRule(
            "Again",
            Conditions(),
            [
                LevelRule(GROUP, group="finance", mode=ALL),
                LevelRule(MANAGER, manager=1),
                LevelRule(MANAGER, manager=2),
            ],
        ),
    )
    specs = evaluate(RouteFacts(100, "travel"), EMMA, rules)
    assert [(s.kind, s.approvers) for s in specs] == [
        (LevelKind.MANAGER, ["max"]),
        (LevelKind.GROUP, ["felix"]),
        (LevelKind.GROUP, ["fiona"]),
        (LevelKind.MANAGER, ["diana"]),
    ]


def test_an_inactive_named_person_leaves_the_level_to_the_admins():
    rules = rules_with(PolicyRule("Ask Olga", Conditions(), [LevelRule(PERSON, person="olga")]))
    assert chain("10.00", rules=rules) == [M1, ("olga", [])]


def test_an_amount_range_is_from_inclusive_below_exclusive():
    rules = rules_with(
        PolicyRule(
            "Mid", Conditions(min_cents=100, below_cents=200), [LevelRule(PERSON, person="ivan")]
        )
    )
    assert chain("0.99", rules=rules) == [M1]
    assert chain("1.00", rules=rules) == [M1, ("ivan", ["ivan"])]
    assert chain("1.99", rules=rules) == [M1, ("ivan", ["ivan"])]
    assert chain("2.00", rules=rules) == [M1]


def test_the_rules_survive_their_json_form():
    rules = demo_policy()
    assert PolicyRules.from_dict(rules.to_dict()) == rules


# --------------------------------------------------------------- validation
def codes(rules: PolicyRules, org: OrgSnapshot = EMMA) -> list[tuple[str, int]]:
    return [(p.code, p.rule) for p in problems(rules, org)]


def test_the_default_policy_has_no_problem():
    assert codes(demo_policy()) == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (PolicyRule("", Conditions(), [LevelRule(PERSON, person="ivan")]), ProblemCode.NO_NAME),
        (PolicyRule("x", Conditions(), []), ProblemCode.NO_LEVELS),
        (
            PolicyRule(
                "x", Conditions(min_cents=500, below_cents=500), [LevelRule(PERSON, person="ivan")]
            ),
            ProblemCode.EMPTY_RANGE,
        ),
        (
            PolicyRule("x", Conditions(min_cents=100_000_000), [LevelRule(PERSON, person="ivan")]),
            ProblemCode.ABOVE_MAXIMUM,
        ),
        (PolicyRule("x", Conditions(), [LevelRule(MANAGER, manager=0)]), ProblemCode.MANAGER_RANGE),
        (
            PolicyRule("x", Conditions(), [LevelRule(PERSON, person="olga")]),
            ProblemCode.UNKNOWN_PERSON,
        ),
        (
            PolicyRule("x", Conditions(), [LevelRule(GROUP, group="legal")]),
            ProblemCode.UNKNOWN_GROUP,
        ),
        (PolicyRule("x", Conditions(), [LevelRule(GROUP, group="empty")]), ProblemCode.EMPTY_GROUP),
    ],
)
def test_a_rule_that_cannot_work_is_explained(rule, expected):
    org = OrgSnapshot(**{**EMMA.__dict__, "groups": {**EMMA.groups, "empty": []}})
    assert codes(rules_with(rule), org) == [(expected, 1)]


def test_overlapping_rules_adding_the_same_level_are_a_problem():
    it = [LevelRule(GROUP, group="IT")]
    overlapping = rules_with(
        PolicyRule("Equipment", Conditions(min_cents=50_000, categories=["equipment"]), it),
        PolicyRule("Big", Conditions(min_cents=100_000), it),
    )
    assert codes(overlapping) == [(ProblemCode.OVERLAP, 2)]
    apart = rules_with(
        PolicyRule("Equipment", Conditions(categories=["equipment"]), it),
        PolicyRule("Software", Conditions(categories=["software"]), it),
    )
    assert codes(apart) == []
    ranges_apart = rules_with(
        PolicyRule("Low", Conditions(below_cents=1000), it),
        PolicyRule("High", Conditions(min_cents=1000), it),
    )
    assert codes(ranges_apart) == []


def test_thresholds_out_of_order_are_a_problem():
    assert codes(PolicyRules(two_levels_from_cents=5, three_levels_from_cents=5)) == [
        (ProblemCode.THRESHOLDS_ORDER, 0)
    ]
