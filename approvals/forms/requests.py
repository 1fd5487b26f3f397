"""Forms: every field bounded, every message translated, no business rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from ..models import CURRENCIES, Category, RequestStatus
from ..receipt_check import check_receipt
from .amounts import AMOUNT_CEILING, AmountField, hint_attrs

MAX_TEXT = 2000
RECEIPT_ACCEPT = "image/*,application/pdf"


class ExpenseForm(forms.Form):
    title = CleanCharField(label=_("Title"), max_length=200)
    amount = AmountField(label=_("Amount"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES, initial="EUR")
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    # Length counted after line breaks are normalised (as the browser's maxlength).
    description = CleanCharField(
        label=_("Description"), required=False, multiline=True, max_length=MAX_TEXT
    )
    receipt = forms.FileField(
        label=_("Receipt (PDF, JPEG, PNG or WebP, up to 10 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": RECEIPT_ACCEPT}),
    )
    # One per rendered form (a fresh uuid each time): posting the same form twice, or
    # twice at once, submits one request (services.expense_submit). Optional, so a
    # client without it still submits, just without that protection.
    submit_token = forms.CharField(
        required=False, max_length=64, initial=lambda: str(uuid.uuid4()), widget=forms.HiddenInput
    )

    def __init__(self, *args, max_amount: Decimal | None = None, **kwargs):
        """`max_amount` is the policy's maximum, in EUR."""
        super().__init__(*args, **kwargs)
        currency = self.data.get("currency") if self.is_bound else "EUR"
        if currency not in dict(CURRENCIES):
            currency = "EUR"  # the currency field says what is wrong with it
        if currency != "EUR":
            # The EUR limit applies to the converted amount: the submission checks it,
            # with the pinned rate, and names the limit.
            max_amount = AMOUNT_CEILING
        amount = self.fields["amount"]
        amount.currency = currency
        if max_amount is not None:
            amount.max_value = max_amount
        amount.widget.attrs.update(hint_attrs("amount-hint"))

    def clean_title(self):
        title = self.cleaned_data["title"]
        if not title.strip():
            raise forms.ValidationError(_("The title must not be empty."))
        return title

    def clean_submit_token(self) -> uuid.UUID | None:
        # A hidden field has nowhere to show an error: a mangled token only loses the
        # double-submit protection for this one post.
        try:
            return uuid.UUID(self.cleaned_data["submit_token"])
        except ValueError:
            return None

    def clean_receipt(self):
        return check_receipt(self.cleaned_data.get("receipt"))


class ResubmitForm(forms.Form):
    """`max_amount` and `currency` are the request's (the EUR limit at the pinned rate)."""

    title = CleanCharField(label=_("Title"), max_length=200)
    amount = AmountField(label=_("Amount"))
    comment = CleanCharField(
        label=_("What changed"),
        required=False,
        multiline=True,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, max_amount: Decimal | None = None, currency: str = "EUR", **kwargs):
        super().__init__(*args, **kwargs)
        amount = self.fields["amount"]
        amount.currency = currency
        if max_amount is not None:
            amount.max_value = max_amount
        amount.widget.attrs.update(hint_attrs("resubmit-amount-hint", currency=currency))


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *RequestStatus.choices], required=False
    )
