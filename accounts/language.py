"""A person's language and time zone: for their pages once signed in and for every mail,
digest and report composed for them.

`LANGUAGE_CODE` and `TIME_ZONE` are the organisation's defaults; a person's profile
(`User.language`, `User.time_zone`) wins over both, and over the browser's
Accept-Language and the language switcher's cookie once they are signed in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone, translation


def language_of(user) -> str:
    """The language to write to `user` in (a `User`, or None for the organisation's)."""
    code = getattr(user, "language", "") or ""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def time_zone_of(user) -> str:
    return getattr(user, "time_zone", "") or settings.TIME_ZONE


@contextlib.contextmanager
def as_reader(user) -> Iterator[None]:
    """Compose for `user`: their language and their time zone, for the `with` block."""
    with translation.override(language_of(user)), timezone.override(time_zone_of(user)):
        yield


def user_named(username: str):
    from .models import User

    return User.objects.filter(username=username).first() if username else None


class PersonLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in person's profile language and time zone
    win (LocaleMiddleware picked the browser's or the cookie's language before sign-in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                code = language_of(user)
                translation.activate(code)
                request.LANGUAGE_CODE = code
            try:
                timezone.activate(time_zone_of(user))
            except Exception:  # noqa: BLE001 - an unknown zone name: the organisation's
                timezone.activate(settings.TIME_ZONE)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
