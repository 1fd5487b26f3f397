"""Input normalisation at the edge (core/text.py) and the forms that use it."""

from __future__ import annotations

import unicodedata

import pytest
from django.test import Client

from approvals.forms.inbox import DecisionForm
from approvals.forms.requests import ExpenseForm, ResubmitForm
from approvals.models import ExpenseRequest
from core.text import CleanCharField, clean_text, header_line

EVIL_TITLE = "Taxi\rBcc: evil@example.com"
BIDI = "Invoice \u202eexe.pdf\u202c and \u2066isolated\u2069"


def test_header_line_folds_a_carriage_return_title_to_one_safe_line():
    line = header_line(f"Expense request #7 awaits your decision: {EVIL_TITLE}")
    assert "\r" not in line and "\n" not in line
    assert line.endswith("Taxi Bcc: evil@example.com")


def test_header_line_drops_control_characters_and_caps_the_length():
    line = header_line("a\x00b\x1bc\x7fd\x85e\u2028f" + "x" * 500, limit=40)
    assert line.startswith("abcde f")
    assert len(line) == 40 and line.endswith("…")


def test_bidi_overrides_and_isolates_are_removed():
    cleaned = clean_text(BIDI, multiline=False)
    assert cleaned == "Invoice exe.pdf and isolated"
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in cleaned)


def test_text_is_nfc_normalised():
    decomposed = "Cafe\u0301 Mu\u0308nchen"
    cleaned = clean_text(decomposed, multiline=False)
    assert cleaned == "Café München"
    assert unicodedata.is_normalized("NFC", cleaned)


def test_multiline_keeps_line_breaks_and_tabs_and_normalises_cr():
    assert clean_text("a\r\nb\rc\nd\te\x0bf", multiline=True) == "a\nb\nc\nd\tef"
    assert clean_text("a\r\nb\tc", multiline=False) == "a b c"


def test_a_2000_character_comment_with_line_breaks_is_accepted():
    comment = ("a" * 99 + "\r\n") * 19 + "a" * 100  # 2000 as the browser's maxlength counts
    form = DecisionForm({"action": "reject", "comment": comment})
    assert form.is_valid(), form.errors
    assert len(form.cleaned_data["comment"]) == 2000
    assert "\r" not in form.cleaned_data["comment"]


def test_2001_characters_are_refused_with_the_count():
    form = DecisionForm({"action": "reject", "comment": "x" * 2001})
    assert not form.is_valid()
    assert "at most 2000 characters" in form.errors["comment"][0]
    assert "2001" in form.errors["comment"][0]


def test_expense_form_cleans_title_and_description():
    form = ExpenseForm(
        {
            "title": EVIL_TITLE,
            "amount": "12.00",
            "currency": "EUR",
            "category": "travel",
            "description": "line one\r\nline two \u202eevil",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["title"] == "Taxi Bcc: evil@example.com"
    assert form.cleaned_data["description"] == "line one\nline two evil"


def test_a_title_of_control_characters_only_is_required():
    form = ExpenseForm(
        {"title": "\x00\u202e\r", "amount": "1", "currency": "EUR", "category": "travel"}
    )
    assert not form.is_valid() and "title" in form.errors


def test_resubmit_form_cleans_title_and_comment():
    form = ResubmitForm({"title": "A\u0308\rB", "amount": "5", "comment": "x\r\ny\x07"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["title"] == "Ä B"
    assert form.cleaned_data["comment"] == "x\ny"


def test_clean_char_field_sets_the_browser_maxlength():
    field = CleanCharField(multiline=True, max_length=2000)
    assert field.widget_attrs(field.widget)["maxlength"] == "2000"


@pytest.mark.django_db
def test_the_new_request_page_saves_the_cleaned_title(demo_org):
    client = Client()
    client.force_login(demo_org["emma"])
    data = {"title": EVIL_TITLE, "amount": "12.00", "currency": "EUR", "category": "travel"}
    # No worker: the request stays queued, which is all this test needs.
    response = client.post("/requests/new/", data)
    assert response.status_code == 302
    assert ExpenseRequest.objects.get().title == "Taxi Bcc: evil@example.com"
