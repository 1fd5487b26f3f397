"""The payouts' part of the demo organisation (`manage.py seed_demo`, through the
approvals port `seed_demo`): the cost centres and who books on which. Idempotent."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from accounts.models import User

from .models import CostCentre

# Cost centres (code, name, yearly budget in EUR) and who books on which.
COST_CENTRES = [
    ("CC-ENG", "Engineering", 200_000),
    ("CC-FIN", "Finance", 50_000),
    ("CC-MGT", "Management", 100_000),
]
COST_CENTRE_OF = {
    "emma": "CC-ENG",
    "max": "CC-ENG",
    "ivan": "CC-ENG",
    "finn": "CC-FIN",
    "maria": "CC-FIN",
    "fiona": "CC-FIN",
    "felix": "CC-FIN",
}  # others: CC-MGT


def seed_cost_centres(people: Mapping[str, User]) -> None:
    """Open this year's demo cost centres (budgets reset) and put each demo person on one."""
    year = timezone.localdate().year
    centres = {}
    for code, name, budget in COST_CENTRES:
        centres[code], _ = CostCentre.objects.update_or_create(
            code=code,
            defaults={"name": name, "year": year, "budget_cents": budget * 100, "closed": False},
        )
    for username, user in people.items():
        user.cost_centre = centres[COST_CENTRE_OF.get(username, "CC-MGT")]
        user.save(update_fields=["cost_centre"])
