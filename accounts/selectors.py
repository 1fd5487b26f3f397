"""Reads of the org chart: management chains and delegation; bank changes awaiting finance."""

from __future__ import annotations

from itertools import islice

from django.db.models import Exists, OuterRef, QuerySet

from .models import FINANCE_GROUP, AccountAuditEntry, AccountEvent, Delegation, User


def manager_chain(*, user: User, depth: int) -> list[User]:
    """The first `depth` managers above `user`, nearest first (shorter at the top)."""
    return list(islice(user.managers_above(), depth))


def active_ladder(*, user: User) -> list[str]:
    """`user`'s active managers upward, nearest first (inactive ones skipped, cycles cut):
    whom routing may ask, level n of the management part being the n-th."""
    return [manager.username for manager in user.managers_above() if manager.is_active]


def admin_usernames() -> list[str]:
    return sorted(
        User.objects.filter(is_active=True, is_superuser=True).values_list("username", flat=True)
    )


def delegators_for(*, delegate: User) -> list[str]:
    """Usernames whose pending levels `delegate` may decide today."""
    return sorted(
        set(
            Delegation.objects.active()
            .filter(delegate=delegate, user__is_active=True)
            .values_list("user__username", flat=True)
        )
    )


def delegate_candidates(*, user: User) -> QuerySet[User]:
    """Whom `user` may name to decide for them while away: people at their level or above
    in their chain (their managers up the chain; colleagues with the same manager or the
    same role) and the administrators. Never themselves, never anyone who reports to them,
    directly or further down (they would decide on their own manager's behalf)."""
    people = {u.pk: u for u in User.objects.filter(is_active=True)}
    above = {m.pk for m in manager_chain(user=user, depth=len(people) + 1)}
    below: set[int] = set()
    frontier = {user.pk}
    while frontier:
        frontier = {
            pk for pk, u in people.items() if u.reports_to_id in frontier and pk not in below
        } - {user.pk}
        below |= frontier
    allowed = {
        pk
        for pk, u in people.items()
        if pk in above
        or u.is_superuser
        or (user.reports_to_id is not None and u.reports_to_id == user.reports_to_id)
        or (u.role == user.role and not user.is_superuser)
    }
    allowed -= below | {user.pk}
    return User.objects.filter(pk__in=allowed, is_active=True).order_by("last_name", "first_name")


def is_finance(user: User) -> bool:
    return bool(user.is_active and user.groups.filter(name=FINANCE_GROUP).exists())


def finance_people() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=FINANCE_GROUP).distinct())


def bank_changes_pending() -> QuerySet[AccountAuditEntry]:
    """Each person's newest bank change that replaced earlier details and that no
    finance member has confirmed yet (an older unconfirmed one is superseded by it)."""
    later = AccountAuditEntry.objects.filter(subject=OuterRef("subject"), pk__gt=OuterRef("pk"))
    return (
        AccountAuditEntry.objects.filter(kind=AccountEvent.BANK_CHANGED, needs_confirmation=True)
        .exclude(Exists(later.filter(kind=AccountEvent.BANK_CHANGED)))
        .exclude(Exists(later.filter(kind=AccountEvent.BANK_CONFIRMED)))
        .select_related("subject")
        .order_by("at", "pk")
    )


def bank_change_pending(*, user: User) -> AccountAuditEntry | None:
    return bank_changes_pending().filter(subject=user).first()


def bank_history(*, user: User | None = None, limit: int = 50) -> list[AccountAuditEntry]:
    """The newest bank-detail audit rows (one person's, or everyone's)."""
    kinds = [AccountEvent.BANK_CHANGED, AccountEvent.BANK_CONFIRMED, AccountEvent.STEP_UP_FAILED]
    rows = AccountAuditEntry.objects.filter(kind__in=kinds).select_related("subject")
    if user is not None:
        rows = rows.filter(subject=user)
    return list(rows.order_by("-at", "-pk")[:limit])
