"""Sign-in and people the way companies run them, in Chromium against real parts:

- a new person signs in through a real OpenID Provider (oidc-provider from npm,
  authorization code + PKCE) and lands with the right role, groups and manager;
  signing out ends the local session and the provider's;
- a SCIM deactivation moves a waiting level at once, live in the next inbox;
- a 12,000 EUR approval asks for a passkey and succeeds with Chromium's virtual
  authenticator (CDP WebAuthn), and fails without it.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from accounts.models import IdentityEvent, Passkey, Role, User
from approvals.models import ExpenseRequest
from tests.support.browser import login, wait_ws
from tests.support.oidc import OpenIdProvider
from tests.support.requests import submit, wait_pending_level, wait_state
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NINA = {
    "password": "nina-at-the-idp",
    "email": "nina@example.com",
    "email_verified": True,
    "name": "Nina Neumann",
    "given_name": "Nina",
    "family_name": "Neumann",
    "preferred_username": "nina",
    "groups": ["finance", "all-staff"],
    "manager": "max",
}


@pytest.fixture
def provider(live_app, tmp_path, settings):
    op = OpenIdProvider({"nina": NINA}, tmp_path, app_urls=[live_app.url]).start()
    op.configure(settings)
    yield op
    op.stop()


def test_a_new_person_signs_in_through_the_provider_and_out_again(live_app, provider, new_page):
    assert not User.objects.filter(username="nina").exists()
    page = new_page()
    page.goto(f"{live_app.url}/accounts/login/")
    page.click("[data-testid=sso-login]")
    # The provider's own page (another origin): its login form.
    page.wait_for_url(f"{provider.issuer}/**")
    page.fill("#login", "nina")
    page.fill("#password", NINA["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=user-name]")
    assert page.url.startswith(live_app.url)
    assert page.inner_text("[data-testid=user-name]") == "Nina Neumann"
    assert page.inner_text("[data-testid=user-role]") == "Finance"

    nina = User.objects.get(username="nina")
    assert nina.oidc_subject == "nina" and nina.email == "nina@example.com"
    assert nina.reports_to == User.objects.get(username="max")
    assert list(nina.groups.values_list("name", flat=True)) == ["finance"]
    assert nina.role == Role.FINANCE and not nina.is_superuser
    assert not nina.has_usable_password()
    signed_in = IdentityEvent.objects.get(kind="sso_sign_in", subject_username="nina")
    assert signed_in.details["manager"] == "max"

    # Sign out: the local session ends, then the provider asks to end its own.
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{provider.issuer}/**")
    page.click("button[name=logout]")
    page.wait_for_url(f"{live_app.url}/accounts/login/**")
    page.goto(f"{live_app.url}/inbox/")
    assert "/accounts/login/" in page.url
    # The provider's session is gone too: SSO asks for the password again.
    page.click("[data-testid=sso-login]")
    page.wait_for_selector("#login")


def test_a_leaver_at_the_provider_cannot_sign_in(live_app, provider, new_page, demo_org):
    User.objects.create_user("nina", email="nina@example.com", is_active=False)
    page = new_page()
    page.goto(f"{live_app.url}/accounts/login/")
    page.click("[data-testid=sso-login]")
    page.fill("#login", "nina")
    page.fill("#password", NINA["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=sso-failed]")
    assert not page.locator("[data-testid=user-name]").count()
    assert IdentityEvent.objects.filter(kind="sso_refused", subject_username="nina").exists()


def test_a_scim_deactivation_moves_the_waiting_level_live(live_app, new_page, settings):
    settings.SCIM_TOKEN = "scim-browser-token-0123456789"
    diana = new_page()
    login(diana, live_app, "diana")
    diana.goto(f"{live_app.url}/inbox/")
    wait_ws(diana)
    diana.evaluate("window.__sameDocument = true")
    request = submit(User.objects.get(username="emma"), "500.00", title="Train to Hamburg")
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])

    # What Entra ID sends when max leaves: PATCH Replace active "False".
    max_id = User.objects.get(username="max").pk
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    call = urllib.request.Request(
        f"{live_app.url}/scim/v2/Users/{max_id}",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={
            "Authorization": f"Bearer {settings.SCIM_TOKEN}",
            "Content-Type": "application/scim+json",
        },
    )
    with urllib.request.urlopen(call, timeout=10) as answer:
        assert answer.status == 200
        assert json.load(answer)["active"] is False

    row = diana.locator(f"[data-testid=inbox-row][data-request-id='{request.pk}']")
    row.wait_for(timeout=10_000)
    assert diana.evaluate("window.__sameDocument === true")
    request.refresh_from_db()
    assert request.pending_approvers == ["diana"]
    assert request.audit.filter(kind="rerouted").exists()
    assert IdentityEvent.objects.filter(kind="deprovisioned", subject_username="max").exists()


def _authenticator(page, cdp=None):
    """A virtual authenticator; a second one goes through the same CDP session (a second
    session's `WebAuthn.enable` left Chromium waiting out the whole request now and then)."""
    if cdp is None:
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, found["authenticatorId"]


def test_a_large_approval_asks_for_the_passkey(live_app, new_page, settings):
    # The browser's prompt gives up on an unknown authenticator after this (60 s in production).
    settings.WEBAUTHN_TIMEOUT_MS = 5_000
    # WebAuthn needs a domain as relying party id: the app at localhost, not 127.0.0.1.
    app_url = live_app.url.replace("127.0.0.1", "localhost")
    page = new_page()
    cdp, authenticator = _authenticator(page)
    page.goto(f"{app_url}/accounts/login/")
    page.fill("input[name=username]", "max")
    page.fill("input[name=password]", "demo")
    page.click("[data-testid=login]")
    page.wait_for_selector("[data-testid=user-name]")

    # Register: a fresh sign-in is the confirmation adding a passkey needs.
    page.goto(f"{app_url}/accounts/passkeys/")
    page.fill("[data-testid=passkey-name]", "Laptop")
    page.click("[data-testid=passkey-add]")
    page.wait_for_selector("[data-testid=passkey]")
    assert Passkey.objects.filter(owner__username="max", name="Laptop").count() == 1

    emma = User.objects.get(username="emma")
    large = submit(emma, "12000.00", title="Trade fair stand")
    wait_pending_level(large, 1)
    page.goto(f"{app_url}/inbox/")
    row = page.locator(f"[data-testid=inbox-row][data-request-id='{large.pk}']")
    row.wait_for()
    row.locator("[data-testid=approve]").click()
    prompt = row.locator("[data-testid=step-up]")
    prompt.wait_for()
    assert prompt.get_attribute("data-method") == "passkey"
    assert wait_state(large, lambda s: True).current_level == 1  # nothing decided yet
    prompt.locator("[data-testid=step-up-confirm]").click()
    page.wait_for_selector(f"[data-testid=decision-done][data-request-id='{large.pk}']")
    state = wait_state(large, lambda s: s.current_level == 2)
    assert state.decisions[0].actor == "max"
    assert IdentityEvent.objects.filter(
        kind="step_up", subject_username="max", details__method="passkey"
    ).exists()

    # Without the authenticator (another one, which holds no passkey of max's): refused.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    _authenticator(page, cdp)
    second = submit(emma, "12500.00", title="Second stand")
    wait_pending_level(second, 1)
    page.goto(f"{app_url}/inbox/")
    row = page.locator(f"[data-testid=inbox-row][data-request-id='{second.pk}']")
    row.wait_for()
    row.locator("[data-testid=approve]").click()
    row.locator("[data-testid=step-up-confirm]").click()
    row.locator("[data-testid=step-up-passkey-error]").wait_for(timeout=30_000)
    assert not row.locator("[data-testid=decision-done]").count()
    state = wait_state(second, lambda s: True)
    assert state.current_level == 1 and not state.decisions


def test_a_bank_change_asks_for_the_passkey_and_changes_nothing_without_it(
    live_app, new_page, settings
):
    """DESIGN: changing bank details asks for a passkey when the person has one (else the
    password). emma registers one; her change waits for the passkey prompt, goes through
    with Chromium's virtual authenticator (audited as a passkey step-up), and with an
    authenticator that holds none of hers changes nothing."""
    from accounts.models import AccountAuditEntry

    settings.WEBAUTHN_TIMEOUT_MS = 5_000  # the refused prompt gives up after this
    app_url = live_app.url.replace("127.0.0.1", "localhost")
    page = new_page()
    cdp, authenticator = _authenticator(page)
    page.goto(f"{app_url}/accounts/login/")
    page.fill("input[name=username]", "emma")
    page.fill("input[name=password]", "demo")
    page.click("[data-testid=login]")
    page.wait_for_selector("[data-testid=user-name]")
    page.goto(f"{app_url}/accounts/passkeys/")
    page.fill("[data-testid=passkey-name]", "Phone")
    page.click("[data-testid=passkey-add]")
    page.wait_for_selector("[data-testid=passkey]")
    before = User.objects.get(username="emma").iban

    page.goto(f"{app_url}/accounts/bank/")
    page.wait_for_selector("[data-testid=step-up-note]")
    assert page.locator("input[name=password]").count() == 0
    page.fill("input[name=iban]", "")
    page.locator("input[name=iban]").press_sequentially("DE47 3704 0044 0532 0130 77")
    page.click("[data-testid=save-bank]")
    prompt = page.locator("[data-testid=step-up]")
    prompt.wait_for()
    assert prompt.get_attribute("data-method") == "passkey"
    assert User.objects.get(username="emma").iban == before  # nothing changed yet
    prompt.locator("[data-testid=step-up-confirm]").click()
    # The saved form redirects back to this page; wait for that page's words so the next
    # navigation does not interrupt the redirect.
    page.locator("#messages .msg.success").wait_for()
    assert User.objects.get(username="emma").iban == "DE47370400440532013077"
    entry = AccountAuditEntry.objects.filter(subject__username="emma").latest("at")
    assert entry.detail["step_up"] == "passkey"
    assert entry.detail["new_iban"] == "DE47370400440532013077"

    # Another authenticator, which holds no passkey of emma's: refused, unchanged.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    _authenticator(page, cdp)
    page.goto(f"{app_url}/accounts/bank/")
    page.fill("input[name=iban]", "DE41370400440532013088")
    page.click("[data-testid=save-bank]")
    prompt = page.locator("[data-testid=step-up]")
    prompt.locator("[data-testid=step-up-confirm]").click()
    prompt.locator("[data-testid=step-up-passkey-error]").wait_for(timeout=30_000)
    assert User.objects.get(username="emma").iban == "DE47370400440532013077"
