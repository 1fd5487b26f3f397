"""Who calls the API: a personal access token (Bearer) with the operation's scope,
or the browser's Django session with its CSRF token; and the per-token rate limit."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.throttling import BaseThrottle

from accounts.models import TokenScope
from accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; a token lacking the operation's scope gets 403.

    A Bearer header that names no usable token (unknown, revoked, expired) is a
    401 at once: it never falls through to the session."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request, token: str):
        found = token_authenticate(token)
        if found is None:
            raise AuthenticationError()
        request.api_token = found
        if self.scope not in found.scopes:
            raise HttpError(
                403, _("This token lacks the scope “%(scope)s”.") % {"scope": self.scope}
            )
        request.user = found.owner
        return found.owner


def auth(scope: str) -> list:
    """The auth of an operation needing `scope`: a token with it, or a session (+ CSRF)."""
    return [TokenAuth(scope), SessionAuth(csrf=True)]


READ = auth(TokenScope.READ)
DECIDE = auth(TokenScope.DECIDE)
SUBMIT = auth(TokenScope.SUBMIT)


class TokenThrottle(BaseThrottle):
    """A fixed one-minute window per token in Django's cache (`API_RATE_LIMIT` calls a
    minute); browser sessions are not limited here. With the default local-memory
    cache the count is per process: set a shared cache (e.g. Redis) for many processes."""

    WINDOW = 60

    def allow_request(self, request) -> bool:
        token = getattr(request, "api_token", None)
        if token is None:
            return True
        window = int(time.time() // self.WINDOW)
        key = f"api-rate:{token.pk}:{window}"
        cache.add(key, 0, self.WINDOW * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, self.WINDOW * 2)
            count = 1
        return count <= settings.API_RATE_LIMIT

    def wait(self) -> float:
        return self.WINDOW - time.time() % self.WINDOW
