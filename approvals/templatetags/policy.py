"""`{{ name|group_label }}`: a group's name as a chain shows it, in the reader's language."""

from __future__ import annotations

from django import template

from ..policy.words import group_name

register = template.Library()


@register.filter
def group_label(value) -> str:
    return group_name(str(value))
