"""Policy versions and the organisation as the policy rules see it (reads).

Below services and selectors and beside the activities: `resolve_route` (the
real chain of a request, from its pinned version) and the what-if page (a
draft on past requests) build the same `OrgSnapshot` here and call the same
pure `rules.evaluate`, so the what-if shows exactly what a version
will do with today's organisation.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Group
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from accounts.selectors import active_ladder, admin_usernames

from ..models import ExpenseRequest, PolicyStatus, PolicyVersion
from ..workflow.contract import LevelKind, LevelSpec, PolicySnapshot, RouteFacts
from .rules import OrgSnapshot, PolicyRules, demo_policy, evaluate

__all__ = ["evaluate", "OrgCache", "effective_version", "ensure_demo_policy", "rules_of"]


def effective_version(day: date | None = None) -> PolicyVersion | None:
    """The published version in force on `day` (today): the newest effective one."""
    day = day or timezone.localdate()
    return (
        PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED, effective_from__lte=day)
        .order_by("-effective_from", "-number")
        .first()
    )


def ensure_demo_policy() -> PolicyVersion:
    """Version 1 = the contract's default policy, published (idempotent: kept if it exists)."""
    version = PolicyVersion.objects.filter(number=1).first()
    if version is not None:
        return version
    return PolicyVersion.objects.create(
        number=1,
        status=PolicyStatus.PUBLISHED,
        rules=demo_policy().to_dict(),
        note="Default policy (DESIGN.md §2)",
        effective_from=date(2000, 1, 1),
        published_at=timezone.now(),
    )


def next_number() -> int:
    return (PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1


def rules_of(version: PolicyVersion) -> PolicyRules:
    return PolicyRules.from_dict(version.rules)


def legacy_rules(request: ExpenseRequest) -> PolicyRules:
    """A request from before policy versions: its snapshot's management thresholds only."""
    snap = PolicySnapshot(**(request.policy_snapshot or {}))
    return PolicyRules(
        two_levels_from_cents=snap.two_levels_from_cents,
        three_levels_from_cents=snap.three_levels_from_cents,
        max_amount_cents=snap.max_amount_cents,
    )


def group_members() -> dict[str, list[str]]:
    """Every auth group and its active members."""
    groups: dict[str, list[str]] = {g: [] for g in Group.objects.values_list("name", flat=True)}
    rows = User.objects.filter(is_active=True).values_list("groups__name", "username")
    for group, username in rows:
        if group is not None:
            groups[group].append(username)
    return {g: sorted(m) for g, m in groups.items()}


class OrgCache:
    """Today's organisation, read once for many requests (the what-if) or one (routing)."""

    def __init__(self) -> None:
        self.groups = group_members()
        self.admins = admin_usernames()
        self.active = set(User.objects.filter(is_active=True).values_list("username", flat=True))
        self._people: dict[int, OrgSnapshot] = {}

    def snapshot(self, user: User) -> OrgSnapshot:
        if user.pk not in self._people:
            self._people[user.pk] = OrgSnapshot(
                ladder=[n for n in active_ladder(user=user) if n != user.username],
                admins=[a for a in self.admins if a != user.username],
                groups=self.groups,
                people=sorted(self.active),
                role=user.role,
                # Departments come with the org-chart work; read defensively until then.
                department=str(getattr(user, "department", "") or ""),
            )
        return self._people[user.pk]

    def validation_snapshot(self) -> OrgSnapshot:
        return OrgSnapshot(groups=self.groups, people=sorted(self.active))


def cost_centre_code(request: ExpenseRequest) -> str:
    """The requester's cost centre (payouts.CostCentre, the budget the payout reserves on):
    read when the chain is resolved, as the payout reads it when it runs."""
    centre = getattr(request.requester, "cost_centre", None)
    return str(centre.code) if centre is not None else ""


def request_facts(request: ExpenseRequest) -> RouteFacts:
    """The pinned facts of a request: EUR amount at its pinned rate, category, cost centre."""
    amount = request.base_amount_cents
    if amount is None:
        amount = request.amount_cents
    return RouteFacts(
        amount_cents=amount,
        category=request.category,
        cost_centre=cost_centre_code(request),
    )


def chain_for(
    request: ExpenseRequest, rules: PolicyRules, org: OrgCache, facts: RouteFacts | None = None
) -> list[LevelSpec]:
    return evaluate(facts or request_facts(request), org.snapshot(request.requester), rules)


def is_group(spec: LevelSpec) -> bool:
    return spec.kind == LevelKind.GROUP
