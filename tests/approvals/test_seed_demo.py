"""`seed_demo`: the contract's demo organisation, its groups and rates; idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import FINANCE_GROUP, IT_GROUP, Role, User
from approvals.models import ExchangeRate

pytestmark = pytest.mark.django_db

# The table of DESIGN.md §2 "Demo organisation": user -> (role, reports to)
CONTRACT = {
    "emma": (Role.EMPLOYEE, "max"),
    "finn": (Role.EMPLOYEE, "maria"),
    "max": (Role.MANAGER, "diana"),
    "maria": (Role.MANAGER, "diana"),
    "diana": (Role.DIRECTOR, "victor"),
    "victor": (Role.VP, None),
    "fiona": (Role.FINANCE, "victor"),
    "felix": (Role.FINANCE, "fiona"),
    "ivan": (Role.IT_LEAD, "victor"),
    "admin": (Role.ADMIN, None),
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def members(group: str) -> set[str]:
    return set(User.objects.filter(groups__name=group).values_list("username", flat=True))


def test_seed_demo_builds_the_contract_organisation_and_is_idempotent():
    first = seed()
    # Someone changed the demo in between: seeding again resets it.
    User.objects.get(username="felix").groups.clear()
    User.objects.filter(username="ivan").update(is_active=False)
    second = seed()
    assert "10 people" in first and first == second
    people = {u.username: u for u in User.objects.select_related("reports_to")}
    assert set(people) == set(CONTRACT)
    for username, (role, manager) in CONTRACT.items():
        person = people[username]
        assert person.role == role, username
        assert (person.reports_to.username if person.reports_to else None) == manager, username
        assert person.is_active and person.check_password("demo")
    assert people["admin"].is_superuser and not people["fiona"].is_superuser
    assert members(FINANCE_GROUP) == {"fiona", "felix"}
    assert members(IT_GROUP) == {"ivan"}
    assert ExchangeRate.objects.count() == 29  # loaded once, updated in place


def test_demo_reports_of_several_lines_once():
    from approvals.models import ExpenseRequest

    call_command("seed_demo", "--reports", stdout=io.StringIO())
    call_command("seed_demo", "--reports", stdout=io.StringIO())
    reports = ExpenseRequest.objects.order_by("pk")
    assert reports.count() == 3
    assert [r.lines.count() for r in reports] == [4, 2, 3]
    london = reports[0]
    assert london.currency == "EUR" and {x.currency for x in london.lines.all()} == {"EUR", "GBP"}
    assert london.base_amount_cents == sum(x.base_amount_cents for x in london.lines.all())
    assert reports[2].currency == "CHF"  # one currency: the sum in it
