"""Absolute URLs for mails: the site's address (`APP_BASE_URL`) and a path of the URLconf."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    """A path of the app (from `reverse`) as the absolute URL a mail carries."""
    return f"{settings.APP_BASE_URL.rstrip('/')}{path}"


def page_url(name: str, *args) -> str:
    """The absolute URL of the page the URLconf names `name`."""
    return absolute_url(reverse(name, args=args))
