"""SLA analytics numbers from seeded projection and audit rows (real PostgreSQL).

The audit rows are written as the `record_transition` activity writes them (kind, level,
at, actor); the numbers are chosen so medians and percentiles are known by hand.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from approvals.models import AuditEntry, ExpenseRequest
from approvals.selectors import analytics
from approvals.selectors.analytics import percentile
from tests.support.web import client_for

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=BERLIN)  # a Tuesday
H = 3600


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([1.0, 2.0, 4.0], 0.5, 2.0),
        ([1.0, 2.0, 4.0], 0.9, 3.6),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0.9, 3.7),
        ([10.0, 20.0], 0.0, 10.0),
        ([10.0, 20.0], 1.0, 20.0),
    ],
)
def test_percentile_interpolates_between_closest_ranks(values, p, expected):
    result = percentile(values, p)
    assert result == expected if expected is None else result == pytest.approx(expected)


def _request(user, *, category="travel", status="approved", created=NOW, **extra):
    request = ExpenseRequest.objects.create(
        requester=user,
        title=extra.pop("title", "Seeded"),
        amount=Decimal("100.00"),
        category=category,
        status=status,
        **extra,
    )
    ExpenseRequest.objects.filter(pk=request.pk).update(created_at=created)
    return request


def _audit(request, kind, at, level=1, actor="", name="", **detail):
    count = AuditEntry.objects.filter(request=request).count()
    return AuditEntry.objects.create(
        request=request,
        key=f"seed:{count}:{kind}",
        at=at,
        kind=kind,
        level=level,
        actor_username=actor,
        actor_name=name,
        detail=detail,
    )


@pytest.fixture
def seeded(demo_org):
    emma, finn = demo_org["emma"], demo_org["finn"]
    start = NOW - timedelta(days=3)
    # Level 1 decided by max after 1 h, 2 h and 4 h: median 2 h, p90 3.6 h.
    for hours, category in ((1, "travel"), (2, "travel"), (4, "equipment")):
        r = _request(emma, category=category, created=start)
        _audit(r, "assigned", start)
        _audit(r, "decided", start + timedelta(hours=hours), actor="max", name="Max Müller")
    # Level 2 of one of them: assigned, escalated after 48 h to victor, decided 2 h later.
    # Per level: 50 h; per approver (victor): 2 h since it reached him.
    r = ExpenseRequest.objects.filter(category="equipment").get()
    lvl2 = start + timedelta(hours=4)
    _audit(r, "assigned", lvl2, level=2)
    _audit(r, "escalated", lvl2 + timedelta(hours=48), level=2, to=["victor"])
    _audit(r, "decided", lvl2 + timedelta(hours=50), level=2, actor="victor", name="Victor Vogel")
    # A rejected request, an expired one (escalated twice in the week before), a pending
    # overdue one and a pending one still in time.
    _request(finn, category="meals", status="rejected", created=start)
    expired = _request(finn, category="meals", status="expired", created=NOW - timedelta(days=9))
    _audit(expired, "escalated", NOW - timedelta(days=8))
    _audit(expired, "escalated", NOW - timedelta(days=7, hours=1))
    _audit(expired, "expired", NOW - timedelta(days=1))
    _request(emma, status="pending", due_at=NOW - timedelta(hours=5), current_level=1)
    _request(emma, status="pending", due_at=NOW + timedelta(hours=5), current_level=1)
    # Outside a 30-day period: counted only for "all time".
    old = _request(finn, category="software", status="approved", created=NOW - timedelta(days=60))
    _audit(old, "assigned", NOW - timedelta(days=60))
    _audit(old, "decided", NOW - timedelta(days=60) + timedelta(hours=10), actor="maria")
    return demo_org


def test_time_to_decision_per_level_and_per_approver(seeded):
    with timezone.override(BERLIN):
        a = analytics.analytics(days=30, now=NOW)
    level1, level2 = a.by_level
    assert (level1.key, level1.count) == ("1", 3)
    assert level1.median == 2 * H
    assert level1.p90 == pytest.approx(3.6 * H)
    assert (level2.key, level2.count, level2.median, level2.p90) == ("2", 1, 50 * H, 50 * H)
    people = {t.key: t for t in a.by_approver}
    assert set(people) == {"max", "victor"}  # maria's decision is older than 30 days
    assert people["max"].label == "Max Müller"
    assert (people["max"].median, people["max"].p90) == (2 * H, pytest.approx(3.6 * H))
    assert people["victor"].median == 2 * H  # from the escalation that reached him
    assert a.decisions == 4


def test_overdue_weeks_outcomes_and_categories(seeded):
    with timezone.override(BERLIN):
        a = analytics.analytics(days=30, now=NOW)
        everything = analytics.analytics(days=0, now=NOW)
    assert a.overdue_total == 1 and [r.due_at for r in a.overdue] == [NOW - timedelta(hours=5)]
    weeks = {w.start.isoformat(): (w.escalations, w.expiries) for w in a.weeks}
    # Escalated on Mon 23 Nov and Tue 24 Nov; in the week from Mon 30 Nov: level 2's
    # escalation (30 Nov 16:00) and the expiry.
    assert weeks["2026-11-23"] == (2, 0)
    assert weeks["2026-11-30"] == (1, 1)
    assert (
        len(a.weeks) == 6
        and a.weeks[0].start.isoformat() == "2026-10-26"
        and a.weeks[-1].start.isoformat() == "2026-11-30"
    )
    assert a.outcomes["approved"] == 3 and a.outcomes["rejected"] == 1
    assert a.outcomes["expired"] == 1 and a.outcomes["pending"] == 2
    categories = {c.key: c.counts for c in a.categories}
    assert categories == {
        "travel": {"approved": 2, "pending": 2},
        "meals": {"rejected": 1, "expired": 1},
        "equipment": {"approved": 1},
    }
    assert everything.outcomes["approved"] == 4
    assert "software" in {c.key for c in everything.categories}
    assert {t.key for t in everything.by_approver} == {"max", "victor", "maria"}


def test_the_page_shows_the_numbers_and_the_csv_has_them(seeded, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    admin = client_for(seeded["admin"])
    page = admin.get("/audit/analytics/?days=0").content.decode()
    # All time: level 1 also has maria's 10 h (60 days ago): [1, 2, 4, 10] h.
    assert 'data-testid="level-row" data-level="1" data-median="10800" data-p90="29520"' in page
    assert page.count('data-testid="chart"') == 5
    assert "<title" in page and 'role="img"' in page
    assert 'style="' not in page  # the CSP forbids inline styles
    german = admin.get("/audit/analytics/?days=0", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bearbeitungszeit pro Stufe" in german and "8,2 Std." in german

    response = admin.get("/audit/analytics.csv?days=0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "key", "label", "measure", "value"]
    cells = {(r[0], r[1], r[3]): r[4] for r in rows[1:]}
    assert cells[("time_to_decision_by_level", "1", "decisions")] == "4"
    assert cells[("time_to_decision_by_level", "1", "median_seconds")] == "10800"
    assert cells[("time_to_decision_by_level", "1", "p90_seconds")] == "29520"
    assert cells[("time_to_decision_by_level", "2", "median_seconds")] == str(50 * H)
    assert cells[("time_to_decision_by_approver", "victor", "median_seconds")] == str(2 * H)
    # The page counts against the real clock: the second pending one is due at NOW + 5 h.
    overdue = 1 if timezone.now() < NOW + timedelta(hours=5) else 2
    assert cells[("overdue_now", "total", "requests")] == str(overdue)
    assert cells[("by_category", "meals", "expired")] == "1"


def test_a_bad_period_is_refused_in_words_and_the_default_shown(seeded):
    admin = client_for(seeded["admin"])
    for days in ("abc", "-1", "13", "9" * 40):
        response = admin.get(f"/audit/analytics/?days={days}")
        assert response.status_code == 200
        assert 'data-testid="period-error"' in response.content.decode()
        assert admin.get(f"/audit/analytics.csv?days={days}").status_code == 200


def selected_period(html: str) -> str:
    start = html.index('name="days"')
    select = html[start : html.index("</select>", start)]
    (value,) = re.findall(r'<option value="(\d+)" selected>', select)
    return value


def test_the_period_selector_names_the_period_shown(seeded):
    """Without ?days= the page shows 90 days, and its selector says so (it said "last 7
    days"); after a refused period, too; a chosen one stays chosen."""
    admin = client_for(seeded["admin"])
    assert selected_period(admin.get("/audit/analytics/").content.decode()) == "90"
    assert selected_period(admin.get("/audit/analytics/?days=13").content.decode()) == "90"
    html = admin.get("/audit/analytics/?days=30").content.decode()
    assert selected_period(html) == "30"
    assert 'href="/audit/analytics.csv?days=30"' in html


def test_analytics_is_for_admins_only(seeded):
    for name in ("emma", "max", "diana"):
        client = client_for(seeded[name])
        assert client.get("/audit/analytics/").status_code == 403
        assert client.get("/audit/analytics.csv").status_code == 403


def test_csv_cells_never_start_a_formula(demo_org):
    demo_org["max"].first_name = "=HYPERLINK(1)"
    demo_org["max"].save()
    r = _request(demo_org["emma"], created=timezone.now())
    _audit(r, "assigned", timezone.now() - timedelta(hours=1))
    _audit(r, "decided", timezone.now(), actor="max", name="=HYPERLINK(1) Müller")
    body = client_for(demo_org["admin"]).get("/audit/analytics.csv").content.decode()
    assert "'=HYPERLINK(1) Müller" in body
    assert ",=HYPERLINK" not in body


@pytest.mark.django_db
def test_categories_count_lines_with_their_eur_and_leave_rejected_lines_out(demo_org):
    from decimal import Decimal as D

    from approvals import services
    from approvals.lines import LineData
    from approvals.models import ExpenseLine

    report = services.expense_submit(
        requester=demo_org["emma"],
        title="Trip",
        lines=[
            LineData(amount=D("38.50"), currency="EUR", category="travel"),
            LineData(amount=D("312.00"), currency="EUR", category="travel"),
            LineData(amount=D("124.00"), currency="EUR", category="meals"),
            LineData(amount=D("50.00"), currency="EUR", category="meals"),
        ],
    )
    ExpenseLine.objects.filter(request=report, position=4).update(status="rejected")
    rows = {c.key: c for c in analytics.analytics(days=0).categories}
    assert rows["travel"].total == 2 and rows["travel"].eur_cents == 35050
    assert rows["meals"].total == 1 and rows["meals"].eur_cents == 12400
