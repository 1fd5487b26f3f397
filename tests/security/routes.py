"""The HTTP routes of the project, read from the URL configuration.

The authorization matrix and the CSRF test walk this list, so a new URL is
covered (or fails loudly for want of an entry) without anyone remembering to
add it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# Third-party and framework routes, not the project's views: Django's own admin
# (its permission system is Django's), set_language, and DEBUG-only media files.
SKIPPED_PREFIXES = ("admin/", "i18n/", "static/", "media/")
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    name: str | None
    route: str  # e.g. "requests/<int:pk>/"

    def path(self, **params: object) -> str:
        """A concrete path: each <converter:name> replaced by params[name]."""
        return "/" + PARAMETER.sub(lambda m: str(params[m.group("name")]), self.route)

    @property
    def parameters(self) -> list[str]:
        return [m.group("name") for m in PARAMETER.finditer(self.route)]


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield Route(name=pattern.name, route=route)


def project_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))
