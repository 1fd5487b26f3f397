"""Amounts on the pages, in English and German: the new-request form reads what the
reader typed (or refuses it at the field, saving nothing), every money input is a
text input with a decimal keypad, the live hint shows the amount as understood,
and a request's page shows it localised."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from approvals.forms.audit import AuditSearchForm
from approvals.forms.inbox import InboxFilterForm
from approvals.models import ExpenseRequest
from approvals.policy.forms import PolicyForm
from approvals.services import decision_record
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.web import HTMX, client_for

NEW = "/requests/new/"
HINT = "/requests/amount/"


def german_or_english(user, language: str) -> Client:
    return client_for(user, HTTP_ACCEPT_LANGUAGE=language)


def post_new(client: Client, amount: str, currency: str = "EUR"):
    return client.post(
        NEW, {"title": "Hotel", "amount": amount, "currency": currency, "category": "travel"}
    )


def error_of(html: str) -> str:
    marker = 'data-testid="error-amount">'
    assert marker in html, "no inline error for the amount"
    return html.split(marker, 1)[1].split("</p>", 1)[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "typed", "saved"),
    [
        ("de", "38,50", Decimal("38.50")),
        ("de", "1.450,00", Decimal("1450.00")),
        ("de", "1450", Decimal("1450.00")),
        ("de", "12.345,6", Decimal("12345.60")),
        ("en", "1,450.00", Decimal("1450.00")),
        ("en", "38.50", Decimal("38.50")),
        ("en", "1 450.5", Decimal("1450.50")),
    ],
)
def test_the_form_saves_exactly_the_typed_amount(demo_org, language, typed, saved):
    response = post_new(german_or_english(demo_org["emma"], language), typed)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ExpenseRequest.objects.get().amount == saved


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "typed", "words"),
    [
        # Could be 1450 or 1.45: the message shows how to write either.
        ("de", "1.450", "„1.450“ lässt sich auf zwei Arten lesen. Schreiben Sie 1.450,00 oder"),
        ("en", "1,450", "“1,450” can be read two ways. Write 1,450.00 or 1.45."),
        ("en", "1.450", "“1.450” can be read two ways. Write 1,450.00 or 1.45."),
        # Written the other language's way: shown this language's way.
        ("de", "38.50", "Schreiben Sie 38,50"),
        ("en", "38,50", "Write 38.50"),
        ("en", "1,5", "Write 1.50"),
        ("de", "1,450.00", "Schreiben Sie 1.450,00"),
        ("en", "1.450,00", "Write 1,450.00"),
        ("de", "abc", "Geben Sie einen Betrag wie 1.450,00 ein."),
        ("en", "12,3456", "Use at most two decimals."),  # however it is read
        ("de", "12,345", "„12,345“ lässt sich auf zwei Arten lesen. Schreiben Sie 12.345,00."),
    ],
)
def test_an_amount_that_is_not_unambiguous_is_refused_at_the_field(
    demo_org, language, typed, words
):
    response = post_new(german_or_english(demo_org["emma"], language), typed)
    assert response.status_code == 400
    assert words in error_of(response.content.decode())
    assert f'value="{typed}"' in response.content.decode()  # kept as typed
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_decimals_the_currency_has_not_are_refused_in_its_words(demo_org):
    german = german_or_english(demo_org["emma"], "de")
    assert "JPY hat keine Nachkommastellen" in error_of(
        post_new(german, "1500,5", "JPY").content.decode()
    )
    assert "höchstens zwei Nachkommastellen" in error_of(
        post_new(german, "12,345 6".replace(" ", ""), "EUR").content.decode()
    )
    assert not ExpenseRequest.objects.exists()
    assert post_new(german, "150.000", "JPY").status_code == 400  # 150000 or 150? refused
    assert post_new(german, "150.000.000", "JPY").status_code == 302
    assert ExpenseRequest.objects.get().amount == Decimal("150000000")


@pytest.mark.django_db
def test_the_maximum_is_named_in_the_readers_language(demo_org):
    german = german_or_english(demo_org["emma"], "de")
    assert "höchstens 1.000.000,00" in error_of(post_new(german, "1.000.000,01").content.decode())
    english = german_or_english(demo_org["emma"], "en")
    assert "at most 1,000,000.00" in error_of(post_new(english, "1,000,000.01").content.decode())


# Every input that takes money: amounts, filters and the policy's thresholds (EUR).
MONEY_INPUT = re.compile(
    r'<input type="(?P<type>\w+)" name="(?P<name>[\w-]*amount|[\w]*levels_from)"[^>]*>'
)


def money_inputs(html: str) -> dict[str, str]:
    return {m["name"]: m.group(0) for m in MONEY_INPUT.finditer(html)}


@pytest.mark.django_db
def test_every_money_input_is_text_with_a_decimal_keypad(demo_org):
    admin = german_or_english(demo_org["admin"], "de")
    emma = german_or_english(demo_org["emma"], "de")
    pages = {
        NEW: emma,
        "/inbox/": german_or_english(demo_org["max"], "de"),
        "/audit/": admin,
    }
    draft = admin.post("/policy/draft/")
    pages[draft.url] = admin
    seen = {}
    for path, client in pages.items():
        html = client.get(path).content.decode()
        seen |= {f"{path} {name}": tag for name, tag in money_inputs(html).items()}
    expected = {"/requests/new/ lines-0-amount", "/inbox/ min_amount", "/audit/ max_amount"}
    assert expected <= set(seen)
    assert any(key.endswith("two_levels_from") for key in seen)
    assert any(key.endswith("rule-0-below_amount") for key in seen)
    for key, tag in seen.items():
        assert 'type="text"' in tag and 'inputmode="decimal"' in tag, key


@pytest.mark.django_db
def test_thresholds_and_filters_read_german_amounts(demo_org):
    with translation.override("de"):
        policy = PolicyForm(
            {
                "two_levels_from": "1.000,00",
                "three_levels_from": "10.000",
                "max_amount": "1.000.000",
            }
        )
        assert not policy.is_valid()  # "10.000": ten thousand or ten?
        assert "zwei Arten" in policy.errors["three_levels_from"][0]
        policy = PolicyForm(
            {"two_levels_from": "1.000,00", "three_levels_from": "10000", "max_amount": "1.000.000"}
        )
        assert policy.is_valid(), policy.errors
        assert policy.cleaned_data["max_amount"] == Decimal("1000000.00")
        inbox = InboxFilterForm({"min_amount": "0", "max_amount": "2.500,50"})
        assert inbox.is_valid() and inbox.cleaned_data["max_amount"] == Decimal("2500.50")
        assert not AuditSearchForm({"min_amount": "2.500"}).is_valid()
        assert not AuditSearchForm({"min_amount": "-1"}).is_valid()


@pytest.mark.django_db
def test_a_page_with_a_german_filter_amount_answers_and_never_fails(demo_org):
    max_ = german_or_english(demo_org["max"], "de")
    accepted = max_.get("/inbox/", {"min_amount": "1.000,00"})
    assert accepted.status_code == 200
    assert 'data-testid="filter-errors"' not in accepted.content.decode()
    refused = max_.get("/inbox/", {"min_amount": "1.000"})
    assert refused.status_code == 200
    assert 'data-testid="filter-errors"' in refused.content.decode()
    assert "Schreiben Sie 1.000,00 oder 1,00." in refused.content.decode()
    audit = german_or_english(demo_org["admin"], "de").get("/audit/", {"min_amount": "1.000"})
    assert audit.status_code == 200
    assert 'data-field="min_amount"' in audit.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "params", "state", "words"),
    [
        ("de", {"amount": "1.450,00"}, "read", "Verstanden als 1.450,00 EUR"),
        ("de", {"amount": "38,5"}, "read", "Verstanden als 38,50 EUR"),
        ("en", {"amount": "1,450.00"}, "read", "Understood as 1,450.00 EUR"),
        ("en", {"amount": "1500", "currency": "JPY"}, "read", "Understood as 1,500 JPY"),
        ("de", {"amount": "1.450"}, "refused", "Schreiben Sie 1.450,00 oder 1,45."),
        ("en", {"amount": "12.5", "currency": "JPY"}, "refused", "JPY has no decimals"),
        ("en", {"amount": "<b>1</b>", "currency": "<i>"}, "refused", "such as 1,450.00"),
    ],
)
def test_the_hint_shows_the_amount_as_understood(demo_org, language, params, state, words):
    response = german_or_english(demo_org["emma"], language).get(HINT, params, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-state="{state}"' in html and words in html
    assert "<b>" not in html and "<i>" not in html


@pytest.mark.django_db
def test_the_form_offers_the_hint_with_an_example_in_the_readers_language(demo_org):
    html = german_or_english(demo_org["emma"], "de").get(NEW).content.decode()
    assert 'data-testid="amount-hint"' in html and "1.450,00" in html
    assert 'hx-get="/requests/amount/"' in html and 'aria-describedby="lines-0-amount-hint"' in html
    english = german_or_english(demo_org["emma"], "en").get(NEW).content.decode()
    assert "1,450.00" in english


@pytest.mark.django_db(transaction=True)
def test_a_resubmission_reads_german_amounts_and_shows_the_old_one_as_typed(demo_org, worker):
    request = submit(demo_org["emma"], "1450.00")
    wait_pending_level(request, 1)
    decision_record(
        request=request, actor=demo_org["max"], action="request_changes", comment="Which hotel?"
    )
    wait_status(request, "changes_requested")
    emma = german_or_english(demo_org["emma"], "de")
    page = emma.get(f"/requests/{request.pk}/").content.decode()
    assert re.search(r'name="lines-0-amount" value="1\.450,00" inputmode="decimal"', page)
    refused = emma.post(f"/requests/{request.pk}/resubmit/", {"title": "Hotel", "amount": "1.380"})
    assert refused.status_code == 400
    assert "zwei Arten" in refused.content.decode()
    done = emma.post(f"/requests/{request.pk}/resubmit/", {"title": "Hotel", "amount": "1.380,50"})
    assert done.status_code == 302
    wait_status(request, "pending")
    assert request.amount == Decimal("1380.50")
    assert "1.380,50 EUR" in emma.get(f"/requests/{request.pk}/").content.decode()
