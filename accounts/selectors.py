"""Reads of the org chart: management chains and delegation."""

from __future__ import annotations

from .models import Delegation, User


def manager_chain(*, user: User, depth: int) -> list[User]:
    """The first `depth` managers above `user`, nearest first (shorter at the top)."""
    chain: list[User] = []
    seen = {user.pk}
    manager = user.reports_to
    while manager is not None and len(chain) < depth and manager.pk not in seen:
        chain.append(manager)
        seen.add(manager.pk)
        manager = manager.reports_to
    return chain


def active_ladder(*, user: User) -> list[str]:
    """`user`'s active managers upward, nearest first (inactive ones skipped, cycles cut):
    whom routing may ask, level n of the management part being the n-th."""
    ladder: list[str] = []
    seen = {user.pk}
    manager = user.reports_to
    while manager is not None and manager.pk not in seen:
        seen.add(manager.pk)
        if manager.is_active:
            ladder.append(manager.username)
        manager = manager.reports_to
    return ladder


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
