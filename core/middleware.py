"""Response headers Django has no setting for; the rest are settings (settings.py,
"Security headers"), and tests/security/test_headers.py checks them all together."""

from __future__ import annotations

from django.conf import settings

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault(
            "Cross-Origin-Resource-Policy",
            getattr(settings, "CROSS_ORIGIN_RESOURCE_POLICY", "") or "same-origin",
        )
        return response
