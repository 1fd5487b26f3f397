"""SCIM 2.0 Groups (finance, IT, administrators) with the requests Entra ID and Okta
document: membership by PATCH add/remove (Entra), remove by a filtered path and
replace (Okta), the displayName filter, excludedAttributes=members, POST of a team."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import IdentityEvent, Role

pytestmark = pytest.mark.django_db

TOKEN = "scim-test-token-0123456789"
SCIM = "application/scim+json"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def scim(settings):
    settings.SCIM_TOKEN = TOKEN
    settings.IDENTITY_GROUP_FINANCE = ["Finance Team", "finance"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    def call(method: str, path: str, body=None):
        kwargs = {"content_type": SCIM}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return getattr(client, method)("/scim/v2/" + path, **kwargs)

    return call


def members(scim, group: str) -> set[str]:
    return {m["display"] for m in scim("get", f"Groups/{group}").json()["members"]}


def test_entra_finds_the_group_by_display_name_without_members(scim, demo_org):
    answer = scim("get", 'Groups?excludedAttributes=members&filter=displayName eq "Finance Team"')
    body = answer.json()
    assert answer.status_code == 200 and body["totalResults"] == 1
    group = body["Resources"][0]
    assert group["id"] == "finance" and group["displayName"] == "Finance Team"
    assert "members" not in group
    assert scim("get", 'Groups?filter=displayName eq "Marketing"').json()["totalResults"] == 0
    assert members(scim, "finance") == {"fiona", "felix"}


def test_entra_add_and_remove_members(scim, demo_org):
    emma, ivan = demo_org["emma"], demo_org["ivan"]
    add = {
        "schemas": [PATCH],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": str(emma.pk)}]}],
    }
    assert scim("patch", "Groups/finance", add).status_code == 204
    emma.refresh_from_db()
    assert emma.groups.filter(name="finance").exists() and emma.role == Role.FINANCE
    assert "emma" in members(scim, "finance")

    remove = {
        "schemas": [PATCH],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": str(emma.pk)}]}],
    }
    assert scim("patch", "Groups/finance", remove).status_code == 204
    emma.refresh_from_db()
    assert not emma.groups.filter(name="finance").exists() and emma.role == Role.EMPLOYEE
    # IT: ivan leaves through Okta's filtered remove
    okta = {
        "schemas": [PATCH],
        "Operations": [{"op": "remove", "path": f'members[value eq "{ivan.pk}"]'}],
    }
    assert scim("patch", "Groups/IT", okta).status_code == 204
    assert "ivan" not in members(scim, "IT")
    kinds = list(
        IdentityEvent.objects.filter(kind="group_changed").values_list(
            "subject_username", "details__change"
        )
    )
    assert {("emma", "added"), ("emma", "removed"), ("ivan", "removed")} <= set(kinds)


def test_administrators_make_superusers_and_back(scim, demo_org):
    finn = demo_org["finn"]
    scim(
        "patch",
        "Groups/administrators",
        {"Operations": [{"op": "add", "path": "members", "value": [{"value": str(finn.pk)}]}]},
    )
    finn.refresh_from_db()
    assert finn.is_superuser and finn.is_staff and finn.role == Role.ADMIN
    scim(
        "patch",
        "Groups/administrators",
        {
            "Operations": [
                {
                    "op": "replace",
                    "path": "members",
                    "value": [{"value": str(demo_org["admin"].pk)}],
                }
            ]
        },
    )
    finn.refresh_from_db()
    assert not finn.is_superuser and finn.role == Role.EMPLOYEE
    assert members(scim, "administrators") == {"admin"}


def test_okta_push_group_post_and_put(scim, demo_org):
    emma = demo_org["emma"]
    created = scim(
        "post",
        "Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Finance Team",
            "members": [{"value": str(emma.pk), "display": "emma"}],
        },
    )
    assert created.status_code == 201
    assert created.json()["id"] == "finance"
    assert members(scim, "finance") == {"emma"}
    put = scim(
        "put",
        "Groups/finance",
        {"displayName": "Finance Team", "members": [{"value": str(demo_org["fiona"].pk)}]},
    )
    assert put.status_code == 200 and members(scim, "finance") == {"fiona"}


def test_a_group_that_is_no_team_is_refused(scim, demo_org):
    answer = scim("post", "Groups", {"displayName": "Marketing", "members": []})
    assert answer.status_code == 400 and answer.json()["scimType"] == "invalidValue"
    assert scim("get", "Groups/marketing").status_code == 404
    unknown = scim(
        "patch",
        "Groups/finance",
        {"Operations": [{"op": "add", "path": "members", "value": [{"value": "999999"}]}]},
    )
    assert unknown.status_code == 400


def test_group_listing_pages(scim, demo_org):
    page = scim("get", "Groups?startIndex=2&count=1").json()
    assert page["totalResults"] == 3 and page["itemsPerPage"] == 1 and page["startIndex"] == 2
