"""The admin search on /audit/: filters on the Django projection, paging, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from approvals.models import ExpenseRequest

pytestmark = pytest.mark.django_db

ROW = re.compile(r'data-testid="audit-row" data-request-id="(\d+)"')


def make(user, amount, status="pending", chain=(), created=None, title="Expense"):
    request = ExpenseRequest.objects.create(
        requester=user,
        title=title,
        amount=Decimal(amount),
        category="travel",
        status=status,
        chain_usernames=list(chain),
    )
    if created is not None:  # created_at is auto_now_add: set it afterwards
        ExpenseRequest.objects.filter(pk=request.pk).update(created_at=created)
    return request.pk


@pytest.fixture
def admin_client(client, demo_org):
    client.force_login(demo_org["admin"])
    return client


@pytest.fixture
def requests_(demo_org):
    emma, finn = demo_org["emma"], demo_org["finn"]
    return {
        "emma_small": make(
            emma, "120.00", "approved", ["max"], datetime(2025, 3, 1, 10, tzinfo=UTC)
        ),
        "emma_big": make(
            emma, "5000.00", "pending", ["max", "diana"], datetime(2025, 3, 10, 10, tzinfo=UTC)
        ),
        # Escalated from maria to diana: diana is in the chain too.
        "finn_escalated": make(
            finn, "800.00", "pending", ["maria", "diana"], datetime(2025, 4, 2, 10, tzinfo=UTC)
        ),
        "finn_rejected": make(
            finn, "20000.00", "rejected", ["maria"], datetime(2025, 4, 20, 10, tzinfo=UTC)
        ),
    }


def found(response) -> set[int]:
    assert response.status_code == 200
    return {int(pk) for pk in ROW.findall(response.content.decode())}


def test_without_filters_every_request_is_listed_newest_first(admin_client, requests_):
    response = admin_client.get("/audit/")
    order = [int(pk) for pk in ROW.findall(response.content.decode())]
    assert order == [
        requests_["finn_rejected"],
        requests_["finn_escalated"],
        requests_["emma_big"],
        requests_["emma_small"],
    ]


def test_requester_matches_username_or_part_of_the_name(admin_client, requests_):
    emma = {requests_["emma_small"], requests_["emma_big"]}
    assert found(admin_client.get("/audit/", {"requester": "emma"})) == emma
    assert found(admin_client.get("/audit/", {"requester": "EMMA"})) == emma
    assert found(admin_client.get("/audit/", {"requester": "Engel"})) == emma
    assert found(admin_client.get("/audit/", {"requester": "nobody-here"})) == set()


def test_approver_matches_anyone_in_the_chain_including_escalation_targets(admin_client, requests_):
    diana = found(admin_client.get("/audit/", {"approver": "diana"}))
    assert diana == {requests_["emma_big"], requests_["finn_escalated"]}
    maria = found(admin_client.get("/audit/", {"approver": "maria"}))
    assert maria == {requests_["finn_escalated"], requests_["finn_rejected"]}
    # "max" must not match "maria" or any name merely containing it.
    assert found(admin_client.get("/audit/", {"approver": "max"})) == {
        requests_["emma_small"],
        requests_["emma_big"],
    }
    assert found(admin_client.get("/audit/", {"approver": "ghost"})) == set()


def test_status_amount_and_date_filters_combine(admin_client, requests_):
    assert found(admin_client.get("/audit/", {"status": "pending"})) == {
        requests_["emma_big"],
        requests_["finn_escalated"],
    }
    assert found(admin_client.get("/audit/", {"min_amount": "500", "max_amount": "5000"})) == {
        requests_["emma_big"],
        requests_["finn_escalated"],
    }
    assert found(
        admin_client.get("/audit/", {"date_from": "2025-03-05", "date_to": "2025-04-02"})
    ) == {requests_["emma_big"], requests_["finn_escalated"]}
    assert found(
        admin_client.get("/audit/", {"requester": "finn", "status": "pending", "approver": "diana"})
    ) == {requests_["finn_escalated"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_amount": "abc"}, "min_amount"),
        ({"min_amount": "-5"}, "min_amount"),
        ({"min_amount": "900", "max_amount": "100"}, "max_amount"),
        ({"date_from": "2025-13-45"}, "date_from"),
        ({"date_from": "2025-05-01", "date_to": "2025-04-01"}, "date_to"),
        ({"status": "<script>"}, "status"),
        ({"requester": "x" * 151}, "requester"),
    ],
)
def test_bad_search_input_is_explained_and_kept_never_a_500(admin_client, requests_, params, field):
    response = admin_client.get("/audit/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-field="{field}"' in html
    assert 'data-testid="search-invalid"' in html
    assert found(response) == set()
    assert "<script>" not in html.split("<main>")[1]


def test_pages_keep_the_filters_in_their_links(admin_client, demo_org):
    emma, finn = demo_org["emma"], demo_org["finn"]
    emma_ids = {make(emma, f"{100 + i}.00", chain=["max"]) for i in range(30)}
    make(finn, "100.00", chain=["maria"])

    first_page = admin_client.get("/audit/", {"requester": "emma"})
    html = first_page.content.decode()
    assert len(found(first_page)) == 25
    assert "30 requests" in html
    link = re.search(r'href="([^"]+)" data-testid="page-next"', html)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert "requester=emma" in href and "page=2" in href

    second_page = admin_client.get("/audit/" + href)
    assert len(found(second_page)) == 5
    assert found(first_page) | found(second_page) == emma_ids
    assert 'data-testid="page-next"' not in second_page.content.decode()


def test_out_of_range_or_garbled_page_numbers_do_not_fail(admin_client, requests_):
    assert len(found(admin_client.get("/audit/", {"page": "999"}))) == 4
    assert len(found(admin_client.get("/audit/", {"page": "two"}))) == 4
