"""/accounts/profile/: each person sets their own mail preferences (the digest opt-out)."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.support.web import client_for

pytestmark = pytest.mark.django_db
PROFILE = "/accounts/profile/"


def _digest_box(page: str) -> str:
    start = page.index('name="receives_digest"')
    return page[page.rindex("<input", 0, start) : page.index(">", start)]


def test_the_digest_is_on_by_default_and_the_profile_page_says_so(demo_org):
    page = client_for(demo_org["max"]).get(PROFILE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "checked" in _digest_box(text)
    assert 'data-testid="nav-profile"' in text
    assert all(u.receives_digest for u in User.objects.all())


def test_unticking_the_digest_opts_out_and_ticking_it_opts_in_again(demo_org):
    max_ = client_for(demo_org["max"])
    response = max_.post(PROFILE, {})
    assert response.status_code == 302 and response["Location"] == PROFILE
    assert User.objects.get(username="max").receives_digest is False
    assert "checked" not in _digest_box(max_.get(PROFILE).content.decode())
    assert max_.post(PROFILE, {"receives_digest": "on"}, follow=True).status_code == 200
    assert User.objects.get(username="max").receives_digest is True


def test_a_person_changes_only_their_own_profile(demo_org):
    # There is no id to forge: whatever the form says, it is the signed-in person's row.
    client_for(demo_org["emma"]).post(PROFILE, {"username": "max", "is_superuser": "on"})
    emma, max_ = User.objects.get(username="emma"), User.objects.get(username="max")
    assert emma.receives_digest is False and emma.is_superuser is False
    assert max_.receives_digest is True


def test_the_profile_page_is_in_german_too(demo_org):
    page = client_for(demo_org["emma"]).get(PROFILE, HTTP_ACCEPT_LANGUAGE="de")
    text = page.content.decode()
    assert "Die tägliche Übersicht per Mail erhalten" in text
    assert "Jeden Morgen eine Mail mit allem, was auf Ihre Entscheidung wartet." in text


def test_signed_out_people_are_sent_to_the_login_page(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
