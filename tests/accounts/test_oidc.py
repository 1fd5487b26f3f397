"""OpenID Connect pieces that the browser test (tests/e2e/test_identity_browser.py,
against a real provider) cannot provoke: tokens for another client or from another
issuer, the mapping of groups, the login page with and without local passwords."""

from __future__ import annotations

import time

import jwt
import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from accounts import identity, oidc
from accounts.models import Role

SECRET = "client-secret-for-hs256-tests-0123456789"


@pytest.fixture
def configured(settings):
    settings.OIDC_ISSUER = "https://idp.example.com"
    settings.OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = "approvals"
    settings.OIDC_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    # Explicit endpoints: no discovery call in these tests.
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example.com/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example.com/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example.com/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example.com/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = "https://idp.example.com/logout"
    return settings


def token(**claims) -> str:
    now = int(time.time())
    body = {
        "iss": "https://idp.example.com",
        "aud": "approvals",
        "sub": "s1",
        "nonce": "n",
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    return jwt.encode(body, SECRET, algorithm="HS256")


def test_an_id_token_is_checked_for_issuer_and_audience(configured):
    backend = oidc.Backend()
    assert backend.verify_token(token(), nonce="n")["sub"] == "s1"
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(token(aud="another-app"), nonce="n")
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(token(iss="https://evil.example.com"), nonce="n")
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(token(), nonce="other")  # replayed into another sign-in


@pytest.mark.django_db
def test_claims_map_groups_to_teams_and_roles(configured, demo_org):
    configured.IDENTITY_GROUP_FINANCE = ["00000000-aaaa-finance-object-id"]
    backend = oidc.Backend()
    claims = {
        "sub": "entra-sub-1",
        "preferred_username": "ivan",
        "email": "ivan@example.com",
        "given_name": "Ivan",
        "family_name": "Iwanow",
        "groups": ["00000000-aaaa-finance-object-id", "IT"],
        "manager": "victor",
    }
    users = backend.filter_users_by_claims(claims)
    assert [u.username for u in users] == ["ivan"]  # linked once by username
    ivan = backend.update_user(users[0], claims)
    ivan.refresh_from_db()
    assert set(ivan.groups.values_list("name", flat=True)) == {"finance", "IT"}
    assert ivan.role == Role.FINANCE and ivan.oidc_subject == "entra-sub-1"
    assert ivan.reports_to.username == "victor"
    # From now on only the subject finds him; another subject cannot take the account over.
    other = {**claims, "sub": "someone-else"}
    assert not backend.filter_users_by_claims(other).exists()
    # Dropped from every mapped group: back to employee, out of both groups.
    backend.update_user(ivan, {**claims, "groups": ["all-staff"]})
    ivan.refresh_from_db()
    assert ivan.role == Role.EMPLOYEE and not ivan.groups.exists()


def test_team_names_are_case_insensitive_and_unknown_ones_ignored(settings):
    settings.IDENTITY_GROUP_ADMINS = ["Approvals Admins"]
    assert identity.teams_of(["approvals admins", "x"]) == {identity.Team.ADMINS}
    assert identity.teams_of([]) == set()


@pytest.mark.django_db
def test_the_login_page_offers_what_is_configured(configured):
    page = Client().get("/accounts/login/").content.decode()
    assert 'data-testid="sso-login"' in page and 'name="password"' in page
    configured.LOCAL_LOGIN = False
    page = Client().get("/accounts/login/").content.decode()
    assert 'data-testid="sso-login"' in page and 'name="password"' not in page
    configured.OIDC_ISSUER = ""
    assert Client().get("/accounts/oidc/authenticate/").status_code == 404


@pytest.mark.django_db
def test_sso_sends_the_browser_to_the_provider_with_pkce(configured):
    answer = Client().get("/accounts/oidc/authenticate/?next=/inbox/")
    assert answer.status_code == 302
    location = answer["Location"]
    assert location.startswith("https://idp.example.com/auth?")
    assert "code_challenge_method=S256" in location and "code_challenge=" in location
    assert "response_type=code" in location and "state=" in location and "nonce=" in location
    again = Client().get("/accounts/oidc/authenticate/?reauth=1")
    assert "prompt=login" in again["Location"] and "max_age=0" in again["Location"]


@pytest.mark.django_db
def test_a_provider_that_is_down_never_breaks_the_password_login(settings, demo_org):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens: discovery fails
    settings.OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = "approvals"
    settings.OIDC_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "accounts.oidc.Backend"]
    oidc._discovery.update(at=0.0, document=None, failed_at=None)
    client = Client()
    answer = client.post("/accounts/login/", {"username": "emma", "password": "demo"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    sso = Client().get("/accounts/oidc/authenticate/")
    assert sso.status_code == 302 and sso["Location"] == "/accounts/login/?sso=failed"
    oidc._discovery.update(at=0.0, document=None, failed_at=None)  # for later tests
