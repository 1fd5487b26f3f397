"""Login throttling (django-axes): a username+IP pair is locked after 5 failures.

While locked, even the right password is refused (status 429, the
registration/locked_out.html page, no session); a success before the limit
resets the count; the lock is per username *and* address, so neither another
person at the same address nor the same person elsewhere is locked out.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins"


def attempt(password: str, *, username: str = "emma", ip: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


def test_limit_is_five_failures():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_fifth_failure_locks_and_the_right_password_is_then_refused(demo_org):
    for _ in range(4):
        response, signed_in = attempt("wrong")
        assert response.status_code == 200 and not signed_in
        assert LOCKED not in response.content.decode()
    response, signed_in = attempt("wrong")
    assert response.status_code == 429 and not signed_in
    assert LOCKED in response.content.decode()
    response, signed_in = attempt("demo")
    assert response.status_code == 429 and not signed_in
    assert LOCKED in response.content.decode()


def test_a_success_resets_the_count(demo_org):
    for _ in range(4):
        assert attempt("wrong")[0].status_code == 200
    response, signed_in = attempt("demo")
    assert response.status_code == 302 and signed_in
    # Without the reset these would be failures 5 to 8 and the next login refused.
    for _ in range(4):
        assert attempt("wrong")[0].status_code == 200
    response, signed_in = attempt("demo")
    assert response.status_code == 302 and signed_in


def test_lock_is_per_username_and_address(demo_org):
    for _ in range(5):
        attempt("wrong", ip="10.0.0.9")
    assert attempt("demo", ip="10.0.0.9")[0].status_code == 429
    # Another person at the same address, and emma from another address, still sign in.
    response, signed_in = attempt("demo", username="finn", ip="10.0.0.9")
    assert response.status_code == 302 and signed_in
    response, signed_in = attempt("demo", ip="10.0.0.10")
    assert response.status_code == 302 and signed_in


def test_failures_for_unknown_names_lock_too_and_leak_nothing(demo_org):
    """Guessing names gets the same answers as guessing passwords."""
    unknown = [attempt("wrong", username="nobody")[0] for _ in range(5)]
    known = [attempt("wrong", ip="10.0.0.2")[0] for _ in range(5)]
    assert [r.status_code for r in unknown] == [r.status_code for r in known] == [200] * 4 + [429]
