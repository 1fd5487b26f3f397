"""/requests/new/ as an expense report: title, description and lines (formset `lines`).

No Temporal here: with `django_db` (no transaction) the workflow's after-commit start
never runs; the service's rows are what is checked.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals.models import ExpenseLine, ExpenseRequest, ReportRound
from tests.approvals.test_views_requests import real_pdf, real_png
from tests.support.web import HTMX, client_for

NEW = "/requests/new/"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def report(*lines: dict, title="Berlin trip", **extra) -> dict:
    data = {
        "title": title,
        "description": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        **extra,
    }
    for n, line in enumerate(lines):
        values = {"currency": "EUR", "category": "travel", **line}
        for name, value in values.items():
            data[f"lines-{n}-{name}"] = value
    return data


def png(name="receipt.png"):
    return SimpleUploadedFile(name, real_png(), content_type="image/png")


def line_error(html: str, n: int, field: str) -> str:
    """The error text at `field` of line n (0-based) of the page."""
    start = html.index(f'data-line-form="lines-{n}"')
    end = html.find("data-line-form=", start + 10)
    part = html[start : end if end > 0 else len(html)]
    marker = f'data-testid="error-{field}">'
    assert marker in part, f"no error at lines-{n}-{field}"
    return part.split(marker, 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize(
    ("language", "typed", "vat", "saved", "saved_vat"),
    [
        ("de", ["38,50", "1.234,56", "89,9"], "6,15", ["38.50", "1234.56", "89.90"], "6.15"),
        ("en", ["38.50", "1,234.56", "89.9"], "6.15", ["38.50", "1234.56", "89.90"], "6.15"),
    ],
)
def test_each_line_amount_is_read_in_the_readers_language(
    demo_org, language, typed, vat, saved, saved_vat
):
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE=language)
    data = report(
        {"amount": typed[0], "merchant": "Taxi Berlin", "date": "2026-12-01", "vat": vat},
        {"amount": typed[1], "merchant": "Hotel Adlon", "category": "travel"},
        {"amount": typed[2], "merchant": "DB", "description": "ICE"},
    )
    response = client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    request = ExpenseRequest.objects.get()
    lines = list(request.lines.order_by("position"))
    assert [str(line.amount) for line in lines] == saved
    assert [line.position for line in lines] == [1, 2, 3]
    assert lines[0].vat == Decimal(saved_vat) and lines[1].vat is None
    assert lines[0].date == date(2026, 12, 1)
    assert lines[0].merchant_key == "taxi berlin"
    # One currency: the headline is the sum, in it; the category of the largest line.
    assert request.amount == sum(Decimal(a) for a in saved) and request.currency == "EUR"
    assert request.base_amount_cents == 136296
    assert ReportRound.objects.get(request=request, round=1).lines[1]["merchant"] == "Hotel Adlon"


def test_a_flat_post_is_still_a_one_line_report(demo_org):
    client = client_for(demo_org["emma"])
    response = client.post(
        NEW, {"title": "Taxi", "amount": "38.50", "currency": "EUR", "category": "travel"}
    )
    assert response.status_code == 302
    request = ExpenseRequest.objects.get()
    (line,) = request.lines.all()
    assert (line.position, line.amount, line.currency, line.category) == (
        1,
        Decimal("38.50"),
        "EUR",
        "travel",
    )
    assert line.base_amount_cents == request.base_amount_cents == 3850


def test_add_line_without_javascript_keeps_what_was_typed(demo_org):
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE="de")
    data = report({"amount": "38,50", "merchant": "Taxi"}, add_line="1")
    response = client.post(NEW, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-TOTAL_FORMS" value="2"' in html
    assert 'name="lines-1-amount"' in html
    assert 'value="38,50"' in html and 'value="Taxi"' in html and 'value="Berlin trip"' in html
    assert 'data-testid="form-errors"' not in html  # adding a line is no error
    assert not ExpenseRequest.objects.exists()


def test_an_added_empty_line_is_skipped(demo_org):
    client = client_for(demo_org["emma"])
    data = report({"amount": "38.50"}, {"amount": "", "currency": "EUR", "category": "travel"})
    assert client.post(NEW, data).status_code == 302
    assert ExpenseLine.objects.count() == 1


def test_a_bad_line_is_refused_at_that_line_and_nothing_typed_is_lost(demo_org):
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE="de")
    data = report(
        {"amount": "38,50", "merchant": "Taxi"},
        {"amount": "12.345", "merchant": "Hotel"},  # German: ambiguous, refused in words
        {"amount": "10,00", "vat": "12,00", "merchant": "Kiosk"},
    )
    response = client.post(NEW, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "12.345" in line_error(html, 1, "amount")
    assert "Mehrwertsteuer" in line_error(html, 2, "vat") or "VAT" in line_error(html, 2, "vat")
    for kept in ('value="38,50"', 'value="12.345"', 'value="Hotel"', 'value="Kiosk"'):
        assert kept in html
    assert not ExpenseRequest.objects.exists()


def test_a_currency_without_a_rate_is_refused_at_its_line(demo_org):
    from approvals.models import ExchangeRate

    ExchangeRate.objects.filter(currency="CHF").delete()
    client = client_for(demo_org["emma"])
    data = report({"amount": "10.00"}, {"amount": "20.00", "currency": "CHF"})
    html = client.post(NEW, data).content.decode()
    assert "no exchange rate for CHF" in line_error(html, 1, "currency")
    assert not ExpenseRequest.objects.exists()


def test_a_report_over_the_maximum_is_refused_with_its_total(demo_org):
    client = client_for(demo_org["emma"])
    data = report({"amount": "600000.00"}, {"amount": "500000.00"})
    response = client.post(NEW, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="report-errors"' in html and "1,100,000.00 EUR" in html
    assert not ExpenseRequest.objects.exists()


def test_each_line_keeps_its_receipt_and_its_hash(demo_org, media):
    import hashlib

    client = client_for(demo_org["emma"])
    pdf = SimpleUploadedFile("hotel.pdf", real_pdf(), content_type="application/pdf")
    data = report({"amount": "38.50", "receipt": png()}, {"amount": "312.00", "receipt": pdf})
    assert client.post(NEW, data).status_code == 302
    first, second = ExpenseLine.objects.order_by("position")
    assert first.receipt.name.endswith(".png") and second.receipt.name.endswith(".pdf")
    assert first.receipt_sha256 == hashlib.sha256(real_png()).hexdigest()
    assert second.receipt_sha256 == hashlib.sha256(real_pdf()).hexdigest()
    assert "hotel" not in second.receipt.name  # the typed name never reaches the disk


def test_a_heic_photo_is_refused_in_words(demo_org):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    client = client_for(demo_org["emma"])
    upload = SimpleUploadedFile("IMG_0001.HEIC", heic, content_type="image/heic")
    html = client.post(NEW, report({"amount": "38.50", "receipt": upload})).content.decode()
    assert "HEIC" in line_error(html, 0, "receipt")
    assert not ExpenseRequest.objects.exists()


def test_a_webp_receipt_is_accepted(demo_org):
    webp = (
        b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00"
        b"\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
    )
    client = client_for(demo_org["emma"])
    upload = SimpleUploadedFile("r.webp", webp, content_type="image/webp")
    assert client.post(NEW, report({"amount": "5.00", "receipt": upload})).status_code == 302
    assert ExpenseLine.objects.get().receipt.name.endswith(".webp")


def test_several_receipts_at_once_without_javascript_make_one_line_each(demo_org, media):
    client = client_for(demo_org["emma"])
    files = [png(f"r{i}.png") for i in range(3)]
    data = report({"amount": "", "category": "travel"}, receipts=files)
    response = client.post(NEW, data)
    html = response.content.decode()
    assert response.status_code == 200  # back for the amounts, the files kept
    assert 'name="lines-TOTAL_FORMS" value="3"' in html
    assert html.count('data-testid="receipt-kept"') == 3
    # Amounts typed, posted again without choosing the files again: three lines, three receipts.
    again = {k: v for k, v in data.items() if k != "receipts"}
    again["lines-TOTAL_FORMS"] = "3"
    for n, amount in enumerate(["38.50", "312.00", "89.90"]):
        again[f"lines-{n}-amount"] = amount
        again[f"lines-{n}-currency"] = "EUR"
        again[f"lines-{n}-category"] = "travel"
        token = html.split(f'name="lines-{n}-stashed" value="', 1)[1].split('"', 1)[0]
        again[f"lines-{n}-stashed"] = token
    assert client.post(NEW, again).status_code == 302
    lines = list(ExpenseLine.objects.order_by("position"))
    assert [str(line.amount) for line in lines] == ["38.50", "312.00", "89.90"]
    assert all(line.receipt and line.receipt_sha256 for line in lines)


def test_a_stashed_receipt_is_only_its_owners(demo_org):
    emma, max_ = client_for(demo_org["emma"]), client_for(demo_org["max"])
    html = emma.post(NEW, report({"amount": "", "receipt": png()}, title="")).content.decode()
    token = html.split('name="lines-0-stashed" value="', 1)[1].split('"', 1)[0]
    assert token
    assert max_.post(NEW, report({"amount": "5.00", "stashed": token})).status_code == 302
    assert not ExpenseLine.objects.get().receipt  # max's line did not get emma's file


def test_a_removed_line_is_not_saved(demo_org):
    client = client_for(demo_org["emma"])
    data = report({"amount": "38.50"}, {"amount": "99.00", "DELETE": "on"})
    assert client.post(NEW, data).status_code == 302
    assert [str(a) for a in ExpenseLine.objects.values_list("amount", flat=True)] == ["38.50"]


def test_attendees_are_kept_for_meals_only(demo_org):
    client = client_for(demo_org["emma"])
    data = report(
        {"amount": "124.00", "category": "meals", "attendees": "Ms Smith (ACME)"},
        {"amount": "38.50", "category": "travel", "attendees": "ignored"},
    )
    assert client.post(NEW, data).status_code == 302
    assert list(ExpenseLine.objects.order_by("position").values_list("attendees", flat=True)) == [
        "Ms Smith (ACME)",
        "",
    ]


def test_the_page_offers_several_receipts_and_the_camera(demo_org):
    html = client_for(demo_org["emma"]).get(NEW).content.decode()
    receipts = html.split('data-testid="receipts"', 1)[0].rsplit("<input", 1)[1]
    assert "multiple" in receipts and 'accept="image/*,application/pdf"' in receipts
    assert 'capture="environment"' in html and 'data-testid="add-line"' in html
    assert 'inputmode="decimal"' in html and 'type="number"' not in html


def test_the_line_amount_hint_reads_the_lines_own_currency(demo_org):
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE="de")
    response = client.get(
        "/requests/amount/", {"lines-2-amount": "1500", "lines-2-currency": "JPY"}, headers=HTMX
    )
    assert 'data-state="read"' in response.content.decode()
    response = client.get(
        "/requests/amount/", {"lines-2-amount": "12,5", "lines-2-currency": "JPY"}, headers=HTMX
    )
    assert 'data-state="refused"' in response.content.decode()


@pytest.mark.parametrize(
    "management",
    [
        {"lines-TOTAL_FORMS": "abc"},
        {"lines-TOTAL_FORMS": "100000"},
        {"lines-TOTAL_FORMS": "-1"},
        {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "x"},
        {"lines-TOTAL_FORMS": "0"},
    ],
)
def test_tampered_line_counts_are_a_4xx_in_words_never_a_500(demo_org, management):
    client = client_for(demo_org["emma"])
    data = {**report({"amount": "38.50"}), **management}
    for extra in ({}, {"add_line": "1"}):
        response = client.post(NEW, {**data, **extra})
        assert response.status_code in (200, 400), response.status_code
        html = response.content.decode()
        assert 'data-testid="form-errors"' in html or 'name="lines-' in html
    assert ExpenseRequest.objects.count() <= 1
