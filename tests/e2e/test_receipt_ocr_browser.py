"""A receipt chosen in a line of the report form is read (Tesseract on the OCR queue)
and its amount, currency, date and merchant appear in the line within seconds, each
marked "check this"; what the person typed stays; on a 375 px phone, in German. On
submit, the uploaded file is the line's receipt and `ocr_fields` lists what was read
and left unchanged."""

from __future__ import annotations

import re
import time

import pytest

from approvals.models import ExpenseLine, ExpenseRequest
from approvals.ocr import samples
from approvals.ocr.models import ReceiptUpload
from tests.approvals.ocr.conftest import ocr_queue, ocr_worker  # noqa: F401 (fixtures)
from tests.support.browser import login

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 375


def _german(amount) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _receipt(sample) -> dict:
    return {"name": "beleg.png", "mimeType": "image/png",
            "buffer": samples.png_bytes(samples.render(sample))}  # fmt: skip


def _badge(line: int, field: str) -> str:
    return f"[data-line-form='lines-{line}'] [data-testid=ocr-filled][data-field={field}]"


def test_a_chosen_receipt_fills_its_line_and_typed_input_stays(
    live_app,
    ocr_worker,  # noqa: F811 (the fixture imported above)
    new_page,
    demo_org,
    settings,
    tmp_path,  # noqa: F811
):
    settings.MEDIA_ROOT = tmp_path / "media"
    german = [s for s in samples.samples(12, seed=11) if s.language == "de"][:2]
    taxi, hotel = german
    page = new_page("de-DE", width=WIDTH)
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/new/")
    page.fill("[name=title]", "Reise nach Hamburg")

    # Line 1: nothing typed; the receipt fills it.
    started = time.monotonic()
    page.set_input_files("[name='lines-0-receipt']", _receipt(taxi))
    page.wait_for_selector(_badge(0, "amount"), timeout=60_000)
    seconds = time.monotonic() - started
    assert seconds < 30, f"filled after {seconds:.1f} s"
    assert page.input_value("[name='lines-0-amount']") == _german(taxi.amount)
    assert page.input_value("[name='lines-0-date']") == taxi.date.isoformat()
    assert page.input_value("[name='lines-0-merchant']") == taxi.merchant
    assert page.input_value("[name='lines-0-currency']") == "EUR"
    assert page.text_content(_badge(0, "merchant")).strip() == "bitte prüfen"
    assert "markierten Felder" in page.text_content(
        "[data-line-form='lines-0'] [data-testid=ocr-status]"
    )
    # The file was uploaded once: the line now names it (no second upload on submit).
    assert page.input_value("[name='lines-0-stashed']")
    assert page.is_visible("[data-line-form='lines-0'] [data-testid=receipt-kept]")

    # Line 2: the amount typed first is the person's and stays.
    page.click("[data-testid=add-line]")
    page.fill("[name='lines-1-amount']", "12,34")
    page.set_input_files("[name='lines-1-receipt']", _receipt(hotel))
    page.wait_for_selector(_badge(1, "merchant"), timeout=60_000)
    assert page.input_value("[name='lines-1-amount']") == "12,34"
    assert page.query_selector(_badge(1, "amount")) is None
    assert page.input_value("[name='lines-1-merchant']") == hotel.merchant

    # Correcting a read field takes its mark away: it is the person's now.
    page.fill("[name='lines-0-merchant']", "Taxi Hamburg")
    assert page.query_selector(_badge(0, "merchant")) is None
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(r"/requests/\d+/$"), timeout=30_000)
    request = ExpenseRequest.objects.get(title="Reise nach Hamburg")
    first, second = ExpenseLine.objects.filter(request=request).order_by("position")
    assert first.amount == taxi.amount and first.merchant == "Taxi Hamburg"
    assert set(first.ocr_fields) == {"amount", "currency", "date", "vat"}
    assert str(second.amount) == "12.34"
    assert "amount" not in second.ocr_fields and "merchant" in second.ocr_fields
    # The receipts are the files read, not uploaded again.
    uploads = {u.sha256 for u in ReceiptUpload.objects.filter(owner=demo_org["emma"])}
    assert {first.receipt_sha256, second.receipt_sha256} == uploads


def test_several_receipts_at_once_fill_one_line_each(
    live_app,
    ocr_worker,  # noqa: F811 (the fixture imported above)
    new_page,
    settings,
    tmp_path,
):
    """emma's trip: two receipts chosen at once (one English in pounds, one German in
    euros) become two lines, each filled from its own receipt."""
    settings.MEDIA_ROOT = tmp_path / "media"
    pool = samples.samples(30, seed=12)
    pounds = next(s for s in pool if s.currency == "GBP")
    euros = next(s for s in pool if s.language == "de")
    page = new_page("en-GB", width=WIDTH)
    login(page, live_app, "emma")
    page.goto(f"{live_app.url}/requests/new/")
    page.set_input_files("[data-testid=receipts]", [_receipt(pounds), _receipt(euros)])
    page.wait_for_selector(_badge(0, "amount"), timeout=60_000)
    page.wait_for_selector(_badge(1, "amount"), timeout=60_000)
    assert page.input_value("[name='lines-0-currency']") == "GBP"
    assert page.input_value("[name='lines-0-amount']") == f"{pounds.amount:,.2f}"
    assert page.input_value("[name='lines-0-merchant']") == pounds.merchant
    assert page.input_value("[name='lines-1-currency']") == "EUR"
    assert page.input_value("[name='lines-1-amount']") == f"{euros.amount:,.2f}"
    assert page.input_value("[name='lines-1-date']") == euros.date.isoformat()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
