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


def forged(password: str, forwarded_for: str, *, username: str = "finn"):
    """A login from one address (127.0.0.1) claiming another in X-Forwarded-For."""
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code


def test_spoofed_forwarded_for_without_a_proxy_is_ignored_and_locks_out(demo_org, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    codes = [forged("wrong", f"203.0.113.{i}") for i in range(1, 9)]
    assert codes == [200] * 4 + [429] * 4
    assert forged("demo", "198.51.100.7") == 429  # the right password from "elsewhere"


def test_behind_one_trusted_proxy_the_forwarded_client_is_used(demo_org, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; what the client typed stays to its left.
    codes = [forged("wrong", f"10.9.9.9, 203.0.113.{i}") for i in range(1, 9)]
    assert codes == [200] * 8  # eight different clients, none locked
    codes = [forged("wrong", f"203.0.113.{i}, 192.0.2.50") for i in range(1, 6)]
    assert codes == [200] * 4 + [429]  # one client behind the proxy, whatever it claims
    assert forged("demo", "192.0.2.51") != 429  # another client still signs in


def test_uvicorn_reads_proxy_headers_only_with_trusted_proxies(settings, monkeypatch):
    from approvals.management.commands.serve import proxy_options

    settings.TRUSTED_PROXY_COUNT = 0
    assert proxy_options() == {"proxy_headers": False}
    settings.TRUSTED_PROXY_COUNT = 1
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5"}
