"""Sign in and out with django.contrib.auth's views (logout is a POST)."""

import pytest

pytestmark = pytest.mark.django_db


def test_login_page_has_the_contract_fields(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page and 'name="password"' in page


def test_demo_user_logs_in_and_lands_on_her_overview(client, demo_org):
    response = client.post("/accounts/login/", {"username": "emma", "password": "demo"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "Emma Engel" in page and 'data-testid="home-waiting"' in page


def test_wrong_password_shows_an_error_and_no_session(client, demo_org):
    response = client.post("/accounts/login/", {"username": "emma", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "errors" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(client, demo_org):
    client.force_login(demo_org["emma"])
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/requests/").status_code == 302


def test_pages_need_a_login(client):
    response = client.get("/requests/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
