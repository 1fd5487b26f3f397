"""Single sign-on with OpenID Connect (mozilla-django-oidc): authorization code + PKCE.

Why mozilla-django-oidc and not django-allauth: it is one authentication backend
and two views that sit beside the existing login page, session, django-axes
lockout and personal access tokens; allauth brings its own account model, login
pages, e-mail flows and middleware, which would replace far more than sign-in.
What it lacks is added here: the endpoints come from the issuer's discovery
document (only `OIDC_ISSUER` is configured), the ID token's `iss` and `aud` are
checked, claims of the ID token and userinfo are merged (Entra ID puts `groups`
in the ID token only), and people are matched by subject first.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_POST
from mozilla_django_oidc import auth as oidc_auth
from mozilla_django_oidc import views as oidc_views
from mozilla_django_oidc.utils import import_from_settings

from . import identity
from .models import IdentityEventKind, User

log = logging.getLogger(__name__)

# mozilla-django-oidc setting -> the discovery document's key
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}
_discovery: dict = {"at": 0.0, "document": None}
DISCOVERY_TTL = 3600
DISCOVERY_RETRY = 30


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET)


def discovery() -> dict:
    """The issuer's `.well-known/openid-configuration`, cached for an hour.

    A failure is remembered for DISCOVERY_RETRY seconds (raised again at once), so a
    provider that is down never slows every sign-in by the timeout."""
    now = time.monotonic()
    failed_at = _discovery.get("failed_at")
    if failed_at is not None and now - failed_at < DISCOVERY_RETRY:
        raise requests.ConnectionError("OpenID discovery failed a moment ago")
    if _discovery["document"] is None or now - _discovery["at"] > DISCOVERY_TTL:
        url = settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            _discovery["failed_at"] = now
            log.warning("OpenID discovery at %s failed: %r", url, exc)
            raise requests.ConnectionError(str(exc)) from exc
        _discovery.update(at=now, document=document, failed_at=None)
    return _discovery["document"]


def oidc_setting(attr: str, *args):
    """Settings for mozilla-django-oidc: endpoints from discovery unless set explicitly."""
    if attr in DISCOVERED and not getattr(settings, attr, None):
        value = discovery().get(DISCOVERED[attr])
        if value is None and args:
            return args[0]
        return value
    return import_from_settings(attr, *args)


def _claim_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class Backend(oidc_auth.OIDCAuthenticationBackend):
    """Creates and updates people from the provider's claims."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django makes every backend for every sign-in, the password's too: a provider
        # that is down must only make single sign-on fail, never the local login.
        self.unavailable = False
        try:
            super().__init__(*args, **kwargs)
        except (requests.RequestException, ImproperlyConfigured) as exc:
            log.warning("single sign-on unavailable: %r", exc)
            self.unavailable = True
            self.UserModel = User

    def authenticate(self, request, **kwargs):
        if self.unavailable or not sso_enabled():
            return None
        return super().authenticate(request, **kwargs)

    def get_payload_data(self, token, key):
        payload = super().get_payload_data(token, key)
        audience = _claim_list(payload.get("aud"))
        if payload.get("iss", "").rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
            raise SuspiciousOperation("ID token from another issuer")
        if self.OIDC_RP_CLIENT_ID not in audience:
            raise SuspiciousOperation("ID token for another client")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        claims = dict(payload)
        claims.update(super().get_userinfo(access_token, id_token, payload))
        return claims

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub")) and bool(
            claims.get("preferred_username") or claims.get("email")
        )

    def filter_users_by_claims(self, claims):
        found = User.objects.filter(oidc_subject=claims["sub"])
        if found.exists():
            return found
        name = self.get_username(claims)
        by_name = User.objects.filter(username__iexact=name, oidc_subject="")
        if by_name.count() == 1:
            return by_name
        email = claims.get("email")
        if email:
            return User.objects.filter(email__iexact=email, oidc_subject="")
        return User.objects.none()

    def get_username(self, claims) -> str:
        return (claims.get("preferred_username") or claims.get("email") or "")[:150]

    @transaction.atomic
    def create_user(self, claims):
        user = User(username=self.get_username(claims), email=claims.get("email", ""))
        user.set_unusable_password()  # signs in through the provider only
        user.save()
        identity.record(IdentityEventKind.PROVISIONED, subject=user, actor="sso")
        return self._update(user, claims)

    def update_user(self, user, claims):
        if not user.is_active:  # recorded outside the update's transaction, so it stays
            identity.record(
                IdentityEventKind.SSO_REFUSED, subject=user, actor="sso", reason="inactive"
            )
            raise SuspiciousOperation("inactive person")
        return self._update(user, claims)

    @transaction.atomic
    def _update(self, user, claims):
        user.oidc_subject = claims["sub"]
        user.email = claims.get("email", user.email)
        user.first_name = claims.get("given_name", user.first_name)[:150]
        user.last_name = claims.get("family_name", user.last_name)[:150]
        user.save(update_fields=["oidc_subject", "email", "first_name", "last_name"])
        changes: dict = {}
        groups_claim = settings.OIDC_GROUPS_CLAIM
        if groups_claim in claims:
            teams = identity.teams_of(_claim_list(claims[groups_claim]))
            changes["groups"] = identity.teams_set(user=user, teams=teams)
        manager_ref = claims.get(settings.OIDC_MANAGER_CLAIM)
        if manager_ref:
            manager = identity.find_person(str(manager_ref))
            try:
                if manager is not None and identity.manager_set(user=user, manager=manager):
                    changes["manager"] = manager.username
            except ValidationError:
                log.warning("sso: manager %r of %s would make a cycle", manager_ref, user)
        identity.record(IdentityEventKind.SSO_SIGN_IN, subject=user, actor="sso", **changes)
        return user


class Authenticate(oidc_views.OIDCAuthenticationRequestView):
    """/accounts/oidc/authenticate/: to the provider (state, nonce, PKCE in the session)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)  # the endpoints are read in get()

    def get(self, request):
        if not sso_enabled():
            raise Http404("single sign-on is not configured")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except requests.RequestException:
            return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL_FAILURE)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)

    def get_extra_params(self, request):
        params = dict(super().get_extra_params(request))
        if request.GET.get("reauth"):
            # A step-up for people without passkey or password: the provider asks again.
            params.update(prompt="login", max_age="0")
        return params


class Callback(oidc_views.OIDCAuthenticationCallbackView):
    """/accounts/oidc/callback/: the provider's answer; signs the person in."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not sso_enabled():
            raise Http404("single sign-on is not configured")
        return super().get(request)


def provider_logout_url(request: HttpRequest) -> str | None:
    """The provider's end-session URL for a session that signed in through it."""
    id_token = request.session.get("oidc_id_token")
    if not (sso_enabled() and id_token):
        return None
    try:
        endpoint = oidc_setting("OIDC_OP_LOGOUT_ENDPOINT", None)
    except requests.RequestException:
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}?{query}"


@require_POST
def logout(request: HttpRequest) -> HttpResponseRedirect:
    """Ends the local session, and the provider's where it offers RP-initiated logout."""
    target = provider_logout_url(request)
    auth.logout(request)
    return HttpResponseRedirect(target or reverse(settings.LOGOUT_REDIRECT_URL))
