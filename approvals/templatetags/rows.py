"""`{{ label|with_id:row.request_id }}`: a label translated once per page, filled per row.

The inbox row translates its id-carrying labels ("Select request %(id)s") once
per render with the placeholder left in (`{% blocktranslate asvar … with
id="%(id)s" %}`); this fills it for each row, instead of a `{% blocktranslate %}`
(a gettext lookup, a context push and a format) per row and label.
"""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

PLACEHOLDER = "%(id)s"


@register.filter(is_safe=True)
def with_id(label, value) -> SafeString:
    # `label` comes from `blocktranslate asvar` (already safe); the id is escaped.
    return mark_safe(str(label).replace(PLACEHOLDER, str(conditional_escape(value))))
