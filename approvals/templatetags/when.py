"""Dates and times as people read them: one style per language, relative where it helps.

- `when`: a date-time in the viewer's time zone (Django's current one) in the active
  language's SHORT_DATETIME_FORMAT (`when:"long"`: DATETIME_FORMAT, the same style;
  config/formats/), so every page shows one style per language ("01/12/2026 08:15",
  "01.12.2026, 08:15"); `when_text(value)` is the same for mails and PDFs.
- `relative`: "in 5 hours" / "3 days ago" ("in 5 Stunden" / "vor 3 Tagen");
  `relative:"due"`: "due in 5 hours" / "overdue by 2 days" ("fällig in 5 Stunden" /
  "seit 2 Tagen überfällig"). One unit, rounded half up (47 h is "in 2 days").
- `duration`: seconds as "45 s", "12.5 min", "5.5 h", "2.3 d".
- `due_words`: "due Monday 11:00" in the reader's time zone (approvals.calendars).
- `{% moment value %}`: a `<time>` element with the machine-readable instant, the
  absolute time and (with `relative="due"` or `relative="ago"`) the relative one.

Values may be aware datetimes or ISO 8601 strings (the workflow's state carries strings).
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext

from ..calendars import due_words as calendar_due_words

register = template.Library()

# (seconds per unit, the unit's key), largest first.
UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def as_datetime(value) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if value else None
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@register.filter
def when(value, style: str = "short") -> str:
    moment = as_datetime(value)
    if moment is None:
        return ""
    name = "DATETIME_FORMAT" if style == "long" else "SHORT_DATETIME_FORMAT"
    return date_format(timezone.localtime(moment), get_format(name))


def _span(seconds: float) -> tuple[int, str]:
    """The largest unit that fits, rounded as people round: 47 hours is "2 days", 26 hours
    "1 day", 90 minutes "2 hours" (half up); 23 h 50 min is "1 day", not "24 hours" (a unit
    counts from half of the next smaller one below it)."""
    for i, (size, unit) in enumerate(UNITS):
        below = UNITS[i + 1][0] if i + 1 < len(UNITS) else 1
        if seconds >= size - below / 2:
            return max(1, int(seconds / size + 0.5)), unit
    return 0, "minute"


# Each wording × unit is its own plural entry: German needs the dative after "in"/"vor"
# ("in 3 Tagen", "vor 3 Tagen") where a bare "3 Tage" would be wrong.
def _future(n: int, unit: str) -> str:
    forms = {
        "year": ngettext("in %(n)s year", "in %(n)s years", n),
        "month": ngettext("in %(n)s month", "in %(n)s months", n),
        "week": ngettext("in %(n)s week", "in %(n)s weeks", n),
        "day": ngettext("in %(n)s day", "in %(n)s days", n),
        "hour": ngettext("in %(n)s hour", "in %(n)s hours", n),
        "minute": ngettext("in %(n)s minute", "in %(n)s minutes", n),
    }
    return forms[unit] % {"n": n}


def _past(n: int, unit: str) -> str:
    forms = {
        "year": ngettext("%(n)s year ago", "%(n)s years ago", n),
        "month": ngettext("%(n)s month ago", "%(n)s months ago", n),
        "week": ngettext("%(n)s week ago", "%(n)s weeks ago", n),
        "day": ngettext("%(n)s day ago", "%(n)s days ago", n),
        "hour": ngettext("%(n)s hour ago", "%(n)s hours ago", n),
        "minute": ngettext("%(n)s minute ago", "%(n)s minutes ago", n),
    }
    return forms[unit] % {"n": n}


def _due(n: int, unit: str) -> str:
    forms = {
        "year": ngettext("due in %(n)s year", "due in %(n)s years", n),
        "month": ngettext("due in %(n)s month", "due in %(n)s months", n),
        "week": ngettext("due in %(n)s week", "due in %(n)s weeks", n),
        "day": ngettext("due in %(n)s day", "due in %(n)s days", n),
        "hour": ngettext("due in %(n)s hour", "due in %(n)s hours", n),
        "minute": ngettext("due in %(n)s minute", "due in %(n)s minutes", n),
    }
    return forms[unit] % {"n": n}


def _overdue(n: int, unit: str) -> str:
    forms = {
        "year": ngettext("overdue by %(n)s year", "overdue by %(n)s years", n),
        "month": ngettext("overdue by %(n)s month", "overdue by %(n)s months", n),
        "week": ngettext("overdue by %(n)s week", "overdue by %(n)s weeks", n),
        "day": ngettext("overdue by %(n)s day", "overdue by %(n)s days", n),
        "hour": ngettext("overdue by %(n)s hour", "overdue by %(n)s hours", n),
        "minute": ngettext("overdue by %(n)s minute", "overdue by %(n)s minutes", n),
    }
    return forms[unit] % {"n": n}


def relative_text(moment: datetime, *, now: datetime | None = None, style: str = "") -> str:
    now = now or timezone.now()
    seconds = (moment - now).total_seconds()
    n, unit = _span(abs(seconds))
    if style == "due":
        if n == 0:
            return gettext("due now")
        return _due(n, unit) if seconds > 0 else _overdue(n, unit)
    if n == 0:
        return gettext("just now")
    return _future(n, unit) if seconds > 0 else _past(n, unit)


@register.filter
def relative(value, style: str = "") -> str:
    moment = as_datetime(value)
    return "" if moment is None else relative_text(moment, style=style)


@register.simple_tag
def moment(value, relative: str = "", testid: str = ""):
    """<time datetime="…">absolute</time>, with the relative wording after it on request."""
    at = as_datetime(value)
    if at is None:
        return ""
    style = "due" if relative == "due" else ""
    extra = f" ({relative_text(at, style=style)})" if relative else ""
    if testid:
        return format_html(
            '<time datetime="{}" data-testid="{}">{}</time>{}',
            at.isoformat(),
            testid,
            when(at),
            extra,
        )
    return format_html('<time datetime="{}">{}</time>{}', at.isoformat(), when(at), extra)


@register.filter
def duration(seconds) -> str:
    """A duration read at a glance: 45 s, 12.5 min, 5.5 h, 2.3 d (one decimal, localised)."""
    if seconds is None or seconds == "":
        return "–"
    seconds = float(seconds)
    if seconds < 60:
        return gettext("%(n)s s") % {"n": formats.number_format(round(seconds), 0)}
    if seconds < 3600:
        return gettext("%(n)s min") % {"n": formats.number_format(seconds / 60, 1)}
    if seconds < 86400:
        return gettext("%(n)s h") % {"n": formats.number_format(seconds / 3600, 1)}
    return gettext("%(n)s d") % {"n": formats.number_format(seconds / 86400, 1)}


@register.filter
def due_words(value, user=None) -> str:
    """ "due Monday 11:00" / "fällig Montag 11:00" in the reader's time zone (their
    profile's, else the page's), for a deadline a person acts on."""
    moment = as_datetime(value)
    return "" if moment is None else calendar_due_words(moment, user)
