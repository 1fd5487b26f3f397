"""Flags where decisions are made (issue 27): the request page, the API, the mail and the
new-request form's refusal, in English and German; who may see them (per role)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from approvals import services
from approvals.effects import notifications
from approvals.models import ExpenseLine, ExpenseRequest, LineFlag, PolicyVersion
from approvals.policy.rules import PolicyRules
from approvals.workflow.contract import StepEvent
from tests.approvals.temporal.test_activities import transition
from tests.support.web import client_for

pytestmark = pytest.mark.django_db

FLAG = re.compile(r'data-testid="flag" data-code="(\w+)"')


def hotel(user, receipt_bytes=b"%PDF-1.4 adlon 240"):
    request = services.expense_submit(
        requester=user,
        title="Hotel Adlon",
        amount=Decimal("240.00"),
        currency="EUR",
        category="travel",
        description="Hotel, 1 night",
        receipt=SimpleUploadedFile("adlon.pdf", receipt_bytes, content_type="application/pdf"),
    )
    ExpenseRequest.objects.filter(pk=request.pk).update(
        status="pending", current_level=1, pending_approvers=["max"]
    )
    return request


@pytest.fixture
def two_hotels(demo_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = hotel(demo_org["emma"])
    second = hotel(demo_org["emma"])
    return first, second


def test_the_request_page_shows_the_flags_in_english_and_german(demo_org, two_hotels):
    first, second = two_hotels
    max_ = client_for(demo_org["max"])
    html = max_.get(f"/requests/{second.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert FLAG.findall(html) == ["duplicate", "over_limit"]
    assert f"The same receipt file is on request #{first.pk} (line 1)." in html
    assert "240.00 EUR for 1 night is over the limit of 200.00 EUR a night." in html
    # The approver may say why each flagged line is fine, in the decision form.
    assert 'name="flag_note_1"' in html
    german = max_.get(f"/requests/{second.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert FLAG.findall(german) == ["duplicate", "over_limit"]
    assert f"Dieselbe Belegdatei liegt bei Antrag #{first.pk} (Zeile 1)." in german
    assert "240,00 EUR für 1 Nacht liegen über dem Limit von 200,00 EUR pro Nacht." in german


def test_the_requester_sees_the_flags_but_no_note_field(demo_org, two_hotels):
    _first, second = two_hotels
    html = client_for(demo_org["emma"]).get(f"/requests/{second.pk}/").content.decode()
    assert FLAG.findall(html) == ["duplicate", "over_limit"]
    assert "flag_note_" not in html


def test_who_may_not_see_the_request_sees_no_flags(demo_org, two_hotels):
    _first, second = two_hotels
    outsider = next(
        u
        for n, u in demo_org.items()
        if n not in {"emma", "max", "admin"} and not u.is_superuser and n not in {"diana", "victor"}
    )
    response = client_for(outsider).get(f"/requests/{second.pk}/")
    assert response.status_code == 404
    api = client_for(outsider).get(f"/api/v1/requests/{second.pk}")
    assert api.status_code == 404 and b"flags" not in api.content


def test_the_api_lists_the_flags_in_the_callers_language(demo_org, two_hotels):
    first, second = two_hotels
    client = client_for(demo_org["max"])
    body = client.get(f"/api/v1/requests/{second.pk}", HTTP_ACCEPT_LANGUAGE="de").json()
    assert [(f["code"], f["line"], f["severity"]) for f in body["flags"]] == [
        ("duplicate", 1, "warn"),
        ("over_limit", 1, "warn"),
    ]
    assert body["flags"][0]["name"] == "Duplikat"
    assert (
        body["flags"][0]["text"] == f"Dieselbe Belegdatei liegt bei Antrag #{first.pk} (Zeile 1)."
    )
    mine = client_for(demo_org["emma"]).get("/api/v1/requests").json()
    by_id = {item["id"]: item for item in mine["items"]}
    assert [f["code"] for f in by_id[first.pk]["flags"]] == ["over_limit"]


def test_the_assignment_mail_lists_the_flags(demo_org, two_hotels, settings):
    _first, second = two_hotels
    event = StepEvent(kind="assigned", level=1, recipients=["max"])
    mail = notifications.compose(event, transition(second, 2, [event]), recipient="max")
    assert "Flags:" in mail.body and "line 1: Duplicate: The same receipt file" in mail.body
    assert mail.html.count('data-testid="flag"') == 2
    settings.LANGUAGE_CODE = "de"
    german = notifications.compose(event, transition(second, 2, [event]), recipient="max")
    assert (
        "Markierungen:" in german.body and "Zeile 1: Duplikat: Dieselbe Belegdatei" in german.body
    )
    # The requester's mail (not asked to decide) carries no flags.
    with translation.override("en"):
        mine = notifications.compose(event, transition(second, 2, [event]), recipient="emma")
    assert "Flags:" not in mine.body and "Markierungen:" not in mine.body


def block_receipts():
    version = PolicyVersion.objects.get(number=1)
    rules = PolicyRules.from_dict(version.rules)
    rules.checks = {**rules.checks, "receipt": "block"}
    PolicyVersion.objects.filter(pk=version.pk).update(rules=rules.to_dict())


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "No receipt: one is required from 25.00 EUR."),
        ("de", "Kein Beleg: ab 25,00 EUR ist einer erforderlich."),
    ],
)
def test_a_block_refuses_the_form_at_the_receipt_and_keeps_what_was_typed(
    demo_org, language, words
):
    block_receipts()
    before = (ExpenseRequest.objects.count(), ExpenseLine.objects.count())
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE=language)
    amount = "80.00" if language == "en" else "80,00"
    response = client.post(
        "/requests/new/",
        {"title": "Team lunch", "amount": amount, "currency": "EUR", "category": "other"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'data-testid="error-receipt"[^>]*>' + re.escape(words), html), html[-3000:]
    assert 'value="Team lunch"' in html and f'value="{amount}"' in html
    assert (ExpenseRequest.objects.count(), ExpenseLine.objects.count()) == before


def test_a_block_through_the_api_is_a_422_at_the_receipt(demo_org):
    block_receipts()
    response = client_for(demo_org["emma"]).post(
        "/api/v1/requests",
        {"title": "Lunch", "amount": "80.00", "currency": "EUR", "category": "other"},
        content_type="application/json",
    )
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", "payload", "receipt"]
    assert detail["msg"] == "No receipt: one is required from 25.00 EUR."
    assert not LineFlag.objects.exists()
