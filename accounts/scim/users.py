"""SCIM Users: a person as a SCIM resource, and provisioning writes.

`id` is our primary key; `userName` the username; `active` false is the leaver
flow (`accounts.services.user_deactivate`: delegations end, waiting levels move
on at once) and DELETE does the same (people are never erased). The enterprise
extension's `manager.value` (our id, or a username, email or externalId) is
reports-to. Attributes the product does not keep (phone numbers, addresses, ...)
are accepted and ignored, as RFC 7644 allows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from .. import identity
from ..models import IdentityEventKind, User
from ..services import user_deactivate
from .protocol import ENTERPRISE, USER, ScimError, as_bool

ACTOR = "scim"


def user_resource(request: HttpRequest, user: User) -> dict:
    manager = user.reports_to
    resource = {
        "schemas": [USER, ENTERPRISE],
        "id": str(user.pk),
        "userName": user.username,
        "name": {
            "givenName": user.first_name,
            "familyName": user.last_name,
            "formatted": user.get_full_name(),
        },
        "displayName": user.display_name,
        "title": user.title,
        "active": user.is_active,
        "emails": [{"value": user.email, "type": "work", "primary": True}] if user.email else [],
        "groups": [
            {"value": str(team), "display": str(team)}
            for team in identity.Team
            if identity.team_members(team).filter(pk=user.pk).exists()
        ],
        ENTERPRISE: {"manager": {"value": str(manager.pk), "displayName": manager.display_name}}
        if manager
        else {},
        "meta": {
            "resourceType": "User",
            "created": user.date_joined.isoformat(),
            "location": request.build_absolute_uri(reverse("scim-user", args=[user.pk])),
        },
    }
    if user.external_id:
        resource["externalId"] = user.external_id
    return resource


def _email(value) -> str:
    if isinstance(value, list):
        primary = [e for e in value if isinstance(e, dict) and e.get("primary")]
        chosen = (primary or [e for e in value if isinstance(e, dict)] or [{}])[0]
        return str(chosen.get("value") or "")
    return str(value or "")


def _manager(value) -> User | None:
    if isinstance(value, dict):
        value = value.get("value")
    if value in (None, ""):
        return None
    manager = identity.find_person(str(value))
    if manager is None:
        raise ScimError(400, f"No person {value!r} to report to.", "invalidValue")
    return manager


MANAGER_PATHS = {f"{ENTERPRISE}:manager".lower(), f"{ENTERPRISE}:manager.value".lower()}


def _set(user: User, path: str, value, changes: dict) -> None:
    """One attribute (SCIM path, lower case) onto the unsaved person."""
    simple = {
        "username": "username",
        "externalid": "external_id",
        "title": "title",
        "name.givenname": "first_name",
        "name.familyname": "last_name",
    }
    if path in simple:
        field = simple[path]
        if isinstance(value, dict | list | bool):
            raise ScimError(400, f"{path} must be a string.", "invalidValue")
        text = "" if value is None else str(value)
        if path == "username" and not text.strip():
            raise ScimError(400, "userName must not be empty.", "invalidValue")
        if getattr(user, field) != text:
            setattr(user, field, text[: User._meta.get_field(field).max_length])
            changes[field] = text
    elif path in {"emails", 'emails[type eq "work"].value', "emails.value"}:
        email = _email(value)
        if email != user.email:
            user.email = email
            changes["email"] = email
    elif path == "name" and isinstance(value, dict):
        for key, sub in value.items():
            _set(user, f"name.{key.lower()}", sub, changes)
    elif path == "active":
        changes["active"] = as_bool(value)
    elif path in MANAGER_PATHS:
        changes["manager"] = _manager(value)
    elif path == ENTERPRISE.lower() and isinstance(value, dict):
        for key, sub in value.items():
            _set(user, f"{ENTERPRISE}:{key}".lower(), sub, changes)
    # anything else: accepted and not kept


def _apply(user: User, values: dict, changes: dict) -> None:
    for key, value in values.items():
        if key in {"schemas", "id", "meta", "groups", "password"}:
            continue
        _set(user, key.lower(), value, changes)


@transaction.atomic
def _save(user: User, changes: dict, *, created: bool) -> User:
    active = changes.pop("active", None)
    manager_given = "manager" in changes
    manager = changes.pop("manager", None)
    if User.objects.filter(username__iexact=user.username).exclude(pk=user.pk).exists():
        raise ScimError(409, f"userName {user.username!r} is taken.", "uniqueness")
    if created:
        user.set_unusable_password()  # signs in through the identity provider
        user.is_active = active if active is not None else True
    user.save()  # is_active is changed below, through the leaver service
    if manager_given:
        try:
            if identity.manager_set(user=user, manager=manager):
                changes["manager"] = manager.username if manager else ""
        except ValidationError as exc:
            raise ScimError(400, " ".join(exc.messages), "invalidValue") from exc
    if created:
        identity.record(IdentityEventKind.PROVISIONED, subject=user, actor=ACTOR, **changes)
    elif changes:
        identity.record(IdentityEventKind.PROVISION_UPDATED, subject=user, actor=ACTOR, **changes)
    if active is False and not created and _was_active(user):
        user_deactivate(user=user)
        identity.record(IdentityEventKind.DEPROVISIONED, subject=user, actor=ACTOR)
    elif active is True and not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        identity.record(IdentityEventKind.PROVISION_UPDATED, subject=user, actor=ACTOR, active=True)
    return user


def _was_active(user: User) -> bool:
    return User.objects.filter(pk=user.pk, is_active=True).exists()


def user_create(data: dict) -> User:
    if not str(data.get("userName") or "").strip():
        raise ScimError(400, "userName is required.", "invalidValue")
    user = User()
    changes: dict = {}
    _apply(user, data, changes)
    return _save(user, changes, created=True)


def user_replace(user: User, data: dict) -> User:
    """PUT: the resource as given (attributes left out are cleared where we keep them)."""
    changes: dict = {}
    values = {
        "name": {"givenName": "", "familyName": ""},
        "title": "",
        "externalId": "",
        "emails": [],
        ENTERPRISE: {"manager": None},
        **data,
    }
    _apply(user, values, changes)
    return _save(user, changes, created=False)


def user_patch(user: User, ops: list[tuple[str, str, object]]) -> User:
    changes: dict = {}
    for op, path, value in ops:
        if op == "remove":
            if path.lower() in MANAGER_PATHS:
                changes["manager"] = None
            continue  # other removals: nothing we keep may be emptied this way
        if path:
            _set(user, path.lower(), value, changes)
        elif isinstance(value, dict):
            _apply(user, value, changes)
        else:
            raise ScimError(
                400, "An operation without a path needs an object value.", "invalidSyntax"
            )
    return _save(user, changes, created=False)


def user_delete(user: User) -> None:
    if user.is_active:
        user_deactivate(user=user)
        identity.record(IdentityEventKind.DEPROVISIONED, subject=user, actor=ACTOR, deleted=True)


FILTERS = {
    "username": "username__iexact",
    "externalid": "external_id",
    "id": "pk",
    'emails[type eq "work"].value': "email__iexact",
    "emails.value": "email__iexact",
    "displayname": None,
}
