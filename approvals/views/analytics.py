"""`/audit/analytics/` (admins only): SLA analytics as SVG charts with their tables, and CSV.

The numbers come from `selectors.analytics`; this module turns them into chart geometry
(`views.charts`) and words. `?days=` picks the period (7, 30, 90, 365, 0 = all); anything
else is refused in words and the default period is shown.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ..forms.analytics import PeriodForm
from ..labels import STATUS_WORDS
from ..selectors import analytics as data
from ..selectors import spend as spending
from ..templatetags.when import duration
from . import charts


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


def _period(request: HttpRequest) -> tuple[PeriodForm, int]:
    """The period asked for, and a form whose selector shows the period the page shows:
    the default when none was asked for, and after a refused one (its error says so)."""
    if "days" not in request.GET:
        return PeriodForm(initial={"days": data.DEFAULT_PERIOD}), data.DEFAULT_PERIOD
    form = PeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["days"]
    form.errors  # noqa: B018 - computed now, against what was sent
    form.data = form.data.copy()
    form.data["days"] = str(data.DEFAULT_PERIOD)
    return form, data.DEFAULT_PERIOD


TIMING_SERIES = [
    ("series-1", gettext_lazy("median")),
    ("series-2", gettext_lazy("90th percentile")),
]
WEEK_SERIES = [("series-3", gettext_lazy("escalations")), ("series-4", gettext_lazy("expiries"))]


def _outcome_word(key: str) -> str:
    if key == spending.LINE_REJECTED:
        return _("line rejected")
    return str(STATUS_WORDS.get(key, key))


def _level_label(key: str) -> str:
    return _("Level %(n)s") % {"n": key}


@login_required
@require_GET
def analytics_page(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form, days = _period(request)
    result = data.analytics(days=days)
    outcome_series = [(f"outcome-{s}", STATUS_WORDS[s]) for s in data.OUTCOMES]
    week_label = "SHORT_DATE_FORMAT"
    context = {
        "form": form,
        "a": result,
        "level_rows": [(_level_label(t.key), t) for t in result.by_level],
        "approver_rows": [(t.label, t) for t in result.by_approver],
        "level_chart": charts.grouped(
            [(_level_label(t.key), [t.median, t.p90]) for t in result.by_level],
            TIMING_SERIES,
            duration,
        ),
        "approver_chart": charts.grouped(
            [(t.label, [t.median, t.p90]) for t in result.by_approver],
            TIMING_SERIES,
            duration,
        ),
        "week_chart": charts.grouped(
            [
                (formats.date_format(w.start, week_label), [w.escalations, w.expiries])
                for w in result.weeks
            ],
            WEEK_SERIES,
            str,
        ),
        "outcome_rows": [(s, STATUS_WORDS[s], result.outcomes[s]) for s in data.OUTCOMES],
        "outcome_chart": charts.grouped(
            [(STATUS_WORDS[s], [result.outcomes[s]]) for s in data.OUTCOMES],
            [("series-1", _("requests"))],
            str,
        ),
        "outcome_series": outcome_series,
        "category_chart": charts.stacked(
            [(c.label, [c.counts.get(s, 0) for s in data.OUTCOMES]) for c in result.categories],
            outcome_series,
        ),
        "category_rows": [
            (c, [(STATUS_WORDS[s], c.counts.get(s, 0)) for s in data.OUTCOMES])
            for c in result.categories
        ],
        "statuses": [STATUS_WORDS[s] for s in data.OUTCOMES],
        "time_zone": timezone.get_current_timezone_name(),
    }
    money = spending.spend(days=days)
    context["spend"] = money
    context["spend_decided"] = [(k, _outcome_word(k), n) for k, n in money.decided.items()]
    return render(request, "approvals/analytics.html", context)


def _cell(value) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


@login_required
@require_GET
def analytics_csv(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    _form, days = _period(request)
    result = data.analytics(days=days)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-analytics-{days or "all"}d.csv"'
    out = csv.writer(response)
    out.writerow(["section", "key", "label", "measure", "value"])
    for section, timings in (
        ("time_to_decision_by_level", result.by_level),
        ("time_to_decision_by_approver", result.by_approver),
    ):
        for t in timings:
            label = _level_label(t.key) if section.endswith("level") else t.label
            out.writerow([section, _cell(t.key), _cell(label), "decisions", t.count])
            out.writerow(
                [section, _cell(t.key), _cell(label), "median_seconds", _seconds(t.median)]
            )
            out.writerow([section, _cell(t.key), _cell(label), "p90_seconds", _seconds(t.p90)])
    out.writerow(["overdue_now", "total", "", "requests", result.overdue_total])
    for w in result.weeks:
        out.writerow(["per_week", w.start.isoformat(), "", "escalations", w.escalations])
        out.writerow(["per_week", w.start.isoformat(), "", "expiries", w.expiries])
    for status in data.OUTCOMES:
        out.writerow(
            ["by_outcome", status, STATUS_WORDS[status], "requests", result.outcomes[status]]
        )
    for c in result.categories:
        for status in data.OUTCOMES:
            out.writerow(
                ["by_category", _cell(c.key), _cell(c.label), status, c.counts.get(status, 0)]
            )
    # Spend in money (issue 27): EUR cents, months as the ISO date of their first day.
    money = spending.spend(days=days)
    for key, label, cents in money.by_category:
        out.writerow(["spend_by_category", _cell(key), _cell(label), "eur_cents", cents])
    for code, cents in money.by_cost_centre:
        out.writerow(["spend_by_cost_centre", _cell(code), "", "eur_cents", cents])
    for month, cents in money.by_month:
        out.writerow(["spend_by_month", month.isoformat(), "", "eur_cents", cents])
    out.writerow(["flagged_lines", "total", "", "lines", money.lines])
    out.writerow(["flagged_lines", "flagged", "", "lines", money.flagged])
    for key, n in money.decided.items():
        out.writerow(["flagged_lines_decided", key, _cell(_outcome_word(key)), "lines", n])
    return response
