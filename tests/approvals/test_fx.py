"""Exchange rates: the ECB loader, the rate a submission pins, EUR thresholds, JPY.

Thresholds are in EUR: 999 GBP (about 1,169 EUR) needs two levels and
9,999 SEK (about 892 EUR) one, with the rates shipped for the demo.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from approvals import money, services
from approvals.effects import projection
from approvals.management.commands.seed_demo import RATES_FILE
from approvals.models import ExchangeRate, ExpenseRequest
from approvals.selectors.fx import rate_on
from approvals.selectors.inbox import row_from_event
from approvals.services.commands import base_cents_at_pinned_rate
from approvals.temporal import starter
from approvals.workflow.contract import SA_AMOUNT, ApprovalState, LevelState, PolicySnapshot
from tests.support.requests import describe, wait_pending_level
from tests.support.requests import submit as submit_and_start
from tests.support.waiting import wait_for

SHIPPED_DAY = date(2026, 11, 30)

HISTORY = """Date,USD,JPY,BGN,CYP,GBP,SEK,
2026-11-30,1.1642,180.62,N/A,N/A,0.8547,11.2040,
2026-11-27,1.1600,180.10,N/A,N/A,0.8530,11.1900,
2008-01-02,1.4700,165.00,1.9558,0.5842,0.7400,9.4000,
"""


def load(path: Path) -> str:
    out = io.StringIO()
    call_command("load_fx_rates", str(path), stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "rates.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ money arithmetic
def test_minor_units_follow_the_currency_exponent():
    assert money.to_minor(Decimal("12.34"), "EUR") == 1234
    assert money.to_minor(Decimal("1500"), "JPY") == 1500  # the yen has no cents
    assert money.from_minor(1500, "JPY") == Decimal("1500")
    assert money.from_minor(1234, "GBP") == Decimal("12.34")
    assert money.has_too_many_decimals(Decimal("1500.50"), "JPY")
    assert not money.has_too_many_decimals(Decimal("1500.00"), "JPY")
    assert money.has_too_many_decimals(Decimal("1.234"), "EUR")


def test_conversion_to_eur_cents_rounds_half_up():
    assert money.to_base_cents(Decimal("999"), "GBP", Decimal("0.8547")) == 116883  # 1168.8311
    assert money.to_base_cents(Decimal("9999"), "SEK", Decimal("11.2040")) == 89245
    assert money.to_base_cents(Decimal("1500"), "JPY", Decimal("180.62")) == 830
    assert money.to_base_cents(Decimal("10.00"), "EUR", Decimal("1")) == 1000
    assert money.to_base_cents(Decimal("0.05"), "GBP", Decimal("2")) == 3  # 2.5 cents


# ------------------------------------------------------------------ loader
@pytest.mark.django_db
def test_the_shipped_daily_file_loads_every_currency_of_its_day():
    output = load(RATES_FILE)
    assert "29 rates loaded for 29 currencies (2026-11-30)" in output
    gbp = ExchangeRate.objects.get(currency="GBP")
    assert (gbp.rate, gbp.rate_date) == (Decimal("0.854700"), SHIPPED_DAY)
    assert "ECB" in gbp.source and "eurofxref.csv" in gbp.source
    for code in ("USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "JPY"):
        assert ExchangeRate.objects.filter(currency=code, rate_date=SHIPPED_DAY).exists(), code
    assert not ExchangeRate.objects.filter(currency="").exists()  # the trailing column


@pytest.mark.django_db
def test_the_history_file_skips_na_and_keeps_every_day(tmp_path):
    output = load(write(tmp_path, HISTORY, "eurofxref-hist.csv"))
    # 3 days x 4 always-quoted currencies + BGN and CYP once each (N/A elsewhere)
    assert "14 rates loaded for 6 currencies (2008-01-02 to 2026-11-30)" in output
    assert ExchangeRate.objects.filter(currency="CYP").count() == 1
    assert ExchangeRate.objects.get(currency="SEK", rate_date=date(2026, 11, 27)).rate == Decimal(
        "11.19"
    )


@pytest.mark.django_db
def test_loading_again_updates_in_place(tmp_path):
    load(write(tmp_path, HISTORY))
    corrected = HISTORY.replace("0.8547", "0.8551")
    load(write(tmp_path, corrected, "corrected.csv"))
    assert ExchangeRate.objects.count() == 14
    gbp = ExchangeRate.objects.get(currency="GBP", rate_date=SHIPPED_DAY)
    assert gbp.rate == Decimal("0.8551") and "corrected.csv" in gbp.source


@pytest.mark.django_db
def test_the_zip_the_ecb_serves_is_read_too(tmp_path):
    path = tmp_path / "eurofxref.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("eurofxref.csv", RATES_FILE.read_text())
    assert "29 rates loaded" in load(path)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("Currency,Rate\nUSD,1.16\n", "not an ECB reference-rate CSV"),
        ("Date, USD, \n30/11/2026, 1.16, \n", "line 2: '30/11/2026' is not a date"),
        ("Date, USD, GBP, \n30 November 2026, 1.16, abc, \n", "line 2, GBP: 'abc' is not a number"),
        ("Date, USD, \n30 November 2026, -1.16, \n", "is not positive"),
        ("Date, USD, \n30 November 2026, N/A, \n", "the file holds no rates"),
        ("Date, US Dollar, \n30 November 2026, 1.16, \n", "not a currency code"),
    ],
)
def test_a_bad_file_is_a_clear_command_error_and_saves_nothing(tmp_path, text, message):
    with pytest.raises(CommandError) as info:
        load(write(tmp_path, text))
    assert message in str(info.value)
    assert ExchangeRate.objects.count() == 0


@pytest.mark.django_db
def test_a_missing_or_binary_file_is_a_clear_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        load(tmp_path / "nowhere.csv")
    binary = tmp_path / "rates.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(CommandError, match="not a text file"):
        load(binary)


# ------------------------------------------------------------------ lookup
@pytest.mark.django_db
def test_the_rate_of_a_day_is_the_newest_on_or_before_it(tmp_path):
    load(write(tmp_path, HISTORY))
    assert rate_on(currency="GBP", day=date(2026, 11, 29)).rate_date == date(2026, 11, 27)
    assert rate_on(currency="GBP", day=SHIPPED_DAY).rate == Decimal("0.8547")
    assert rate_on(currency="GBP", day=date(2027, 1, 5)).rate_date == SHIPPED_DAY
    assert rate_on(currency="GBP", day=date(2008, 1, 1)) is None
    assert rate_on(currency="CHF", day=SHIPPED_DAY) is None


# ------------------------------------------------------------------ pinned at submission
def submit(user, amount: str, currency: str, **extra) -> ExpenseRequest:
    # Plain `db` tests: the after-commit workflow start never runs (no Temporal needed).
    return services.expense_submit(
        requester=user,
        title=extra.get("title", "Conference"),
        amount=Decimal(amount),
        currency=currency,
        category=extra.get("category", "training"),
    )


@pytest.mark.django_db
def test_seed_demo_loads_the_shipped_rates(demo_org):
    assert ExchangeRate.objects.filter(rate_date=SHIPPED_DAY).count() == 29


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "currency", "levels", "as_if_eur"),
    [("999.00", "GBP", 2, 1), ("9999.00", "SEK", 1, 2)],
)
def test_thresholds_compare_the_eur_amount(demo_org, amount, currency, levels, as_if_eur):
    request = submit(demo_org["emma"], amount, currency)
    policy = PolicySnapshot(**request.policy_snapshot)
    assert policy.levels_for(request.base_amount_cents) == levels
    assert policy.levels_for(request.amount_cents) == as_if_eur  # the old bug


@pytest.mark.django_db
def test_the_request_pins_amount_rate_and_rate_date(demo_org):
    request = submit(demo_org["emma"], "999.00", "GBP")
    request.refresh_from_db()
    assert (request.amount, request.currency) == (Decimal("999.00"), "GBP")
    assert request.base_amount_cents == 116883
    assert (request.fx_rate, request.fx_rate_date) == (Decimal("0.854700"), SHIPPED_DAY)
    # A later correction of the rate changes nothing already submitted.
    ExchangeRate.objects.filter(currency="GBP").update(rate=Decimal("0.5"))
    request.refresh_from_db()
    assert request.base_amount_cents == 116883


@pytest.mark.django_db
def test_a_rate_dated_after_the_submission_day_is_not_used(demo_org):
    tomorrow = timezone.localdate() + timedelta(days=1)
    ExchangeRate.objects.create(currency="GBP", rate=Decimal("0.5"), rate_date=tomorrow)
    request = submit(demo_org["emma"], "100.00", "GBP")
    assert request.fx_rate_date <= timezone.localdate()
    assert request.fx_rate == Decimal("0.8547")


@pytest.mark.django_db
def test_eur_pins_rate_one_on_the_submission_day(demo_org):
    request = submit(demo_org["emma"], "120.50", "EUR")
    assert (request.base_amount_cents, request.fx_rate) == (12050, Decimal(1))
    assert request.fx_rate_date == timezone.localdate()


@pytest.mark.django_db
def test_the_workflow_input_carries_the_pinned_conversion(demo_org):
    request = submit(demo_org["emma"], "1500", "JPY")
    request.refresh_from_db()
    inp = starter.workflow_input(request)
    assert inp.amount_cents == 1500  # yen: no minor unit
    assert inp.base_amount_cents == 830
    assert Decimal(inp.fx_rate) == Decimal("180.62")
    assert inp.fx_rate_date == "2026-11-30"


@pytest.mark.django_db
def test_resubmission_converts_at_the_pinned_rate(demo_org):
    request = submit(demo_org["emma"], "999.00", "GBP")
    ExchangeRate.objects.filter(currency="GBP").update(rate=Decimal("0.5"))  # not used
    assert base_cents_at_pinned_rate(request, Decimal("500.00")) == 58500  # 500 / 0.8547
    # The projection of a resubmitted amount keeps the EUR amount in step.
    state = ApprovalState(
        request_id=request.pk,
        requester="emma",
        requester_display="Emma Engel",
        title="Conference",
        amount_cents=50000,
        currency="GBP",
        submitted_at=timezone.now().isoformat(),
        status="pending",
        current_level=1,
        levels=[LevelState(level=1, approvers=["max"], original_approvers=["max"])],
        pending_approvers=["max"],
        seq=5,
    )
    projection.apply_state(state)
    request.refresh_from_db()
    assert (request.amount, request.base_amount_cents) == (Decimal("500.00"), 58500)


# ------------------------------------------------------------------ the form
def post(user, language: str = "en", **data) -> str:
    client = Client()
    client.force_login(user)
    # "100" reads the same in English and German.
    payload = {"title": "Laptop", "amount": "100", "currency": "EUR", "category": "equipment"}
    payload.update(data)
    response = client.post("/requests/new/", payload, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400, response.status_code
    return response.content.decode()


def error_of(html: str, field: str) -> str:
    marker = f'data-testid="error-{field}">'
    assert marker in html, f"no inline error for {field}"
    return html.split(marker, 1)[1].split("</p>", 1)[0]


@pytest.mark.django_db
def test_a_currency_without_a_rate_is_refused_in_english_and_german(demo_org):
    ExchangeRate.objects.filter(currency="USD").delete()
    english = error_of(post(demo_org["emma"], currency="USD"), "currency")
    assert "There is no exchange rate for USD" in english
    assert "converted to EUR" in english
    german = error_of(post(demo_org["emma"], "de", currency="USD"), "currency")
    assert "Für USD gibt es keinen Wechselkurs" in german
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_jpy_refuses_decimals_in_english_and_german(demo_org):
    english = error_of(post(demo_org["emma"], amount="1500.50", currency="JPY"), "amount")
    assert "JPY has no decimals" in english
    german = error_of(post(demo_org["emma"], "de", amount="1500.50", currency="JPY"), "amount")
    assert "JPY hat keine Nachkommastellen" in german
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_the_maximum_is_in_eur_whatever_the_currency(demo_org):
    # 150 million yen is about 830,000 EUR: below the 1,000,000 EUR maximum.
    assert submit(demo_org["emma"], "150000000", "JPY").base_amount_cents == 83047282
    html = post(demo_org["emma"], amount="200000000", currency="JPY")
    assert "at most 1,000,000.00 EUR" in error_of(html, "amount")
    # In EUR the form keeps its own message.
    assert "at most 1,000,000.00" in error_of(post(demo_org["emma"], amount="1000000.01"), "amount")


@pytest.mark.django_db
def test_the_request_page_shows_jpy_without_decimals_and_the_eur_amount(demo_org):
    request = submit(demo_org["emma"], "1500", "JPY")
    client = Client()
    client.force_login(demo_org["emma"])
    html = client.get(f"/requests/{request.pk}/").content.decode()
    amount = html.split('data-testid="amount">', 1)[1].split("</dd>", 1)[0]
    assert amount.startswith("1,500 JPY")
    assert "1,500.00" not in amount
    assert 'data-testid="base-amount"' in amount
    assert "≈ 8.30 EUR" in amount and "1 EUR = 180.62 JPY" in amount and "30/11/2026" in amount
    german = client.get(f"/requests/{request.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "≈ 8,30 EUR" in german and "1 EUR = 180,62 JPY, Kurs vom 30.11.2026" in german


@pytest.mark.django_db
def test_an_eur_request_shows_no_conversion(demo_org):
    request = submit(demo_org["emma"], "120.50", "EUR")
    client = Client()
    client.force_login(demo_org["emma"])
    html = client.get(f"/requests/{request.pk}/").content.decode()
    assert "120.50 EUR" in html
    assert 'data-testid="base-amount"' not in html


def test_a_live_inbox_row_shows_the_eur_amount_and_the_rate():
    event = {
        "request_id": 7,
        "title": "Conference",
        "requester": "emma",
        "requester_display": "Emma Engel",
        "amount_cents": 99900,
        "currency": "GBP",
        "pending": ["max"],
        "base_amount_cents": 116883,
        "fx_rate": "0.854700",
        "fx_rate_date": "2026-11-30",
    }
    html = render_to_string("approvals/_inbox_row.html", {"row": row_from_event(event)})
    assert "999.00 GBP" in html
    assert 'data-testid="row-base-amount"' in html
    assert "≈ 1,168.83 EUR" in html and "1 EUR = 0.8547 GBP" in html
    eur = render_to_string(
        "approvals/_inbox_row.html",
        {"row": row_from_event({**event, "currency": "EUR", "fx_rate": "1"})},
    )
    assert 'data-testid="row-base-amount"' not in eur


# ------------------------------------------------------------------ through Temporal
@pytest.mark.django_db(transaction=True)
def test_the_inbox_row_shows_the_pinned_eur_amount_from_the_memo(demo_org, worker):
    request = submit_started(demo_org["emma"], "999.00", "GBP")
    wait_pending_level(request, 1)
    client = Client()
    client.force_login(demo_org["max"])

    def row() -> str | None:
        html = client.get("/inbox/").content.decode()
        marker = f'data-request-id="{request.pk}"'
        return html.split(marker, 1)[1].split('class="decision"', 1)[0] if marker in html else None

    html = wait_for(row, message="the request never reached max's inbox")
    assert "999.00 GBP" in html
    assert 'data-testid="row-base-amount"' in html
    assert "≈ 1,168.83 EUR" in html and "1 EUR = 0.8547 GBP" in html


@pytest.mark.django_db(transaction=True)
def test_amount_cents_search_attribute_is_in_eur(demo_org, worker):
    request = submit_started(demo_org["emma"], "999.00", "GBP")
    wait_pending_level(request, 1)
    attrs = describe(request.pk).typed_search_attributes
    assert attrs.get(SA_AMOUNT) == 116883


def submit_started(user, amount: str, currency: str) -> ExpenseRequest:
    return submit_and_start(user, amount, title="Conference", currency=currency)
