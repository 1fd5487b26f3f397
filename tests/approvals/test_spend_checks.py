"""The spend checks as one pure function (approvals/spend_checks.py), table-driven per
check, and two properties: a split crafted just under any routing threshold is always
flagged; a report that matches no rule is never flagged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.policy.rules import DEMO_CHECKS, demo_policy
from approvals.spend_checks import (
    BLOCK,
    OFF,
    WARN,
    CategoryLimit,
    LineFacts,
    PastLine,
    PastLines,
    ReportFacts,
    blocking,
    demo_checks,
    evaluate,
    merchant_key,
    nights_of,
    people_count,
    routing_thresholds,
)
from approvals.spend_rules import problems

MONDAY = date(2026, 11, 30)
CATEGORIES = ["travel", "meals", "equipment", "software", "training", "other"]
THRESHOLDS = routing_thresholds(demo_policy())
ALL_ON = replace(
    demo_checks(), weekend=WARN, holiday=WARN, receipt_from_by_category={"software": 0}
)


def line(n=1, cents=5_000, category="other", day=MONDAY, **kw) -> LineFacts:
    base = {
        "position": n,
        "date": day,
        "category": category,
        "amount_minor": cents,
        "currency": "EUR",
        "base_cents": cents,
        "merchant_key": "",
        "receipt_sha256": f"hash-{n}-{cents}",
        "description": "",
        "attendees": "",
    }
    return LineFacts(**(base | kw))


def report(lines, requester="emma", **kw) -> ReportFacts:
    base = {
        "requester": requester,
        "day": MONDAY,
        "total_cents": sum(x.base_cents for x in lines),
        "routing_thresholds": THRESHOLDS,
        "holidays": frozenset({date(2026, 12, 25)}),
    }
    return ReportFacts(**(base | kw))


def past(request_id, cents=5_000, requester="max", category="other", day=MONDAY, **kw):
    base = {
        "request_id": request_id,
        "position": 1,
        "requester": requester,
        "date": day,
        "category": category,
        "amount_minor": cents,
        "currency": "EUR",
        "base_cents": cents,
        "report_total_cents": cents,
        "merchant_key": "",
        "receipt_sha256": "",
    }
    return PastLine(**(base | kw))


def codes(lines, history=(), checks=ALL_ON, **kw):
    found = evaluate(lines, report(lines, **kw), PastLines(list(history)), checks)
    return [(f.code, f.line) for f in found]


def test_the_demo_checks_are_the_demo_policys():
    assert demo_checks().to_dict() == DEMO_CHECKS
    assert demo_policy().checks == DEMO_CHECKS
    assert problems(demo_checks(), CATEGORIES) == []


@pytest.mark.parametrize(
    ("text", "key"), [("  Hotel  Adlon\tBerlin ", "hotel adlon berlin"), ("", "")]
)
def test_merchant_key(text, key):
    assert merchant_key(text) == key


@pytest.mark.parametrize(
    ("attendees", "people"),
    [("", 1), ("Anna", 2), ("Anna, Ben", 3), ("Anna\nBen;Chris", 4), (" , ,", 1)],
)
def test_people_count_is_the_attendees_plus_the_requester(attendees, people):
    assert people_count(attendees) == people


@pytest.mark.parametrize(
    ("description", "nights"),
    [("", 1), ("Hotel, 3 nights", 3), ("2 Nächte Hamburg", 2), ("1 night", 1), ("0 nights", 1)],
)
def test_nights_of(description, nights):
    assert nights_of(description) == nights


# (lines, history, expected (code, line) pairs) -- every check, flagged and not.
CASES = {
    "clean line": ([line()], [], []),
    "receipt missing from 25 EUR": (
        [line(cents=2_500, receipt_sha256="")],
        [],
        [("receipt_missing", 1)],
    ),
    "no receipt under 25 EUR is fine": ([line(cents=2_499, receipt_sha256="")], [], []),
    "per category: software needs one from 0": (
        [line(cents=100, category="software", receipt_sha256="")],
        [],
        [("receipt_missing", 1)],
    ),
    "hotel over 200 a night": (
        [line(cents=24_000, category="travel", merchant_key="hotel adlon")],
        [],
        [("over_limit", 1)],
    ),
    "hotel two nights is 120 a night": (
        [line(cents=24_000, category="travel", merchant_key="adlon", description="Hotel 2 nights")],
        [],
        [],
    ),
    "a train is no hotel": ([line(cents=24_000, category="travel", merchant_key="db")], [], []),
    "hotel exactly at the limit": (
        [line(cents=20_000, category="travel", merchant_key="hotel")],
        [],
        [],
    ),
    "dinner for two over 60 a person": (
        [line(cents=12_001, category="meals", attendees="Anna")],
        [],
        [("over_limit", 1)],
    ),
    "dinner for two at 60 a person": (
        [line(cents=12_000, category="meals", attendees="Anna")],
        [],
        [],
    ),
    "same receipt file as someone else's": (
        [line(receipt_sha256="abc")],
        [past(7, receipt_sha256="abc", cents=999)],
        [("duplicate", 1)],
    ),
    "same merchant, date and amount": (
        [line(merchant_key="bag shop")],
        [past(7, merchant_key="bag shop")],
        [("duplicate", 1)],
    ),
    "same merchant and amount, other day is near": (
        [line(merchant_key="bag shop")],
        [past(7, merchant_key="bag shop", day=MONDAY - timedelta(days=2))],
        [("near_duplicate", 1)],
    ),
    "near: amount within 5 %": (
        [line(cents=10_000, merchant_key="bag shop")],
        [past(7, cents=9_500, merchant_key="bag shop")],
        [("near_duplicate", 1)],
    ),
    "not near: amount 6 % off": (
        [line(cents=10_000, merchant_key="bag shop")],
        [past(7, cents=9_400, merchant_key="bag shop")],
        [],
    ),
    "not near: 4 days apart": (
        [line(merchant_key="bag shop")],
        [past(7, merchant_key="bag shop", day=MONDAY - timedelta(days=4))],
        [],
    ),
    "duplicate lines within one report": (
        [line(1, receipt_sha256="x"), line(2, receipt_sha256="x")],
        [],
        [("duplicate", 2)],
    ),
    "split: two 999.99 bags cross 1,000": (
        [line(cents=99_999, category="equipment")],
        [past(7, cents=99_999, requester="emma", category="equipment")],
        [("split", 0)],
    ),
    "no split: someone else's bag": (
        [line(cents=99_999, category="equipment")],
        [past(7, cents=99_999, requester="max", category="equipment")],
        [],
    ),
    "no split: other category and merchant": (
        [line(cents=99_999, category="equipment")],
        [past(7, cents=99_999, requester="emma", category="training")],
        [],
    ),
    "no split: more than 7 days apart": (
        [line(cents=99_999, category="equipment")],
        [
            past(
                7,
                cents=99_999,
                requester="emma",
                category="equipment",
                day=MONDAY - timedelta(days=8),
            )
        ],
        [],
    ),
    "no split: one already needs the levels": (
        [line(cents=100_000, category="other")],
        [past(7, cents=500, requester="emma", category="other")],
        [],
    ),
    "weekend": ([line(day=MONDAY - timedelta(days=1))], [], [("weekend", 1)]),
    "holiday (not also weekend)": ([line(day=date(2026, 12, 25))], [], [("holiday", 1)]),
}


@pytest.mark.parametrize(("lines", "history", "expected"), CASES.values(), ids=CASES.keys())
def test_each_check(lines, history, expected):
    assert codes(lines, history) == expected


def test_a_check_that_is_off_flags_nothing_and_block_blocks():
    lines = [line(cents=30_000, receipt_sha256="")]
    assert codes(lines, checks=replace(ALL_ON, receipt=OFF)) == []
    found = evaluate(lines, report(lines), PastLines(), replace(ALL_ON, receipt=BLOCK, limits=WARN))
    assert [(f.code, f.severity) for f in blocking(found)] == [("receipt_missing", BLOCK)]
    assert found[0].params == {"from": 2_500}


def test_per_day_limit_sums_the_reports_lines_of_a_day():
    checks = replace(
        ALL_ON, category_limits=[CategoryLimit(category="meals", cents=5_000, per="day")]
    )
    lines = [line(1, 3_000, "meals"), line(2, 2_500, "meals"), line(3, 4_000, "meals", MONDAY)]
    found = evaluate(lines, report(lines), PastLines(), checks)
    assert [(f.code, f.line, f.params["actual"]) for f in found] == [("over_limit", 3, 9_500)]


def test_the_split_flag_names_the_threshold_and_the_other_reports():
    lines = [line(cents=99_999, category="equipment")]
    history = [past(7, cents=99_999, requester="emma", category="equipment")]
    (flag,) = evaluate(lines, report(lines), PastLines(history), ALL_ON)
    assert flag.params == {"threshold": 100_000, "total": 199_998, "requests": [7]}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"receipt": "maybe"}, "check_action"),
        ({"receipt_from_cents": -1}, "check_negative"),
        ({"near_tolerance_percent": 51}, "check_tolerance"),
        ({"split_days": 91}, "check_days"),
        ({"receipt_from_by_category": {"yachts": 0}}, "check_category"),
        ({"category_limits": [CategoryLimit("meals", 0)]}, "limit_positive"),
        ({"category_limits": [CategoryLimit("meals", 1, per="week")]}, "limit_per"),
        (
            {"category_limits": [CategoryLimit("meals", 1), CategoryLimit("meals", 2)]},
            "limit_twice",
        ),
    ],
)
def test_problems(change, code):
    assert [p.code for p in problems(replace(demo_checks(), **change), CATEGORIES)] == [code]


# ------------------------------------------------------------------ properties
@settings(max_examples=200, deadline=None)
@given(
    threshold=st.sampled_from(THRESHOLDS),
    parts=st.integers(min_value=2, max_value=5),
    gap=st.integers(min_value=0, max_value=7),
    by_merchant=st.booleans(),
)
def test_a_split_just_under_any_threshold_is_always_flagged(threshold, parts, gap, by_merchant):
    each = threshold - 1  # each report stays just under it
    key = "bag shop" if by_merchant else ""
    category = "other" if by_merchant else "equipment"
    history = [
        past(
            10 + i,
            cents=each,
            requester="emma",
            category="travel" if by_merchant else category,
            merchant_key=key,
            day=MONDAY - timedelta(days=gap),
            receipt_sha256=f"p{i}",
        )
        for i in range(parts - 1)
    ]
    lines = [line(cents=each, category=category, merchant_key=key, receipt_sha256="new")]
    found = codes(lines, history)
    assert ("split", 0) in found


receipts = st.text(alphabet="abcdef0123456789", min_size=8, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=5_999), min_size=1, max_size=5),
    days=st.lists(st.integers(min_value=0, max_value=4), min_size=5, max_size=5),
    categories=st.lists(st.sampled_from(CATEGORIES[1:]), min_size=5, max_size=5),
    weeks=st.integers(min_value=0, max_value=2),  # Dec 25 is the holiday
)
def test_a_report_that_matches_no_rule_is_never_flagged(amounts, days, categories, weeks):
    """Weekdays, no holiday, receipts (distinct), meals within 60 EUR, no hotel, no history."""
    monday = MONDAY + timedelta(weeks=weeks)
    lines = [
        line(
            n,
            cents,
            categories[n - 1],
            monday + timedelta(days=days[n - 1]),
            merchant_key=f"shop {n}",
            receipt_sha256=f"r{n}",
        )
        for n, cents in enumerate(amounts, start=1)
    ]
    assert codes(lines) == []
