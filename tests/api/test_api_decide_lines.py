"""The API's request detail carries the report's lines (status, rejection reason, receipt
paths) and the approved total (issue 26), in the list too; who may not see the
request gets 404, as for the page."""

from __future__ import annotations

import pytest

from approvals.models import ExpenseLine
from tests.support.api import api_for
from tests.support.lines import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_detail_lists_lines_with_status_and_the_approved_total(demo_org):
    report = make_report(demo_org["emma"])
    ExpenseLine.objects.filter(request=report, position=4).update(
        status="rejected", rejected_level=1, rejected_by="max", rejection_reason="No dinners"
    )
    for who in ("emma", "max", "admin"):
        answer = api_for(demo_org[who], "read").get(f"/requests/{report.pk}")
        assert answer.status_code == 200, who
    body = answer.json()
    lines = body["lines"]
    assert [line["position"] for line in lines] == [1, 2, 3, 4]
    taxi, dinner = lines[0], lines[3]
    assert taxi == {
        "position": 1,
        "date": "2026-12-01",
        "merchant": "Taxi Berlin",
        "category": "travel",
        "amount": "38.50",
        "currency": "EUR",
        "amount_eur": "38.50",
        "vat": "2.52",
        "description": "",
        "attendees": "",
        "status": "open",
        "rejected_level": None,
        "rejected_by": "",
        "rejection_reason": "",
        "receipt_url": taxi["receipt_url"],
        "receipt_preview_url": f"/requests/{report.pk}/lines/1/receipt/preview.png",
    }
    assert taxi["receipt_url"]
    assert dinner["status"] == "rejected" and dinner["rejection_reason"] == "No dinners"
    assert dinner["rejected_by"] == "max" and dinner["rejected_level"] == 1
    assert dinner["amount"] == "124.00" and dinner["currency"] == "GBP"
    assert body["approved_total"] == {
        "eur_cents": 44040,
        "by_currency": {"EUR": "440.40"},
        "lines": 3,
    }


def test_the_list_has_the_approved_total_and_others_get_404(demo_org):
    report = make_report(demo_org["emma"])
    listed = api_for(demo_org["emma"], "read").get("/requests").json()["items"]
    assert len(listed[0]["lines"]) == 4 and listed[0]["approved_total"]["eur_cents"] == 58628
    assert api_for(demo_org["finn"], "read").get(f"/requests/{report.pk}").status_code == 404
