"""The SLA analytics page's period."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from ..selectors.analytics import DEFAULT_PERIOD


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        coerce=int,
        required=False,
        empty_value=DEFAULT_PERIOD,
        choices=[
            (7, gettext_lazy("last 7 days")),
            (30, gettext_lazy("last 30 days")),
            (90, gettext_lazy("last 90 days")),
            (365, gettext_lazy("last 365 days")),
            (0, gettext_lazy("all time")),
        ],
        error_messages={
            "invalid_choice": gettext_lazy(
                "Choose one of the listed periods; showing the last 90 days."
            )
        },
    )
