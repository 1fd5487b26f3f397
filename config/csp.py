"""The Content-Security-Policy for django-csp (settings.CONTENT_SECURITY_POLICY)."""

from __future__ import annotations


def csp_policy(oidc_issuer: str) -> dict:
    # No inline script or style, no eval: htmx and its websocket extension come from
    # /static/ (django-htmx), the page's own code from static/js/app.js. 'self' in
    # connect-src covers the same-origin websocket.
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            # The provider's origin: signing out redirects a form's POST to its end-session page.
            "form-action": ["'self'", *([oidc_issuer] if oidc_issuer else [])],
            "frame-ancestors": ["'none'"],
        }
    }
