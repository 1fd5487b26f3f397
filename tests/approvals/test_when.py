"""The `when`, `relative`, `duration` filters and `{% moment %}`: one style per language,
in the viewer's time zone, German grammar included."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from approvals.templatetags.when import duration, relative_text, when

AT = datetime(2026, 3, 5, 13, 7, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en", "Europe/Berlin", "05/03/2026 14:07"),
        ("de", "Europe/Berlin", "05.03.2026, 14:07"),
        ("de", "America/New_York", "05.03.2026, 08:07"),
    ],
)
def test_when_is_the_short_format_of_the_language_in_the_viewers_zone(language, zone, expected):
    with translation.override(language), timezone.override(zone):
        assert when(AT) == expected
        assert when(AT.isoformat()) == expected  # the workflow's state carries strings
    assert when("") == when(None) == when("not a date") == ""


@pytest.mark.parametrize(
    ("delta", "style", "en", "de"),
    [
        (timedelta(hours=5, minutes=59), "due", "due in 6 hours", "fällig in 6 Stunden"),
        (timedelta(hours=5, minutes=20), "due", "due in 5 hours", "fällig in 5 Stunden"),
        (timedelta(hours=47), "due", "due in 2 days", "fällig in 2 Tagen"),
        (timedelta(hours=26), "", "in 1 day", "in 1 Tag"),
        (timedelta(hours=23, minutes=50), "due", "due in 1 day", "fällig in 1 Tag"),
        (timedelta(hours=23, minutes=10), "due", "due in 23 hours", "fällig in 23 Stunden"),
        (timedelta(days=1, hours=2), "due", "due in 1 day", "fällig in 1 Tag"),
        (-timedelta(days=2, hours=1), "due", "overdue by 2 days", "seit 2 Tagen überfällig"),
        (timedelta(seconds=20), "due", "due now", "jetzt fällig"),
        (-timedelta(days=3), "", "3 days ago", "vor 3 Tagen"),
        (-timedelta(minutes=1), "", "1 minute ago", "vor 1 Minute"),
        (timedelta(days=15), "", "in 2 weeks", "in 2 Wochen"),
        (timedelta(days=400), "", "in 1 year", "in 1 Jahr"),
        (-timedelta(days=65), "", "2 months ago", "vor 2 Monaten"),
        (-timedelta(seconds=5), "", "just now", "gerade eben"),
    ],
)
def test_relative_in_english_and_german(delta, style, en, de):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("UTC"))
    with translation.override("en"):
        assert relative_text(now + delta, now=now, style=style) == en
    with translation.override("de"):
        assert relative_text(now + delta, now=now, style=style) == de


def test_duration_reads_at_a_glance():
    with translation.override("en"):
        assert [duration(s) for s in (None, 42, 750, 5.5 * 3600, 2.25 * 86400)] == [
            "–",
            "42 s",
            "12.5 min",
            "5.5 h",
            "2.2 d",
        ]
    with translation.override("de"):
        assert duration(5.5 * 3600) == "5,5 Std."


def test_moment_tag_is_a_time_element_with_absolute_and_relative_time():
    template = Template('{% load when %}{% moment at relative="due" %}|{% moment missing %}')
    at = timezone.now() + timedelta(hours=3, minutes=30)
    with translation.override("de"), timezone.override("Europe/Berlin"):
        html = template.render(Context({"at": at}))
        shown = when(at)
    assert html.startswith(f'<time datetime="{at.isoformat()}">{shown}</time> (fällig in 3 ')
    assert html.endswith("|")
