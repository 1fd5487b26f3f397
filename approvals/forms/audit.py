"""The admin audit search form (the query it runs is `selectors.audit.audit_search`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from ..models import RequestStatus
from .amounts import AMOUNT_CEILING, AmountField


class AuditSearchForm(forms.Form):
    requester = CleanCharField(
        label=_("Requester"),
        required=False,
        max_length=150,
        help_text=_("Username or part of the name."),
    )
    approver = CleanCharField(
        label=_("Approver"),
        required=False,
        max_length=150,
        help_text=_("Anyone in the chain, including escalation targets."),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any"))] + RequestStatus.choices
    )
    min_amount = AmountField(
        label=_("Amount from"), required=False, allow_zero=True, max_value=AMOUNT_CEILING
    )
    max_amount = AmountField(
        label=_("Amount to"), required=False, allow_zero=True, max_value=AMOUNT_CEILING
    )
    date_from = forms.DateField(
        label=_("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            self.add_error("max_amount", _("The upper amount must not be below the lower one."))
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data
