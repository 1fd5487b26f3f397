"""Amounts through the JSON API: a JSON number (read exactly, never through a float) or
a string in "." notation, with the form's bounds and words; every refusal a 4xx with
the words, never a 500 (JPY decimals, the EUR maximum, a JPY resubmission)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from approvals.models import ExpenseRequest
from approvals.services import decision_record
from tests.support.api import api_for
from tests.support.requests import submit, wait_pending_level, wait_status

pytestmark = pytest.mark.django_db(transaction=True)


def raw(api, path: str, body: str, **headers: str):
    """POST `body` as it is (JSON numbers as written, not as Python floats)."""
    return api.client.post(
        f"/api/v1{path}", body, content_type="application/json", headers={**api.headers, **headers}
    )


def messages_of(answer) -> dict[str, str]:
    return {item["loc"][-1]: item["msg"] for item in answer.json()["detail"]}


@pytest.mark.parametrize(
    ("amount", "currency", "saved"),
    [
        ("12.10", "EUR", Decimal("12.10")),
        ('"1450.00"', "EUR", Decimal("1450.00")),
        ('" 38.5 "', "EUR", Decimal("38.50")),
        ("1500", "JPY", Decimal("1500")),
        ('"1500.00"', "JPY", Decimal("1500")),  # the same whole amount
        ("1000000.00", "EUR", Decimal("1000000.00")),
        ("0.01", "EUR", Decimal("0.01")),
    ],
)
def test_a_json_number_or_a_point_string_is_saved_exactly(demo_org, amount, currency, saved):
    api = api_for(demo_org["emma"], "submit", "read")
    body = f'{{"title": "Hotel", "amount": {amount}, "currency": "{currency}", '
    body += '"category": "travel"}'
    answer = raw(api, "/requests", body)
    assert answer.status_code == 201, answer.content
    assert ExpenseRequest.objects.get(pk=answer.json()["id"]).amount == saved


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ('"12.5"', "JPY", "JPY has no decimals: enter a whole amount"),
        ("12.5", "JPY", "JPY has no decimals"),
        ('"1000000.01"', "EUR", "The amount must be at most 1,000,000.00."),
        ("1e400", "EUR", "The amount must be at most 1,000,000.00."),
        ('"99999999999999999999"', "EUR", "at most 1,000,000.00"),
        # Above the EUR maximum once converted: the service's check, in words.
        ('"2000000"', "USD", "The amount must be at most 1,000,000.00 EUR"),
        ('"300000000"', "JPY", "The amount must be at most 1,000,000.00 EUR"),
        # A float's artefact is another amount: refused, never rounded.
        ("0.30000000000000004", "EUR", "Use at most two decimals."),
        ('"12.345"', "EUR", "Use at most two decimals."),
        ("0", "EUR", "greater than zero"),
        ('"-5"', "EUR", "greater than zero"),
        # Not the "." notation: the words say what is.
        ('"1,450.00"', "EUR", 'a string such as "1450.00"'),
        ('"38,50"', "EUR", 'a string such as "1450.00"'),
        ('"1e3"', "EUR", 'a string such as "1450.00"'),
        ('"NaN"', "EUR", 'a string such as "1450.00"'),
        ("true", "EUR", 'a string such as "1450.00"'),
        ("null", "EUR", 'a string such as "1450.00"'),
        ('["12"]', "EUR", 'a string such as "1450.00"'),
    ],
)
def test_a_bad_amount_is_a_422_in_words(demo_org, amount, currency, words):
    api = api_for(demo_org["emma"], "submit", "read")
    body = f'{{"title": "Hotel", "amount": {amount}, "currency": "{currency}", '
    body += '"category": "travel"}'
    answer = raw(api, "/requests", body)
    assert answer.status_code == 422, answer.content
    assert words in messages_of(answer)["amount"]
    assert not ExpenseRequest.objects.exists()


def test_the_words_follow_the_callers_language(demo_org):
    api = api_for(demo_org["emma"], "submit")
    body = '{"title": "Hotel", "amount": "12.5", "currency": "JPY", "category": "travel"}'
    german = raw(api, "/requests", body, **{"Accept-Language": "de"})
    assert german.status_code == 422
    assert "JPY hat keine Nachkommastellen" in messages_of(german)["amount"]
    plain = raw(api, "/requests", body.replace('"12.5"', '"12,5"'), **{"Accept-Language": "de"})
    assert "Punkt vor den Nachkommastellen" in messages_of(plain)["amount"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_json_constant_that_is_no_number_is_no_body(demo_org, constant):
    api = api_for(demo_org["emma"], "submit")
    body = f'{{"title": "Hotel", "amount": {constant}, "currency": "EUR", "category": "travel"}}'
    answer = raw(api, "/requests", body)
    assert answer.status_code == 400
    assert not ExpenseRequest.objects.exists()


def test_an_unknown_currency_is_a_422(demo_org):
    api = api_for(demo_org["emma"], "submit")
    answer = api.post(
        "/requests", {"title": "Hotel", "amount": "12", "currency": "XXX", "category": "travel"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "currency"


def test_a_jpy_resubmission_with_decimals_or_above_the_maximum_is_a_422(demo_org, worker):
    request = submit(demo_org["emma"], "150000", currency="JPY")
    wait_pending_level(request, 1)
    decision_record(
        request=request, actor=demo_org["max"], action="request_changes", comment="Which one?"
    )
    wait_status(request, "changes_requested")
    api = api_for(demo_org["emma"], "submit", "read")
    path = f"/requests/{request.pk}/resubmit"
    for amount, words in [
        ('"1500.5"', "JPY has no decimals"),
        ("1500.5", "JPY has no decimals"),
        # The policy's 1,000,000.00 EUR at the pinned rate, in yen.
        ('"300000000"', "The amount must be at most 180,620,000"),
        ('"1,500"', 'a string such as "1450.00"'),
    ]:
        body = json.dumps({"title": "Hotel"})[:-1] + f', "amount": {amount}}}'
        answer = raw(api, path, body)
        assert answer.status_code == 422, (amount, answer.content)
        assert words in messages_of(answer)["amount"], amount
    assert ExpenseRequest.objects.get(pk=request.pk).status == "changes_requested"
    done = raw(api, path, '{"title": "Hotel", "amount": 140000}')
    assert done.status_code == 200, done.content
    assert done.json()["amount_cents"] == 140000 and done.json()["status"] == "pending"
