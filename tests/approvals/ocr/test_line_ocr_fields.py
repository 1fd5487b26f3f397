"""A line's `ocr_fields` (what OCR filled and the person left as read) from the form's
hidden field: only the fields OCR may fill, in one order, whatever else is posted."""

from __future__ import annotations

import pytest

from approvals.forms.report import LineForm


def _line(ocr_fields: str) -> LineForm:
    data = {
        "lines-0-category": "travel",
        "lines-0-amount": "38.50",
        "lines-0-currency": "EUR",
        "lines-0-ocr_fields": ocr_fields,
    }
    return LineForm(data, prefix="lines-0")


@pytest.mark.parametrize(
    "posted,recorded",
    [
        ("amount,date,merchant", ("date", "merchant", "amount")),
        ("vat,currency", ("currency", "vat")),
        ("amount,amount,title,<script>", ("amount",)),
        ("", ()),
    ],
)
def test_only_fields_ocr_may_fill_are_recorded(posted, recorded):
    form = _line(posted)
    assert form.is_valid(), form.errors
    assert form.line().ocr_fields == recorded


def test_a_line_with_only_ocr_fields_is_still_an_empty_line():
    form = LineForm({"lines-0-ocr_fields": "amount", "lines-0-currency": "EUR"}, prefix="lines-0")
    assert not form.has_changed()
