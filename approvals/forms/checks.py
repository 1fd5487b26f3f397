"""The policy draft's spend checks (issue 27): one form for the checks and a formset of
category limits (prefix `limit`), converted to and from `spend_checks.SpendChecks`.

A draft POST without the checks part (`checks-receipt` absent) leaves the draft's
checks as they are. Amounts are EUR typed in the reader's language; what the form
cannot hold (receipt amounts per category) is kept from the draft.
"""

from __future__ import annotations

from dataclasses import replace

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from .. import money
from ..models import Category
from ..spend_checks import (
    BLOCK,
    OFF,
    PER_DAY,
    PER_LINE,
    PER_NIGHT,
    PER_PERSON,
    WARN,
    CategoryLimit,
    SpendChecks,
)
from .amounts import AMOUNT_CEILING, AmountField

ACTION_CHOICES = [(OFF, _("off")), (WARN, _("warn")), (BLOCK, _("block submission"))]
EUR = {"allow_zero": True, "max_value": AMOUNT_CEILING}


def _action(label):
    return forms.ChoiceField(label=label, choices=ACTION_CHOICES)


class ChecksForm(forms.Form):
    receipt = _action(_("Receipt missing"))
    receipt_from = AmountField(label=_("Receipt required from (EUR)"), **EUR)
    limits = _action(_("Limits per category"))
    duplicates = _action(_("Duplicates (same receipt file; same merchant, date and amount)"))
    near_duplicates = _action(_("Possible duplicates (same merchant, similar amount and date)"))
    near_tolerance_percent = forms.IntegerField(
        label=_("Similar amount: within (%)"), min_value=0, max_value=50
    )
    near_days = forms.IntegerField(
        label=_("Similar date: within (days)"), min_value=0, max_value=90
    )
    splits = _action(_("Splits (one person's reports that together cross a threshold)"))
    split_days = forms.IntegerField(label=_("Splits: within (days)"), min_value=0, max_value=90)
    weekend = _action(_("Expenses on a weekend"))
    holiday = _action(_("Expenses on a public holiday"))


class LimitForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "—"), *Category.choices], required=False
    )
    per = forms.ChoiceField(
        label=_("Per"),
        choices=[
            (PER_LINE, _("line")),
            (PER_NIGHT, _("night")),
            (PER_PERSON, _("person")),
            (PER_DAY, _("day")),
        ],
        initial=PER_LINE,
    )
    match = CleanCharField(
        label=_("Only lines that mention (e.g. hotel)"), max_length=60, required=False
    )
    amount = AmountField(label=_("Limit (EUR)"), required=False, **EUR)

    def clean(self):
        data = super().clean()
        if data.get("category") and data.get("amount") is None:
            self.add_error("amount", _("Enter the limit for this category."))
        if data.get("amount") is not None and not data.get("category"):
            self.add_error("category", _("Choose the category this limit is for."))
        return data


LimitFormSet = forms.formset_factory(LimitForm, extra=1, can_delete=True, max_num=30)


def checks_initial(checks: SpendChecks) -> tuple[dict, list[dict]]:
    top = {
        "receipt": checks.receipt,
        "receipt_from": money.from_minor(checks.receipt_from_cents, money.BASE_CURRENCY),
        "limits": checks.limits,
        "duplicates": checks.duplicates,
        "near_duplicates": checks.near_duplicates,
        "near_tolerance_percent": checks.near_tolerance_percent,
        "near_days": checks.near_days,
        "splits": checks.splits,
        "split_days": checks.split_days,
        "weekend": checks.weekend,
        "holiday": checks.holiday,
    }
    rows = [
        {
            "category": limit.category,
            "per": limit.per,
            "match": limit.match,
            "amount": money.from_minor(limit.cents, money.BASE_CURRENCY),
        }
        for limit in checks.category_limits
    ]
    return top, rows


def checks_of(form: ChecksForm, formset, kept: SpendChecks) -> SpendChecks:
    d = form.cleaned_data
    limits = [
        CategoryLimit(
            category=f.cleaned_data["category"],
            cents=money.to_minor(f.cleaned_data["amount"], money.BASE_CURRENCY),
            per=f.cleaned_data["per"],
            match=f.cleaned_data.get("match") or "",
        )
        for f in formset.forms
        if f.cleaned_data.get("category") and not f.cleaned_data.get("DELETE")
    ]
    return replace(
        kept,
        receipt=d["receipt"],
        receipt_from_cents=money.to_minor(d["receipt_from"], money.BASE_CURRENCY),
        limits=d["limits"],
        category_limits=limits,
        duplicates=d["duplicates"],
        near_duplicates=d["near_duplicates"],
        near_tolerance_percent=d["near_tolerance_percent"],
        near_days=d["near_days"],
        splits=d["splits"],
        split_days=d["split_days"],
        weekend=d["weekend"],
        holiday=d["holiday"],
    )
