"""The language of a raw ASGI scope, before Django has made a request of it.

The websocket consumer, the 413 of `body_limit` and the 503 of `admission` answer in
the page's language: the switcher's cookie, else the browser's Accept-Language.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


def scope_language(scope) -> str:
    """The page's language: the switcher's cookie, else the browser's Accept-Language."""
    candidates = [scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")]
    headers = dict(scope.get("headers", []))
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _q in parse_accept_lang_header(accept) if code != "*"]
    for code in candidates:
        if not code:
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def request_language(scope) -> str:
    """`scope_language` of an HTTP scope, whose cookies are still in the header
    (Channels' CookieMiddleware parses them for websockets only)."""
    headers = dict(scope.get("headers", []))
    cookies = {}
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            cookies[name] = value
    return scope_language({**scope, "cookies": cookies})
