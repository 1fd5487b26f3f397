"""The spend checks' words (one registry, English and German): a flag's name and its
sentence in the reader's language. `spend_checks` speaks in codes and parameters;
every place that shows a flag (request page, inbox row, mail, API, what-if,
submission errors) words it here."""

from __future__ import annotations

from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .amounts import minor_text
from .models import Category
from .spend_checks import PER_DAY, PER_NIGHT, PER_PERSON, Code

NAMES = {
    Code.DUPLICATE: gettext_lazy("Duplicate"),
    Code.NEAR_DUPLICATE: gettext_lazy("Possible duplicate"),
    Code.SPLIT: gettext_lazy("Split"),
    Code.RECEIPT_MISSING: gettext_lazy("Receipt missing"),
    Code.OVER_LIMIT: gettext_lazy("Over the limit"),
    Code.WEEKEND: gettext_lazy("Weekend"),
    Code.HOLIDAY: gettext_lazy("Public holiday"),
}


def eur(cents: int) -> str:
    return minor_text(int(cents))


def _day(iso: str) -> str:
    try:
        return formats.date_format(date.fromisoformat(iso), "SHORT_DATE_FORMAT")
    except (TypeError, ValueError):
        return str(iso)


def _category(code: str) -> str:
    return str(dict(Category.choices).get(code, code))


def name(code: str) -> str:
    return str(NAMES.get(code, code))


def text(code: str, params: dict) -> str:
    """The flag's sentence; `params` as `spend_checks.Flag.params` (stored as JSON)."""
    p = dict(params or {})
    if code == Code.DUPLICATE:
        if p.get("same_report"):
            return _("The same expense as line %(line)s of this report.") % p
        if p.get("by") == "receipt":
            return _("The same receipt file is on request #%(request)s (line %(line)s).") % p
        return _("The same merchant, date and amount as request #%(request)s (line %(line)s).") % p
    if code == Code.NEAR_DUPLICATE:
        return (
            _(
                "Looks like request #%(request)s (line %(line)s): the same merchant, a similar "
                "amount and a date close by."
            )
            % p
        )
    if code == Code.SPLIT:
        return _(
            "Together with %(requests)s this makes %(total)s EUR, from %(threshold)s EUR more "
            "approval is needed, and each report stays under it."
        ) % {
            "requests": ", ".join(f"#{r}" for r in p.get("requests", [])),
            "total": eur(p.get("total", 0)),
            "threshold": eur(p.get("threshold", 0)),
        }
    if code == Code.RECEIPT_MISSING:
        return _("No receipt: one is required from %(from)s EUR.") % {"from": eur(p.get("from", 0))}
    if code == Code.OVER_LIMIT:
        words = {
            "limit": eur(p.get("limit", 0)),
            "actual": eur(p.get("actual", 0)),
            "category": _category(p.get("category", "")),
            "units": p.get("units", 1),
            "date": _day(p.get("date", "")),
        }
        per = p.get("per")
        if per == PER_NIGHT:
            return (
                ngettext(
                    "%(actual)s EUR for %(units)s night is over the limit of %(limit)s EUR "
                    "a night.",
                    "%(actual)s EUR a night (%(units)s nights) is over the limit of %(limit)s EUR "
                    "a night.",
                    words["units"],
                )
                % words
            )
        if per == PER_PERSON:
            return (
                ngettext(
                    "%(actual)s EUR for %(units)s person is over the limit of %(limit)s EUR a "
                    "person for %(category)s.",
                    "%(actual)s EUR a person (%(units)s people) is over the limit of %(limit)s EUR "
                    "a person for %(category)s.",
                    words["units"],
                )
                % words
            )
        if per == PER_DAY:
            return (
                _(
                    "%(actual)s EUR on %(date)s is over the day's limit of %(limit)s EUR for "
                    "%(category)s."
                )
                % words
            )
        return _("%(actual)s EUR is over the limit of %(limit)s EUR for %(category)s.") % words
    if code == Code.WEEKEND:
        return _("Dated on a weekend (%(date)s).") % {"date": _day(p.get("date", ""))}
    if code == Code.HOLIDAY:
        return _("Dated on a public holiday (%(date)s).") % {"date": _day(p.get("date", ""))}
    return name(code)


def worded(flag) -> dict:
    """A flag (a `LineFlag` row or a `spend_checks.Flag`) as the pages and the API show it."""
    line = getattr(flag, "position", None)
    if line is None:
        line = flag.line
    return {
        "code": flag.code,
        "line": line,
        "severity": flag.severity,
        "name": name(flag.code),
        "text": text(flag.code, flag.params),
        "note": getattr(flag, "note", ""),
    }
