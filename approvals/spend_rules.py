"""Validation of the spend checks of a policy draft, pure (codes and parameters;
`policy.words` words them). Beside `spend_checks`, which evaluates them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .spend_checks import ACTIONS, PERS, SpendChecks


@dataclass
class CheckProblem:
    code: str
    params: dict = field(default_factory=dict)


def problems(checks: SpendChecks, categories: list[str]) -> list[CheckProblem]:
    """Why these checks cannot be published (codes + parameters; worded by policy.words)."""
    found = []
    for name in ("receipt", "limits", "duplicates", "near_duplicates", "splits"):
        if getattr(checks, name) not in ACTIONS:
            found.append(CheckProblem("check_action", {"check": name}))
    for name in ("weekend", "holiday"):
        if getattr(checks, name) not in ACTIONS:
            found.append(CheckProblem("check_action", {"check": name}))
    if checks.receipt_from_cents < 0 or any(
        v < 0 for v in checks.receipt_from_by_category.values()
    ):
        found.append(CheckProblem("check_negative", {"check": "receipt"}))
    for category in checks.receipt_from_by_category:
        if category not in categories:
            found.append(CheckProblem("check_category", {"category": category}))
    if not 0 <= checks.near_tolerance_percent <= 50:
        found.append(CheckProblem("check_tolerance", {"max": 50}))
    for name in ("near_days", "split_days"):
        if not 0 <= getattr(checks, name) <= 90:
            found.append(CheckProblem("check_days", {"check": name, "max": 90}))
    seen = set()
    for number, limit in enumerate(checks.category_limits, start=1):
        if limit.category not in categories:
            found.append(CheckProblem("check_category", {"category": limit.category}))
        if limit.cents <= 0:
            found.append(CheckProblem("limit_positive", {"limit": number}))
        if limit.per not in PERS:
            found.append(CheckProblem("limit_per", {"limit": number}))
        key = (limit.category, limit.per, limit.match.lower())
        if key in seen:
            found.append(CheckProblem("limit_twice", {"limit": number}))
        seen.add(key)
    return found
