"""`{{ label|fill:value }}`: a label translated once per page, filled per row.

The inbox row translates its labels with a value in them ("Select request
%(id)s") once per render, the placeholder left in (`{% blocktranslate asvar …
with id="%(id)s" %}`); this puts each row's value in, instead of a
`{% blocktranslate %}` (a gettext lookup, a context push and a format) per row
and label.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


@register.filter(is_safe=True)
def fill(label, value) -> SafeString:
    """`label` (from `blocktranslate asvar`, already safe) with its one placeholder
    replaced by `value`, escaped."""
    escaped = str(conditional_escape(value))
    return mark_safe(PLACEHOLDER.sub(lambda _: escaped, str(label), count=1))
