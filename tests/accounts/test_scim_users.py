"""SCIM 2.0 Users with the requests Microsoft Entra ID and Okta document sending.

Entra ID: "Tutorial: Develop and plan provisioning for a SCIM endpoint" (the
request/response pairs: create, get by userName filter, PATCH Replace with
"False" as a string, the enterprise extension's manager as a bare id). Okta:
"SCIM 2.0 protocol reference" (filter userName eq, startIndex/count, PATCH
replace {"active": false}, PUT the whole user).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import IdentityEvent, Role, User

pytestmark = pytest.mark.django_db

TOKEN = "scim-test-token-0123456789"
SCIM = "application/scim+json"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def scim(settings):
    settings.SCIM_TOKEN = TOKEN
    client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    def call(method: str, path: str, body=None, **extra):
        kwargs = {"content_type": SCIM}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return getattr(client, method)("/scim/v2/" + path, **kwargs, **extra)

    return call


ENTRA_CREATE = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
    "meta": {"resourceType": "User"},
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    },
    "roles": [],
}


def test_entra_create_then_get_by_username_filter(scim, demo_org):
    created = scim("post", "Users", ENTRA_CREATE)
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == SCIM
    body = created.json()
    assert body["userName"] == ENTRA_CREATE["userName"]
    assert body["externalId"] == ENTRA_CREATE["externalId"]
    assert body["active"] is True
    assert body["emails"][0]["value"] == "Test_User_fd0ea19b@testuser.com"
    person = User.objects.get(pk=int(body["id"]))
    assert person.first_name == "givenName" and not person.has_usable_password()
    assert created["Location"].endswith(f"/scim/v2/Users/{person.pk}")

    found = scim("get", f'Users?filter=userName eq "{ENTRA_CREATE["userName"]}"')
    assert found.status_code == 200
    listing = found.json()
    assert listing["totalResults"] == 1 and listing["Resources"][0]["id"] == body["id"]
    # Entra's "does it exist" probe for someone who does not
    none = scim("get", 'Users?filter=userName eq "non-existent user"').json()
    assert none["totalResults"] == 0 and none["Resources"] == []
    assert IdentityEvent.objects.filter(kind="provisioned", subject_username=person.username)


def test_a_taken_username_is_409_uniqueness(scim, demo_org):
    answer = scim("post", "Users", {**ENTRA_CREATE, "userName": "EMMA"})
    assert answer.status_code == 409
    assert answer.json()["scimType"] == "uniqueness"


def test_entra_patch_replace_attributes_and_manager(scim, demo_org):
    person = scim("post", "Users", ENTRA_CREATE).json()
    diana = demo_org["diana"]
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "userName", "value": "nina@contoso.example"},
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "nina@contoso.example",
            },
            {"op": "Replace", "path": "name.familyName", "value": "Neumann"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": str(diana.pk)},
            {"op": "Add", "path": 'phoneNumbers[type eq "work"].value', "value": "+49 30 1"},
        ],
    }
    answer = scim("patch", f"Users/{person['id']}", patch)
    assert answer.status_code == 200, answer.content
    nina = User.objects.get(pk=int(person["id"]))
    assert (nina.username, nina.email, nina.last_name) == (
        "nina@contoso.example",
        "nina@contoso.example",
        "Neumann",
    )
    assert nina.reports_to == diana
    assert answer.json()[ENTERPRISE]["manager"]["value"] == str(diana.pk)
    # Okta/Entra remove the manager
    scim(
        "patch",
        f"Users/{person['id']}",
        {"Operations": [{"op": "remove", "path": f"{ENTERPRISE}:manager"}]},
    )
    nina.refresh_from_db()
    assert nina.reports_to is None


def test_a_manager_cycle_is_refused_in_words(scim, demo_org):
    max_ = demo_org["max"]
    emma = demo_org["emma"]
    answer = scim(
        "patch",
        f"Users/{max_.pk}",
        {
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": str(emma.pk)}}
            ]
        },
    )
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "invalidValue"
    max_.refresh_from_db()
    assert max_.reports_to == demo_org["diana"]


def test_pagination_with_start_index_and_count(scim, demo_org):
    total = User.objects.count()
    first = scim("get", "Users?startIndex=1&count=3").json()
    second = scim("get", "Users?startIndex=4&count=3").json()
    assert first["totalResults"] == second["totalResults"] == total
    assert first["itemsPerPage"] == 3 and first["startIndex"] == 1
    assert second["startIndex"] == 4
    ids = [r["id"] for r in first["Resources"] + second["Resources"]]
    assert len(set(ids)) == 6
    beyond = scim("get", f"Users?startIndex={total + 1}&count=10").json()
    assert beyond["Resources"] == [] and beyond["totalResults"] == total
    assert scim("get", "Users?startIndex=x").status_code == 400


def test_okta_put_replaces_the_user(scim, demo_org):
    finn = demo_org["finn"]
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": str(finn.pk),
        "userName": "finn",
        "name": {"givenName": "Finn", "familyName": "Fischer"},
        "emails": [{"primary": True, "value": "finn@okta.example", "type": "work"}],
        "active": True,
    }
    answer = scim("put", f"Users/{finn.pk}", body)
    assert answer.status_code == 200, answer.content
    finn.refresh_from_db()
    assert (finn.last_name, finn.email, finn.reports_to) == ("Fischer", "finn@okta.example", None)


def test_unsupported_filters_and_bad_json_are_scim_errors(scim, demo_org):
    bad = scim("get", 'Users?filter=userName co "a"')
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidFilter"
    assert scim("get", 'Users?filter=title eq "x"').status_code == 400
    broken = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}").post(
        "/scim/v2/Users", data="{nope", content_type=SCIM
    )
    assert broken.status_code == 400 and broken.json()["scimType"] == "invalidSyntax"
    assert scim("get", "Users/999999").status_code == 404
    assert scim("get", "Users/abc").status_code == 404
    no_ops = scim("patch", f"Users/{demo_org['emma'].pk}", {"Operations": []})
    assert no_ops.status_code == 400


@pytest.mark.parametrize("header", ["", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_without_the_token_nothing_is_answered(settings, demo_org, header):
    settings.SCIM_TOKEN = TOKEN
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    for path in (
        "Users",
        f"Users/{demo_org['emma'].pk}",
        "Groups",
        "Groups/finance",
        "ServiceProviderConfig",
    ):
        answer = client.get("/scim/v2/" + path)
        assert answer.status_code == 401, path
        assert answer["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/scim/v2/Users", data="{}", content_type=SCIM).status_code == 401
    assert User.objects.count() == len(demo_org)


def test_scim_is_off_without_a_configured_token(settings, demo_org):
    settings.SCIM_TOKEN = ""
    assert Client(HTTP_AUTHORIZATION="Bearer ").get("/scim/v2/Users").status_code == 401


def test_a_session_is_no_way_into_scim(settings, demo_org):
    settings.SCIM_TOKEN = TOKEN
    client = Client()
    client.force_login(demo_org["admin"])
    assert client.get("/scim/v2/Users").status_code == 401


def test_discovery_documents(scim, demo_org):
    config = scim("get", "ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True and config["filter"]["supported"] is True
    types = scim("get", "ResourceTypes").json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    assert scim("get", "Schemas").status_code == 200


def test_a_new_user_may_be_created_inactive(scim, demo_org):
    body = scim("post", "Users", {**ENTRA_CREATE, "active": "False"}).json()
    assert body["active"] is False
    assert not User.objects.get(pk=int(body["id"])).is_active


def test_roles_are_untouched_by_attribute_updates(scim, demo_org):
    max_ = demo_org["max"]
    scim(
        "patch",
        f"Users/{max_.pk}",
        {"Operations": [{"op": "replace", "value": {"title": "Head of Sales"}}]},
    )
    max_.refresh_from_db()
    assert max_.title == "Head of Sales" and max_.role == Role.MANAGER


def test_hostile_values_are_refused_in_words_never_a_500(scim, demo_org):
    emma = demo_org["emma"]
    assert scim("get", "Users/99999999999999999999999999").status_code == 404
    huge = scim("get", 'Users?filter=id eq "99999999999999999999999999"').json()
    assert huge["totalResults"] == 0
    for value in ({"a": 1}, ["x"], True):
        answer = scim(
            "patch",
            f"Users/{emma.pk}",
            {"Operations": [{"op": "replace", "path": "userName", "value": value}]},
        )
        assert answer.status_code == 400, value
    manager = scim(
        "patch",
        f"Users/{emma.pk}",
        {
            "Operations": [
                {
                    "op": "replace",
                    "path": f"{ENTERPRISE}:manager",
                    "value": "99999999999999999999999",
                }
            ]
        },
    )
    assert manager.status_code == 400
    emma.refresh_from_db()
    assert emma.username == "emma" and emma.reports_to.username == "max"
    long_name = scim(
        "patch",
        f"Users/{emma.pk}",
        {"Operations": [{"op": "replace", "path": "name.givenName", "value": "E" * 500}]},
    )
    assert long_name.status_code == 200
    assert scim("get", "Users?count=-5&startIndex=-1").status_code == 200
