"""Audit pages: who may open them, time zones, and Temporal out of reach.

These need no worker: requests and audit rows are written the way the
projection writes them, and the tests read them back through the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from approvals.models import AuditEntry, ExpenseRequest
from tests.support.servers import temporal_unreachable

pytestmark = pytest.mark.django_db

PAGES = ["/audit/", "/audit/{pk}/", "/audit/{pk}/timeline.json"]
NOON_UTC = datetime(2025, 1, 15, 12, 0, 0, tzinfo=UTC)


def make_request(user, **fields) -> ExpenseRequest:
    values = {
        "title": "Conference ticket",
        "amount": Decimal("480.00"),
        "category": "training",
        "status": "queued",
    }
    values.update(fields)
    return ExpenseRequest.objects.create(requester=user, **values)


def audit_row(request, kind, at, seq, **fields) -> AuditEntry:
    return AuditEntry.objects.create(
        request=request,
        key=f"wf:{seq}:{kind}",
        at=at,
        kind=kind,
        detail={"seq": seq, "at": at.isoformat(), **fields.pop("detail", {})},
        **fields,
    )


@pytest.mark.parametrize("username", ["emma", "finn", "max", "maria", "diana", "victor"])
def test_everyone_but_admins_gets_403_on_every_audit_page(client, demo_org, username):
    request = make_request(demo_org["emma"])
    client.force_login(demo_org[username])
    for page in PAGES:
        response = client.get(page.format(pk=request.pk))
        assert response.status_code == 403, page
        assert b"Conference ticket" not in response.content


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, demo_org, page):
    request = make_request(demo_org["emma"])
    response = client.get(page.format(pk=request.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("page", PAGES)
def test_admin_may_open_every_audit_page(client, demo_org, page):
    request = make_request(demo_org["emma"])
    client.force_login(demo_org["admin"])
    response = client.get(page.format(pk=request.pk))
    assert response.status_code == 200
    assert b"Conference ticket" in response.content or page.endswith(".json")


def test_the_requester_cannot_read_the_audit_of_their_own_request(client, demo_org):
    request = make_request(demo_org["emma"])
    client.force_login(demo_org["emma"])
    assert client.get(f"/audit/{request.pk}/").status_code == 403


def test_admin_gets_404_for_a_missing_request(client, demo_org):
    client.force_login(demo_org["admin"])
    assert client.get("/audit/999999/").status_code == 404
    assert client.get("/audit/999999/timeline.json").status_code == 404


def test_audit_pages_refuse_post(client, demo_org):
    request = make_request(demo_org["emma"])
    client.force_login(demo_org["admin"])
    assert client.post(f"/audit/{request.pk}/").status_code == 405
    assert client.post("/audit/").status_code == 405


def test_only_admins_see_the_audit_link_in_the_navigation(client, demo_org):
    client.force_login(demo_org["diana"])
    assert b'href="/audit/"' not in client.get("/requests/").content
    client.force_login(demo_org["admin"])
    assert b'href="/audit/"' in client.get("/requests/").content


def test_queued_request_shows_its_audit_log_with_a_notice(client, demo_org):
    request = make_request(demo_org["emma"])
    audit_row(request, "submitted", NOON_UTC, 1, actor_username="emma", actor_name="Emma Engel")
    client.force_login(demo_org["admin"])
    html = client.get(f"/audit/{request.pk}/").content.decode()
    assert 'data-testid="history-notice"' in html
    assert "has not started yet" in html
    assert 'data-kind="submitted" data-source="audit"' in html


def test_times_are_shown_in_the_viewers_time_zone(client, demo_org, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    request = make_request(demo_org["emma"])
    audit_row(request, "submitted", NOON_UTC, 1, actor_username="emma", actor_name="Emma Engel")
    client.force_login(demo_org["admin"])
    url = f"/audit/{request.pk}/"

    berlin = client.get(url).content.decode()
    assert "15/01/2025 13:00" in berlin  # one style per language (`when`)
    assert "All times are in Europe/Berlin." in berlin

    new_york = client.get(url, {"tz": "America/New_York"})
    assert "15/01/2025 07:00" in new_york.content.decode()
    assert new_york.cookies["audit_tz"].value == "America/New_York"
    # Remembered for the next visit (the test client keeps the cookie).
    assert "15/01/2025 07:00" in client.get(url).content.decode()
    data = client.get(f"{url}timeline.json").json()
    assert data["time_zone"] == "America/New_York"
    assert data["entries"][0]["at"] == "2025-01-15T12:00:00+00:00"
    assert data["entries"][0]["at_local"] == "2025-01-15T07:00:00-05:00"


def test_unknown_time_zone_is_explained_not_a_500(client, demo_org):
    request = make_request(demo_org["emma"])
    audit_row(request, "submitted", NOON_UTC, 1, actor_username="emma", actor_name="Emma Engel")
    client.force_login(demo_org["admin"])
    response = client.get(f"/audit/{request.pk}/", {"tz": "Mars/<b>Olympus</b>"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown time zone" in html
    assert "&lt;b&gt;Olympus&lt;/b&gt;" in html and "<b>Olympus</b>" not in html
    assert "15/01/2025 13:00" in html  # the default zone, Europe/Berlin
    assert "audit_tz" not in response.cookies


def test_temporal_out_of_reach_shows_the_audit_log_with_a_notice(client, demo_org, settings):
    request = make_request(demo_org["emma"], status="pending", workflow_started_at=NOON_UTC)
    audit_row(request, "submitted", NOON_UTC, 1, actor_username="emma", actor_name="Emma Engel")
    audit_row(
        request,
        "assigned",
        NOON_UTC.replace(second=1),
        2,
        level=1,
        detail={"recipients": ["max"], "due_at": "2025-01-17T12:00:01+00:00"},
    )
    with temporal_unreachable(settings, call_timeout=3):
        client.force_login(demo_org["admin"])
        response = client.get(f"/audit/{request.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Temporal cannot be reached right now" in html
    assert 'data-kind="submitted" data-source="audit"' in html
    assert 'data-kind="assigned" data-source="audit"' in html
    assert "Level 1 assigned to Max Müller" in html
