"""calendar_for(person): the organisation's defaults, a profile's own time zone and Land;
"due Monday 11:00" in the reader's language and time zone; the profile page sets both."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.models import User
from approvals.calendar import add_working_time
from approvals.calendars import calendar_for, due_words
from approvals.models import ApprovalStep, ExpenseRequest
from tests.support.web import client_for

pytestmark = pytest.mark.django_db
TODAY = date(2026, 1, 2)


def test_the_default_is_berlin_with_its_holidays_for_this_and_the_next_two_years(demo_org):
    cal = calendar_for(demo_org["max"], today=TODAY)
    assert (cal.time_zone, cal.country, cal.subdivision) == ("Europe/Berlin", "DE", "BE")
    assert (cal.first_year, cal.last_year) == (2026, 2028)
    assert "2026-04-06" in cal.holidays and "2028-12-26" in cal.holidays  # Easter Monday
    assert "2026-03-08" in cal.holidays  # Women's Day: Berlin only
    assert "2026-01-06" not in cal.holidays


def test_a_person_in_bavaria_gets_epiphany_and_their_deadline_moves(demo_org):
    maria = demo_org["maria"]
    maria.holiday_subdivision, maria.time_zone = "BY", "Europe/Berlin"
    maria.save(update_fields=["holiday_subdivision", "time_zone"])
    cal = calendar_for(User.objects.get(username="maria"), today=TODAY)
    assert cal.subdivision == "BY" and "2026-01-06" in cal.holidays
    start = datetime(2026, 1, 5, 15, tzinfo=UTC)  # Monday 16:00 in Berlin
    berlin = calendar_for(demo_org["max"], today=TODAY)
    assert add_working_time(start, 16 * 3600, cal) > add_working_time(start, 16 * 3600, berlin)


def test_the_settings_choose_the_organisations_land(demo_org, settings):
    settings.HOLIDAY_SUBDIVISION = "BW"
    cal = calendar_for(demo_org["max"], today=TODAY)
    assert cal.subdivision == "BW" and "2026-01-06" in cal.holidays


def test_a_broken_time_zone_on_a_profile_falls_back_to_the_organisations(demo_org):
    emma = demo_org["emma"]
    emma.time_zone = "Mars/Olympus"
    assert calendar_for(emma, today=TODAY).time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "due Monday 11:00"), ("de", "fällig Montag 11:00")],
)
def test_due_in_words_in_the_readers_language(demo_org, lang, expected):
    now = datetime(2026, 11, 13, 15, tzinfo=UTC)  # Friday 16:00 in Berlin
    due = datetime(2026, 11, 16, 10, tzinfo=UTC)  # Monday 11:00 in Berlin
    with translation.override(lang):
        assert due_words(due, demo_org["max"], now=now) == expected


def test_due_in_words_in_the_readers_time_zone(demo_org):
    emma = demo_org["emma"]
    emma.time_zone = "America/New_York"
    now = datetime(2026, 11, 13, 15, tzinfo=UTC)
    with translation.override("en"):
        assert due_words(datetime(2026, 11, 16, 10, tzinfo=UTC), emma, now=now) == (
            "due Monday 05:00"
        )
        assert due_words(datetime(2026, 11, 13, 16, tzinfo=UTC), emma, now=now) == (
            "due today 11:00"
        )
        assert due_words(datetime(2026, 11, 14, 16, tzinfo=UTC), emma, now=now) == (
            "due tomorrow 11:00"
        )
        assert due_words(datetime(2026, 11, 12, 16, tzinfo=UTC), emma, now=now) == (
            "was due 12 November 2026 11:00"
        )
    with translation.override("de"):
        assert due_words(datetime(2026, 11, 14, 16, tzinfo=UTC), emma, now=now) == (
            "fällig morgen 11:00"
        )
    assert due_words(None, emma) == ""


def test_the_profile_page_sets_ones_own_time_zone_and_land(demo_org):
    finn = client_for(demo_org["finn"])
    page = finn.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bayern" in page and "Europe/Berlin" in page and "Arbeitszeit" in page
    response = finn.post(
        "/accounts/profile/",
        {"receives_digest": "on", "time_zone": "Europe/Lisbon", "holiday_subdivision": "BY"},
    )
    assert response.status_code == 302
    finn_row = User.objects.get(username="finn")
    assert (finn_row.time_zone, finn_row.holiday_subdivision) == ("Europe/Lisbon", "BY")
    assert calendar_for(finn_row, today=TODAY).time_zone == "Europe/Lisbon"
    refused = finn.post("/accounts/profile/", {"time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    assert User.objects.get(username="finn").time_zone == "Europe/Lisbon"


def test_the_request_page_says_when_a_level_is_due_in_words(demo_org, time_machine_now):
    request = ExpenseRequest.objects.create(
        requester=demo_org["emma"],
        title="Taxi",
        amount=Decimal("20.00"),
        category="travel",
        status="pending",
        current_level=1,
        levels=1,
        pending_approvers=["max"],
        workflow_started_at=time_machine_now,
        state_seq=2,
    )
    ApprovalStep.objects.create(
        request=request,
        level=1,
        approvers=["max"],
        status="pending",
        due_at=datetime(2026, 11, 16, 10, tzinfo=UTC),  # Monday 11:00 in Berlin
    )
    emma = client_for(demo_org["emma"])
    english = emma.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="step-due-words">due Monday 11:00<' in english
    german = emma.get(f"/requests/{request.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'data-testid="step-due-words">fällig Montag 11:00<' in german


@pytest.fixture
def time_machine_now(monkeypatch):
    """Friday 13 November 2026, 16:00 in Berlin, for the words (they are relative)."""
    now = datetime(2026, 11, 13, 15, tzinfo=UTC)
    monkeypatch.setattr("approvals.calendars.timezone.now", lambda: now)
    return now
