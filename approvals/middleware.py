"""Our middlewares' common shape, and the response headers Django has no setting for.

Every middleware of ours runs sync or async as the chain around it does
(`AsyncCapable`; WhiteNoise too: approvals/static_files.py): under ASGI a
sync-only middleware makes Django run the whole chain in a worker thread,
whatever the view is. Headers: the rest are settings (settings.py, "Security
headers"), and tests/security/test_headers.py checks them all together.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class AsyncCapable:
    """Django's sync-and-async middleware pattern: `sync_call` in a sync chain,
    `__acall__` in an async one (each subclass has both; neither hops threads)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        return self.sync_call(request)

    def sync_call(self, request):  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    async def __acall__(self, request):  # pragma: no cover - each subclass has its own
        raise NotImplementedError


def _security_headers(response):
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    response.headers.setdefault(
        "Cross-Origin-Resource-Policy",
        getattr(settings, "CROSS_ORIGIN_RESOURCE_POLICY", "") or "same-origin",
    )
    return response


class SecurityHeadersMiddleware(AsyncCapable):
    def sync_call(self, request):
        return _security_headers(self.get_response(request))

    async def __acall__(self, request):
        return _security_headers(await self.get_response(request))
