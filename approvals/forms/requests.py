"""Forms: every field bounded, every message translated, no business rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from ..models import CURRENCIES, Category, RequestStatus
from .amounts import AMOUNT_CEILING, AmountField, hint_attrs

MAX_RECEIPT_BYTES = 10 * 1024 * 1024
MAX_TEXT = 2000
# Leading bytes of each accepted receipt type, with the extension it is stored under.
MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"RIFF", "webp"),  # RIFF....WEBP (checked below)
)
# HEIC/HEIF (an iPhone's own format): an ISO box "ftyp" with one of these brands.
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
RECEIPT_ACCEPT = "image/*,application/pdf"
# Readers accept a PDF whose end-of-file marker sits within the last KiB.
PDF_TAIL = 1024


def sniff(upload) -> str | None:
    """The receipt's type (an extension) from its bytes, never from its name."""
    upload.seek(0)
    head = upload.read(32)
    kind = next((ext for magic, ext in MAGIC if head.startswith(magic)), None)
    if kind == "png" and head[12:16] != b"IHDR":
        kind = None  # a PNG always opens with its header chunk
    elif kind == "webp" and head[8:12] != b"WEBP":
        kind = None  # another RIFF file (a WAV, an AVI)
    elif kind is None and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        kind = "heic"
    elif kind == "pdf":
        size = upload.size or 0
        upload.seek(max(size - PDF_TAIL, 0))
        if b"%%EOF" not in upload.read(PDF_TAIL):
            kind = None  # "%PDF-" in front of anything else is not a document
    upload.seek(0)
    return kind


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


def check_receipt(upload):
    """A receipt upload, checked (size, real type from its bytes) and renamed; None if none.

    Raises ValidationError in words for what cannot be a receipt."""
    if not upload:
        return None
    if upload.size > MAX_RECEIPT_BYTES:
        raise forms.ValidationError(_("The receipt is larger than 10 MB."))
    kind = sniff(upload)
    if kind == "heic":
        raise forms.ValidationError(
            _(
                "HEIC photos cannot be shown to approvers. Choose the photo as JPEG (the "
                "camera setting “Most compatible”) or take it with “Take photo”."
            )
        )
    if kind is None:
        raise forms.ValidationError(_("The receipt must be a PDF, JPEG, PNG or WebP file."))
    # The name is only a claim: a file called ".pdf" must really be a PDF (reviewers
    # open it expecting the document), while any real PDF/JPEG/PNG is accepted.
    if upload.name.lower().endswith(".pdf") and kind != "pdf":
        raise forms.ValidationError(
            _("This file is called .pdf but is not a PDF. Attach the PDF itself.")
        )
    # Stored under a name of our own with the extension of what it really is: the
    # typed name never reaches the file system.
    upload.name = f"{uuid.uuid4().hex}.{kind}"
    return upload


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
