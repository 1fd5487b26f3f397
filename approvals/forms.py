"""Forms: every field bounded, every message translated, no business rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from .models import CURRENCIES, Category, RequestStatus

MAX_RECEIPT_BYTES = 10 * 1024 * 1024
MAGIC = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


def sniff(upload) -> str | None:
    """The receipt's type from its first bytes, never from its name."""
    head = upload.read(16)
    upload.seek(0)
    return next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)


class AmountField(forms.DecimalField):
    def __init__(self, *, max_value: Decimal = Decimal("1000000.00"), **kwargs):
        super().__init__(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("0.01"),
            max_value=max_value,
            error_messages={
                "invalid": _("Enter an amount such as 125.50."),
                "min_value": _("The amount must be greater than zero."),
                "max_value": _("The amount must be at most %(limit_value)s."),
                "max_decimal_places": _("Use at most two decimals."),
                "max_digits": _("The amount is too large."),
                "max_whole_digits": _("The amount is too large."),
            },
            **kwargs,
        )

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not value.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value


class ExpenseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, strip=True)
    amount = AmountField(label=_("Amount"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES, initial="EUR")
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[MaxLengthValidator(2000)],
        max_length=2000,
    )
    receipt = forms.FileField(label=_("Receipt (PDF, JPEG or PNG, up to 10 MB)"), required=False)

    def __init__(self, *args, max_amount: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if max_amount is not None:
            self.fields["amount"] = AmountField(label=_("Amount"), max_value=max_amount)

    def clean_title(self):
        title = self.cleaned_data["title"]
        if not title.strip():
            raise forms.ValidationError(_("The title must not be empty."))
        return title

    def clean_receipt(self):
        upload = self.cleaned_data.get("receipt")
        if not upload:
            return None
        if upload.size > MAX_RECEIPT_BYTES:
            raise forms.ValidationError(_("The receipt is larger than 10 MB."))
        if sniff(upload) is None:
            raise forms.ValidationError(_("The receipt must be a PDF, JPEG or PNG file."))
        return upload


class ResubmitForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    amount = AmountField(label=_("Amount"))
    comment = forms.CharField(
        label=_("What changed"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", _("All"))] + list(RequestStatus.choices), required=False
    )
