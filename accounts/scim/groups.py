"""SCIM Groups: the three teams that mean something here (finance, IT,
administrators), each named as the provider spells it (IDENTITY_GROUP_*).

A team always exists: a POST of one is answered with it (201) and applies its
members, so a provider that creates before it looks finds it too; a group that
maps to no team is refused (400). Members are people by our id.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from .. import identity
from ..models import IdentityEventKind, User
from .protocol import GROUP, ScimError

ACTOR = "scim"
NAMES = {
    identity.Team.FINANCE: "IDENTITY_GROUP_FINANCE",
    identity.Team.IT: "IDENTITY_GROUP_IT",
    identity.Team.ADMINS: "IDENTITY_GROUP_ADMINS",
}


def display_name(team: identity.Team) -> str:
    names = getattr(settings, NAMES[team])
    return names[0] if names else str(team)


def team_by_id(group_id: str) -> identity.Team:
    for team in identity.Team:
        if group_id == str(team):
            return team
    raise ScimError(404, f"No group {group_id!r}.")


def group_resource(request: HttpRequest, team: identity.Team, *, members: bool = True) -> dict:
    resource = {
        "schemas": [GROUP],
        "id": str(team),
        "displayName": display_name(team),
        "meta": {
            "resourceType": "Group",
            "location": request.build_absolute_uri(reverse("scim-group", args=[str(team)])),
        },
    }
    if members:
        resource["members"] = [
            {"value": str(u.pk), "display": u.username}
            for u in identity.team_members(team).order_by("pk")
        ]
    return resource


def _people(values) -> list[User]:
    if values in (None, ""):
        return []
    if isinstance(values, dict):
        values = [values]
    if not isinstance(values, list):
        raise ScimError(400, "members must be a list.", "invalidValue")
    people = []
    for item in values:
        ref = item.get("value") if isinstance(item, dict) else item
        person = identity.find_person(str(ref or ""))
        if person is None:
            raise ScimError(400, f"No person {ref!r}.", "invalidValue")
        people.append(person)
    return people


def _record(team, person: User, added: bool) -> None:
    identity.record(
        IdentityEventKind.GROUP_CHANGED,
        subject=person,
        actor=ACTOR,
        group=str(team),
        change="added" if added else "removed",
    )


def _add(team, people) -> None:
    for person in people:
        if identity.team_add(user=person, team=team):
            _record(team, person, True)


def _remove(team, people) -> None:
    for person in people:
        if identity.team_remove(user=person, team=team):
            _record(team, person, False)


@transaction.atomic
def members_replace(team: identity.Team, values) -> None:
    wanted = _people(values)
    wanted_ids = {p.pk for p in wanted}
    _remove(team, [p for p in identity.team_members(team) if p.pk not in wanted_ids])
    _add(team, wanted)


_MEMBER_FILTER = re.compile(r'^members\[value eq "(?P<id>[^"]+)"\]$', re.I)


@transaction.atomic
def group_patch(team: identity.Team, ops) -> None:
    for op, path, value in ops:
        match = _MEMBER_FILTER.match(path)
        if match and op == "remove":  # Okta: remove one member named in the path
            _remove(team, _people([match["id"]]))
        elif path.lower() == "members":
            if op == "add":
                _add(team, _people(value))
            elif op == "remove":
                if value in (None, ""):
                    _remove(team, list(identity.team_members(team)))
                else:
                    _remove(team, _people(value))
            else:
                members_replace(team, value)
        elif not path and isinstance(value, dict) and "members" in value:
            (_add if op == "add" else members_replace)(team, value["members"])
        # displayName, externalId: the team's name is ours (IDENTITY_GROUP_*); ignored


def team_for_create(data: dict) -> identity.Team:
    team = identity.team_of_group_name(str(data.get("displayName") or ""))
    if team is None:
        raise ScimError(
            400,
            "Only the finance, IT and administrators groups are kept here "
            "(IDENTITY_GROUP_FINANCE, IDENTITY_GROUP_IT, IDENTITY_GROUP_ADMINS).",
            "invalidValue",
        )
    return team
