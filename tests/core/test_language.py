"""The language of a raw ASGI scope (core/language.py): the switcher's cookie first,
then the browser's Accept-Language, then the site's default."""

from __future__ import annotations

import pytest

from core.language import request_language, scope_language


def http_scope(*, cookie: str = "", accept: str = "") -> dict:
    headers = [(b"cookie", cookie.encode()), (b"accept-language", accept.encode())]
    return {"type": "http", "headers": [(k, v) for k, v in headers if v]}


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        ("", "", "en"),
        ("", "de-DE,de;q=0.9,en;q=0.8", "de"),
        ("", "fr-FR, *", "en"),  # nothing we speak: the default
        ("django_language=en", "de", "en"),  # the switcher wins over the browser
        ("csrftoken=x; django_language=de", "en-GB", "de"),
        ("django_language=xx", "de", "de"),  # an unknown cookie is skipped
    ],
)
def test_the_cookie_then_the_browser_then_the_default(cookie, accept, expected, settings):
    assert settings.LANGUAGE_COOKIE_NAME == "django_language"
    assert request_language(http_scope(cookie=cookie, accept=accept)) == expected


def test_a_websocket_scope_brings_its_cookies_parsed():
    scope = {"type": "websocket", "headers": [], "cookies": {"django_language": "de"}}
    assert scope_language(scope) == "de"
