"""The API's reports: lines in (submit, resubmit) and out (detail, list), refusals in words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from approvals.models import ExpenseRequest
from tests.approvals.test_views_requests import real_png
from tests.support.api import api_for
from tests.support.requests import wait_pending_level, wait_status
from tests.support.waiting import wait_for
from tests.support.web import client_for

TRIP = {
    "title": "Hamburg",
    "lines": [
        {"date": "2026-12-01", "merchant": "Taxi", "category": "travel", "amount": "38.50"},
        {
            "merchant": "The Ivy",
            "category": "meals",
            "amount": 124,
            "currency": "GBP",
            "vat": "20.67",
            "attendees": "Ms Smith",
        },
    ],
}


@pytest.mark.django_db
def test_a_report_with_lines_in_and_out(demo_org):
    emma = api_for(demo_org["emma"], "submit", "read")
    answer = emma.post("/requests", TRIP)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    lines = body["lines"]
    assert [line["position"] for line in lines] == [1, 2]
    assert lines[0] | {} == lines[0] and lines[0]["amount"] == "38.50"
    assert (lines[1]["amount"], lines[1]["currency"], lines[1]["vat"]) == ("124.00", "GBP", "20.67")
    assert lines[1]["attendees"] == "Ms Smith" and lines[1]["status"] == "open"
    assert lines[0]["date"] == "2026-12-01" and lines[1]["receipt_url"] is None
    request = ExpenseRequest.objects.get(pk=body["id"])
    assert body["currency"] == "EUR" and Decimal(body["amount"]) == request.amount
    eur = sum(Decimal(line["amount_eur"]) for line in lines)
    assert request.base_amount_cents == int(eur * 100)
    listed = emma.get("/requests").json()["items"][0]
    assert listed["lines"] == lines
    assert emma.get(f"/requests/{body['id']}").json()["lines"] == lines


@pytest.mark.django_db
def test_a_receipt_url_for_a_line_with_a_receipt(demo_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    emma = client_for(demo_org["emma"])
    data = {
        "title": "Taxi",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-amount": "38.50",
        "lines-0-currency": "EUR",
        "lines-0-category": "travel",
        "lines-0-receipt": SimpleUploadedFile("t.png", real_png(), content_type="image/png"),
    }
    assert emma.post("/requests/new/", data).status_code == 302
    request = ExpenseRequest.objects.get()
    line = api_for(demo_org["emma"], "read").get(f"/requests/{request.pk}").json()["lines"][0]
    assert line["receipt_url"] == f"/requests/{request.pk}/receipt/?line=1"
    download = emma.get(line["receipt_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == real_png()
    assert client_for(demo_org["finn"]).get(line["receipt_url"]).status_code == 404
    assert emma.get(f"/requests/{request.pk}/receipt/?line=9").status_code == 404
    assert emma.get(f"/requests/{request.pk}/receipt/?line=x").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lines", "loc", "words"),
    [
        ([], ["lines"], "at least one line"),
        ([{"category": "travel", "amount": "1,450.00"}], ["lines", 0, "amount"], "JSON number"),
        ([{"category": "travel", "amount": "0"}], ["lines", 0, "amount"], "greater than zero"),
        (
            [{"category": "travel", "amount": "1"}, {"category": "nope", "amount": "2"}],
            ["lines", 1, "category"],
            "valid choice",
        ),
        (
            [{"category": "travel", "amount": "12.5", "currency": "JPY"}],
            ["lines", 0, "amount"],
            "JPY",
        ),
        (
            [{"category": "travel", "amount": "10", "vat": "11"}],
            ["lines", 0, "vat"],
            "more than the line",
        ),
        (
            [
                {"category": "travel", "amount": "600000"},
                {"category": "travel", "amount": "500000"},
            ],
            ["lines"],
            "at most 1,000,000.00 EUR",
        ),
    ],
)
def test_bad_lines_are_refused_in_words_at_the_line(demo_org, lines, loc, words):
    answer = api_for(demo_org["emma"], "submit").post("/requests", {"title": "T", "lines": lines})
    assert answer.status_code == 422, answer.content
    detail = answer.json()["detail"]
    assert any(d["loc"] == ["body", "payload", *loc] and words in d["msg"] for d in detail), detail
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_flat_fields_are_still_a_one_line_report(demo_org):
    answer = api_for(demo_org["emma"], "submit").post(
        "/requests", {"title": "Taxi", "amount": 38.5, "currency": "EUR", "category": "travel"}
    )
    assert answer.status_code == 201
    assert [(x["position"], x["amount"]) for x in answer.json()["lines"]] == [(1, "38.50")]
    missing = api_for(demo_org["emma"], "submit").post("/requests", {"title": "Taxi"})
    assert missing.status_code == 422


@pytest.mark.django_db(transaction=True)
def test_resubmit_lines_through_the_api(demo_org, worker):
    emma = api_for(demo_org["emma"], "submit", "read")
    pk = emma.post("/requests", TRIP).json()["id"]
    request = ExpenseRequest.objects.get(pk=pk)
    wait_for(lambda: ExpenseRequest.objects.filter(pk=pk, pending_approvers=["max"]).exists())
    request.refresh_from_db()
    services.decision_record(
        request=request, actor=demo_org["max"], action="request_changes", comment="Parking?"
    )
    wait_status(request, "changes_requested")
    lines = [
        {"origin": 1, "merchant": "Taxi", "category": "travel", "amount": "40.00"},
        {"merchant": "Parking", "category": "travel", "amount": "12.00"},
    ]
    answer = emma.post(f"/requests/{pk}/resubmit", {"title": "Hamburg", "lines": lines})
    assert answer.status_code == 200, answer.content
    assert answer.json()["round"] == 2 and answer.json()["base_amount_cents"] == 5200
    wait_pending_level(request, 1)
    out = emma.get(f"/requests/{pk}").json()["lines"]
    assert [(x["merchant"], x["amount"]) for x in out] == [("Taxi", "40.00"), ("Parking", "12.00")]
    bad = emma.post(f"/requests/{pk}/resubmit", {"title": "H", "lines": [{"category": "travel"}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-2:] == [0, "amount"]
