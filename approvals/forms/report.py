"""The expense report form: title and description, and its lines as a formset (`lines`).

Each line's amount and VAT are text read in the reader's language (`AmountField`),
in the line's own currency. The report's total against the policy's maximum is the
submission's to check (services.expense_submit), with the pinned rates.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from ..lines import LineData
from ..models import CURRENCIES, Category
from ..receipt_check import check_receipt
from ..receipt_stash import stash, unstash
from .amounts import AMOUNT_CEILING, AmountField
from .requests import MAX_TEXT, RECEIPT_ACCEPT

PREFIX = "lines"
# The line fields OCR may fill (approvals/ocr), in the order they are recorded.
OCR_FIELDS = ("date", "merchant", "amount", "currency", "vat")
MAX_LINES = 50


class ReportForm(forms.Form):
    title = CleanCharField(label=_("Title"), max_length=200)
    description = CleanCharField(
        label=_("Description"), required=False, multiline=True, max_length=MAX_TEXT
    )
    submit_token = forms.CharField(
        required=False, max_length=64, initial=lambda: str(uuid.uuid4()), widget=forms.HiddenInput
    )

    def clean_title(self):
        title = self.cleaned_data["title"]
        if not title.strip():
            raise forms.ValidationError(_("The title must not be empty."))
        return title

    def clean_submit_token(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.cleaned_data["submit_token"])
        except ValueError:
            return None


class ResubmitReportForm(forms.Form):
    """The resubmission's title and note; its lines are a `LineFormSet` beside it."""

    title = CleanCharField(label=_("Title"), max_length=200)
    comment = CleanCharField(
        label=_("What changed"),
        required=False,
        multiline=True,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_title(self):
        title = self.cleaned_data["title"]
        if not title.strip():
            raise forms.ValidationError(_("The title must not be empty."))
        return title


def initial_lines(request) -> list[dict]:
    """The report's lines as the resubmit formset's initial data (each keeps its place)."""
    return [
        {
            "date": line.date,
            "merchant": line.merchant,
            "category": line.category,
            "amount": line.amount,
            "currency": line.currency,
            "vat": line.vat,
            "description": line.description,
            "attendees": line.attendees,
            "keep": line.position,
            "has_receipt": bool(line.receipt),
        }
        for line in request.lines.all()
    ]


class LineForm(forms.Form):
    """One line. `max_amount` (EUR) bounds a EUR line; other currencies are bounded by the
    column and checked in EUR at submission."""

    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    merchant = CleanCharField(label=_("Merchant"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    amount = AmountField(label=_("Amount"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES, initial="EUR")
    vat = AmountField(label=_("VAT (optional)"), required=False, allow_zero=True)
    description = CleanCharField(
        label=_("What for"), max_length=1000, required=False, multiline=False
    )
    attendees = CleanCharField(
        label=_("Attendees (for meals)"), max_length=500, required=False, multiline=False
    )
    receipt = forms.FileField(
        label=_("Receipt (image or PDF, up to 10 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": RECEIPT_ACCEPT}),
    )
    # The phone's camera: a second input that opens it (the receipt input opens files).
    photo = forms.FileField(
        label=_("Take photo"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/*,application/pdf", "capture": "environment"}
        ),
    )
    # Resubmission: the position of the existing line this one continues (keeps its
    # receipt unless a new one is chosen); empty for a new line.
    keep = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_LINES, widget=forms.HiddenInput
    )
    # A receipt chosen in an earlier post of this form (receipt_stash): kept, not lost.
    stashed = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
    # The fields OCR filled and the person left unchanged (static/js/receipt-ocr.js keeps
    # it), comma-separated: recorded on the line so approvers know what was read.
    ocr_fields = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    # What makes a line more than the empty one "add line" offers.
    CONTENT = ("date", "merchant", "amount", "vat", "description", "attendees", "stashed")

    def __init__(
        self, *args, max_amount: Decimal | None = None, user_id: int | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.user_id = user_id
        if self.is_bound:
            currency = self.data.get(self.add_prefix("currency"))
        else:
            currency = self.initial.get("currency", "EUR")
        if currency not in dict(CURRENCIES):
            currency = "EUR"  # the currency field says what is wrong with it
        for name in ("amount", "vat"):
            field = self.fields[name]
            field.currency = currency
            field.max_value = AMOUNT_CEILING
        if currency == "EUR" and max_amount is not None:
            self.fields["amount"].max_value = max_amount
        currency_name = self.add_prefix("currency")
        self.fields["amount"].widget.attrs.update(
            {
                # As the person types: how the server reads it (views.amount_hint).
                "hx-get": reverse_lazy("amount-hint"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": f"#{self.prefix}-amount-hint",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                "hx-include": f"[name='{currency_name}']",
                "aria-describedby": f"{self.prefix}-amount-hint",
            }
        )

    def has_changed(self) -> bool:
        """An added line left empty is skipped (its currency and category have defaults)."""
        if not self.is_bound:
            return False
        if any(self[name].value() not in (None, "") for name in self.CONTENT):
            return True
        return any(self.files.get(self.add_prefix(name)) for name in ("receipt", "photo"))

    def clean_receipt(self):
        return check_receipt(self.cleaned_data.get("receipt"))

    def clean_stashed(self):
        token = self.cleaned_data.get("stashed", "")
        self.kept_file = unstash(token, user_id=self.user_id) if self.user_id else None
        return token if self.kept_file is not None else ""

    def clean_ocr_fields(self) -> tuple[str, ...]:
        named = (self.cleaned_data.get("ocr_fields") or "").split(",")
        return tuple(name for name in OCR_FIELDS if name in named)

    def clean_photo(self):
        return check_receipt(self.cleaned_data.get("photo"))

    def clean(self):
        data = super().clean()
        amount, vat = data.get("amount"), data.get("vat")
        if amount is not None and vat is not None and vat > amount:
            self.add_error("vat", _("The VAT cannot be more than the line's amount."))
        return data

    def line(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            amount=data["amount"],
            currency=data["currency"],
            category=data["category"],
            date=data.get("date"),
            merchant=data.get("merchant", ""),
            vat=data.get("vat"),
            description=data.get("description", ""),
            attendees=data.get("attendees", "") if data["category"] == "meals" else "",
            receipt=data.get("receipt") or data.get("photo") or getattr(self, "kept_file", None),
            origin=data.get("keep"),
            ocr_fields=data.get("ocr_fields", ()),
        )


def too_few_lines() -> str:
    return str(BaseLineFormSet.default_error_messages["too_few_forms"])


class BaseLineFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": _("A report needs at least one line with an amount."),
        "too_many_forms": _("A report has at most %(num)d lines."),
    }

    def __init__(
        self, *args, max_amount: Decimal | None = None, user_id: int | None = None, **kwargs
    ):
        kwargs.setdefault("prefix", PREFIX)
        kwargs.setdefault("form_kwargs", {}).update(max_amount=max_amount, user_id=user_id)
        super().__init__(*args, **kwargs)

    def stash_receipts(self) -> None:
        """Before the form is shown again: keep every checked receipt (the browser will not
        send it again) as a token in its line. Needs mutable data."""
        for form in self.forms:
            cleaned = getattr(form, "cleaned_data", None) or {}
            upload = cleaned.get("receipt") or cleaned.get("photo")
            if upload and self.form_kwargs.get("user_id"):
                form.data[form.add_prefix("stashed")] = stash(
                    upload, user_id=self.form_kwargs["user_id"]
                )

    def lines(self) -> list[LineData]:
        return [
            form.line()
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_LINES,
    validate_max=True,
    absolute_max=MAX_LINES,
    can_delete=True,
)


def one_more_line(data, files=None):
    """The posted data with one more (empty) line: "add line" without JavaScript."""
    data = data.copy()
    total = _count(data.get(f"{PREFIX}-TOTAL_FORMS"))
    data[f"{PREFIX}-TOTAL_FORMS"] = str(min(total + 1, MAX_LINES))
    data.setdefault(f"{PREFIX}-{total}-currency", data.get(f"{PREFIX}-0-currency", "EUR"))
    return data


def line_count(data) -> int:
    return _count(data.get(f"{PREFIX}-TOTAL_FORMS"))


def _count(value) -> int:
    try:
        return max(0, min(int(value), MAX_LINES))
    except (TypeError, ValueError):
        return 1
