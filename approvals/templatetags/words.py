"""Codes as words in the reader's language: a request's status, a payment's status, a
person's display name. Pages keep the code in `data-status`; the text is the word.

    {% load words %}{{ r.status|status_word }} {{ p.status|payment_word }} {{ "diana"|person }}
"""

from __future__ import annotations

from django import template

from ..people import display_name
from ..words import action_word as _action_word
from ..words import payment_word as _payment_word
from ..words import status_word as _status_word

register = template.Library()


@register.filter
def status_word(code) -> str:
    return _status_word(code)


@register.filter
def payment_word(code) -> str:
    return _payment_word(code)


@register.filter
def action_word(code) -> str:
    return _action_word(code)


@register.filter
def person(username) -> str:
    return display_name(username)


@register.filter
def people(usernames, separator: str = ", ") -> str:
    """A list of usernames as display names, comma-separated ("—" for none)."""
    names = [display_name(n) for n in (usernames or []) if n]
    return separator.join(names) if names else "—"
