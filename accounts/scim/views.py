"""/scim/v2/: Users, Groups and the discovery resources, with bearer SCIM_TOKEN."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .. import identity
from ..models import User
from . import groups, users
from .protocol import (
    ENTERPRISE,
    GROUP,
    USER,
    ScimError,
    body,
    endpoint,
    list_response,
    operations,
    page,
    parse_filter,
    respond,
)


@endpoint(("GET",))
def service_provider_config(request: HttpRequest) -> HttpResponse:
    return respond(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": 200},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "The SCIM_TOKEN of this installation",
                }
            ],
        }
    )


@endpoint(("GET",))
def resource_types(request: HttpRequest) -> HttpResponse:
    types = [
        {
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "schema": USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
        },
        {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP},
    ]
    for t in types:
        t["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]
    return list_response(types, total=len(types), start=1)


@endpoint(("GET",))
def schemas(request: HttpRequest) -> HttpResponse:
    found = [
        {"id": s, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"]}
        for s in (USER, ENTERPRISE, GROUP)
    ]
    return list_response(found, total=len(found), start=1)


def _user_or_404(pk: str) -> User:
    number = identity.as_pk(pk)
    user = User.objects.filter(pk=number).first() if number is not None else None
    if user is None:
        raise ScimError(404, f"No user {pk!r}.")
    return user


@endpoint(("GET", "POST"))
def users_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        user = users.user_create(body(request))
        response = respond(users.user_resource(request, user), status=201)
        response["Location"] = request.build_absolute_uri(reverse("scim-user", args=[user.pk]))
        return response
    query = Q()
    for clause in parse_filter(request.GET.get("filter", "")):
        lookup = users.FILTERS.get(clause.attribute)
        if lookup is None:
            raise ScimError(400, f"Cannot filter on {clause.attribute!r}.", "invalidFilter")
        if lookup == "pk":
            query &= (
                Q(pk=identity.as_pk(clause.value)) if identity.as_pk(clause.value) else Q(pk__in=[])
            )
        else:
            query &= Q(**{lookup: clause.value})
    start, count = page(request)
    found = User.objects.filter(query).order_by("pk")
    chosen = list(found[start - 1 : start - 1 + count])
    return list_response(
        [users.user_resource(request, u) for u in chosen], total=found.count(), start=start
    )


@endpoint(("GET", "PUT", "PATCH", "DELETE"))
def user_view(request: HttpRequest, pk: str) -> HttpResponse:
    user = _user_or_404(pk)
    if request.method == "PUT":
        user = users.user_replace(user, body(request))
    elif request.method == "PATCH":
        user = users.user_patch(user, operations(body(request)))
    elif request.method == "DELETE":
        users.user_delete(user)
        return respond(None, status=204)
    user.refresh_from_db()
    return respond(users.user_resource(request, user))


@endpoint(("GET", "POST"))
def groups_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data = body(request)
        team = groups.team_for_create(data)
        if "members" in data:
            groups.members_replace(team, data["members"])
        return respond(groups.group_resource(request, team), status=201)
    teams = list(identity.Team)
    for clause in parse_filter(request.GET.get("filter", "")):
        if clause.attribute == "displayname":
            teams = [t for t in teams if identity.team_of_group_name(clause.value) == t]
        elif clause.attribute == "id":
            teams = [t for t in teams if str(t) == clause.value]
        else:
            raise ScimError(400, f"Cannot filter on {clause.attribute!r}.", "invalidFilter")
    start, count = page(request)
    members = "members" not in request.GET.get("excludedAttributes", "")
    chosen = teams[start - 1 : start - 1 + count]
    return list_response(
        [groups.group_resource(request, t, members=members) for t in chosen],
        total=len(teams),
        start=start,
    )


@endpoint(("GET", "PUT", "PATCH", "DELETE"))
def group_view(request: HttpRequest, group_id: str) -> HttpResponse:
    team = groups.team_by_id(group_id)
    if request.method == "PATCH":
        groups.group_patch(team, operations(body(request)))
        return respond(None, status=204)
    if request.method == "PUT":
        groups.members_replace(team, body(request).get("members"))
    elif request.method == "DELETE":
        groups.members_replace(team, [])  # the team stays; nobody is in it any more
        return respond(None, status=204)
    members = "members" not in request.GET.get("excludedAttributes", "")
    return respond(groups.group_resource(request, team, members=members))
