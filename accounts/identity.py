"""What an identity provider says about a person, applied here: groups to roles and
Django groups, the manager to reports-to, and the identity audit (IdentityEvent).

Both ways in use it: OpenID Connect sign-in (accounts/oidc.py, from the claims)
and SCIM provisioning (accounts/scim/). The provider's group names are mapped by
settings (`IDENTITY_GROUP_FINANCE`, `IDENTITY_GROUP_IT`, `IDENTITY_GROUP_ADMINS`,
each a comma-separated list; Entra ID sends group object ids, so those go there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from .models import FINANCE_GROUP, IT_GROUP, IdentityEvent, IdentityEventKind, Role, User

log = logging.getLogger(__name__)


class Team(StrEnum):
    """The groups that mean something here."""

    FINANCE = "finance"
    IT = "IT"
    ADMINS = "administrators"


TEAM_GROUP = {Team.FINANCE: FINANCE_GROUP, Team.IT: IT_GROUP}
# A role that comes from a team; any other role (manager, director, ...) is the org
# chart's and is left as it is.
TEAM_ROLE = {Team.ADMINS: Role.ADMIN, Team.FINANCE: Role.FINANCE, Team.IT: Role.IT_LEAD}


def team_names() -> dict[Team, set[str]]:
    """Each team's names as the provider spells them (case-insensitive)."""
    return {
        Team.FINANCE: {n.casefold() for n in settings.IDENTITY_GROUP_FINANCE},
        Team.IT: {n.casefold() for n in settings.IDENTITY_GROUP_IT},
        Team.ADMINS: {n.casefold() for n in settings.IDENTITY_GROUP_ADMINS},
    }


def teams_of(names: Iterable[str]) -> set[Team]:
    """The teams a list of provider group names (or ids) maps to; others are ignored."""
    wanted = {str(n).casefold() for n in names}
    return {team for team, spelled in team_names().items() if spelled & wanted}


def team_of_group_name(name: str) -> Team | None:
    found = teams_of([name])
    return next(iter(found)) if len(found) == 1 else None


def team_members(team: Team):
    if team == Team.ADMINS:
        return User.objects.filter(is_superuser=True)
    return User.objects.filter(groups__name=TEAM_GROUP[team])


@transaction.atomic
def teams_set(*, user: User, teams: set[Team]) -> list[str]:
    """Make `user` a member of exactly `teams`; returns what changed (for the audit)."""
    changes: list[str] = []
    for team, group_name in TEAM_GROUP.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        member = user.groups.filter(pk=group.pk).exists()
        if team in teams and not member:
            user.groups.add(group)
            changes.append(f"+{team}")
        elif team not in teams and member:
            user.groups.remove(group)
            changes.append(f"-{team}")
    admin = Team.ADMINS in teams
    if user.is_superuser != admin:
        changes.append(("+" if admin else "-") + Team.ADMINS)
    user.is_superuser = user.is_staff = admin
    role = next((TEAM_ROLE[t] for t in TEAM_ROLE if t in teams), None)
    if role is not None:
        user.role = role
    elif user.role in TEAM_ROLE.values():
        user.role = Role.EMPLOYEE  # left the team that gave the role
    user.save(update_fields=["is_superuser", "is_staff", "role"])
    return changes


def team_add(*, user: User, team: Team) -> bool:
    current = {t for t in Team if team_members(t).filter(pk=user.pk).exists()}
    return bool(teams_set(user=user, teams=current | {team}))


def team_remove(*, user: User, team: Team) -> bool:
    current = {t for t in Team if team_members(t).filter(pk=user.pk).exists()}
    return bool(teams_set(user=user, teams=current - {team}))


def as_pk(text: str) -> int | None:
    """A primary key written as text, or None (also for digits beyond the column's range)."""
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def find_person(reference: str) -> User | None:
    """A person named by the provider: our id (SCIM), username, email or external id."""
    reference = (reference or "").strip()
    if not reference:
        return None
    if as_pk(reference) is not None:
        found = User.objects.filter(pk=as_pk(reference)).first()
        if found is not None:
            return found
    for lookup in ("username", "email__iexact", "external_id", "oidc_subject"):
        matches = list(User.objects.filter(**{lookup: reference})[:2])
        if len(matches) == 1:
            return matches[0]
    return None


def manager_set(*, user: User, manager: User | None) -> bool:
    """Set reports-to (refusing a cycle with ValidationError); True when it changed."""
    if (manager.pk if manager else None) == user.reports_to_id:
        return False
    user.reports_to = manager
    user.clean()
    user.save(update_fields=["reports_to"])
    return True


def record(kind: IdentityEventKind, *, subject: User | str, actor: str, **details) -> IdentityEvent:
    """One row of the identity audit; `actor` is a username or "scim", "sso"."""
    username = subject if isinstance(subject, str) else subject.username
    return IdentityEvent.objects.create(
        kind=kind, subject_username=username, actor=actor, details=details
    )
