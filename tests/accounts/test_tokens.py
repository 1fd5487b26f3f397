"""Personal access tokens: made on /accounts/tokens/ (shown once, stored as a hash),
listed, revoked by their owner or an admin, dead once revoked or expired."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import AccessToken
from tests.support.web import client_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/requests"


def _secret(response) -> str:
    match = re.search(r'data-testid="token">([^<]+)<', response.content.decode())
    assert match, "the new token is shown in data-testid=token"
    return match.group(1)


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_created_token_is_shown_once_and_stored_only_as_its_hash(demo_org):
    emma = client_for(demo_org["emma"])
    response = emma.post(
        "/accounts/tokens/", {"name": "laptop script", "scopes": ["read", "decide"]}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = _secret(response)
    token = AccessToken.objects.get(owner=demo_org["emma"])
    assert token.name == "laptop script" and token.scopes == ["decide", "read"]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(secret) > len(token.prefix) + 30
    # The secret is nowhere in the row; the page lists the token without it from now on.
    row = AccessToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret in str(value) for value in row.values())
    listing = emma.get("/accounts/tokens/").content.decode()
    assert "laptop script" in listing and token.prefix in listing and secret not in listing
    # The token works on the API as emma.
    api = client_for(demo_org["finn"])  # whoever's session: the Bearer token decides
    answer = api.get(LIST, **bearer(secret))
    assert answer.status_code == 200 and answer.json() == {"count": 0, "items": []}
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_create_needs_a_name_and_a_scope_and_a_future_expiry(demo_org):
    emma = client_for(demo_org["emma"])
    today = timezone.localdate()
    response = emma.post("/accounts/tokens/", {"name": "", "expires_on": today.isoformat()})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-name"' in html and 'data-testid="error-scopes"' in html
    assert 'data-testid="error-expires_on"' in html and 'data-testid="token"' not in html
    assert not AccessToken.objects.exists()


def test_revoked_token_is_refused_and_only_its_owner_or_an_admin_revokes(demo_org):
    token, secret = services.token_create(owner=demo_org["emma"], name="ci", scopes=["read"])
    # finn cannot revoke emma's token: a 404, like a missing one.
    assert (
        client_for(demo_org["finn"]).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    )
    token.refresh_from_db()
    assert token.revoked_at is None
    response = client_for(demo_org["emma"]).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    answer = client_for(demo_org["emma"]).get(LIST, **bearer(secret))
    assert answer.status_code == 401


def test_admin_sees_and_revokes_anyones_token(demo_org):
    token, secret = services.token_create(owner=demo_org["max"], name="bot", scopes=["decide"])
    admin = client_for(demo_org["admin"])
    page = admin.get("/accounts/tokens/").content.decode()
    assert f'data-token-id="{token.pk}"' in page
    # Others never see another person's tokens.
    assert (
        f'data-token-id="{token.pk}"'
        not in client_for(demo_org["emma"]).get("/accounts/tokens/").content.decode()
    )
    assert admin.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client_for(demo_org["max"]).get(LIST, **bearer(secret)).status_code == 401


def test_admin_revokes_tokens_in_the_django_admin(demo_org):
    token, _ = services.token_create(owner=demo_org["max"], name="bot", scopes=["read"])
    admin = client_for(demo_org["admin"])
    response = admin.post(
        "/admin/accounts/accesstoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_expired_token_is_refused(demo_org):
    token, secret = services.token_create(
        owner=demo_org["emma"],
        name="short",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert client_for(demo_org["emma"]).get(LIST, **bearer(secret)).status_code == 200
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_for(demo_org["emma"]).get(LIST, **bearer(secret)).status_code == 401


def test_expiry_date_on_the_page_ends_at_the_end_of_that_day(demo_org):
    tomorrow = timezone.localdate() + timedelta(days=1)
    client_for(demo_org["emma"]).post(
        "/accounts/tokens/",
        {"name": "a day", "scopes": ["read"], "expires_on": tomorrow.isoformat()},
    )
    token = AccessToken.objects.get()
    assert timezone.localtime(token.expires_at).date() == tomorrow + timedelta(days=1)
    assert timezone.localtime(token.expires_at).hour == 0


def test_a_deactivated_owners_token_is_refused(demo_org):
    _, secret = services.token_create(owner=demo_org["finn"], name="x", scopes=["read"])
    demo_org["finn"].delete()  # deactivates
    assert client_for(demo_org["emma"]).get(LIST, **bearer(secret)).status_code == 401
