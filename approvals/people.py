"""People by name: `display_name(username)` wherever a person is named (pages, mails,
toasts, the timeline), looked up once per request (or per `people_cache()` block).

The workflow and the projection carry usernames; people read "Diana Dietrich".
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

_local = threading.local()


def _cache() -> dict[str, str] | None:
    return getattr(_local, "names", None)


@contextlib.contextmanager
def people_cache() -> Iterator[None]:
    """Remember display names for the `with` block (one HTTP request, one mail batch)."""
    outer = _cache()
    if outer is None:
        _local.names = {}
    try:
        yield
    finally:
        if outer is None:
            _local.names = None


def remember(usernames: Iterable[str]) -> None:
    """Look up many names in one query (within a `people_cache()` block)."""
    cache = _cache()
    if cache is None:
        return
    wanted = {n for n in usernames if n and n not in cache}
    if not wanted:
        return
    from accounts.models import User

    for username, first, last in User.objects.filter(username__in=wanted).values_list(
        "username", "first_name", "last_name"
    ):
        cache[username] = f"{first} {last}".strip() or username
    for name in wanted:
        cache.setdefault(name, name)


def display_name(username) -> str:
    """ "Diana Dietrich" for "diana"; the username itself for someone unknown."""
    username = str(username or "")
    if not username:
        return ""
    cache = _cache()
    if cache is not None and username in cache:
        return cache[username]
    from accounts.models import User

    row = User.objects.filter(username=username).values_list("first_name", "last_name").first()
    name = (f"{row[0]} {row[1]}".strip() if row else "") or username
    if cache is not None:
        cache[username] = name
    return name


def display_names(usernames: Iterable[str]) -> str:
    remember(list(usernames or []))
    return ", ".join(display_name(n) for n in usernames or [] if n) or "—"


class PeopleCacheMiddleware:
    """One display-name cache per HTTP request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with people_cache():
            return self.get_response(request)
