"""`budgets_left`: what the inbox shows as "budget left after this", in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from payouts.models import CostCentre, Reservation
from payouts.selectors import budgets_left

pytestmark = pytest.mark.django_db


def test_each_requester_gets_their_centres_budget_less_this_years_open_holds(
    django_assert_num_queries,
):
    year = timezone.localdate().year
    eng = CostCentre.objects.create(code="T-ENG", name="Eng", year=year, budget_cents=100_000)
    ops = CostCentre.objects.create(code="T-OPS", name="Ops", year=year, budget_cents=50_000)
    for name, centre in (("t-ann", eng), ("t-bob", eng), ("t-cid", ops), ("t-dan", None)):
        User.objects.create_user(name, password="x", cost_centre=centre)
    Reservation.objects.create(request_id=1, cost_centre=eng, amount_cents=10_000)
    Reservation.objects.create(request_id=2, cost_centre=eng, amount_cents=2_500)
    released = Reservation.objects.create(request_id=3, cost_centre=eng, amount_cents=7_000)
    Reservation.objects.filter(pk=released.pk).update(released_at=timezone.now())
    last_year = Reservation.objects.create(request_id=4, cost_centre=ops, amount_cents=9_000)
    Reservation.objects.filter(pk=last_year.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    with django_assert_num_queries(1):
        left = budgets_left(["t-ann", "t-bob", "t-cid", "t-dan", "nobody"])
    # Two people on one centre see the same total; released and last year's holds don't count.
    assert left == {"t-ann": 87_500, "t-bob": 87_500, "t-cid": 50_000}
    with django_assert_num_queries(0):  # an empty page asks nothing
        assert budgets_left([]) == {}
