"""Forms of the request page's controls: extend the deadline, decide as an override.

They check the shape of the input only; who may do it is the workflow's validator's
call (its refusal is shown in words).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from ..workflow.rules import MAX_COMMENT, MAX_EXTENSION_SECONDS

UNITS = {"hours": 3600, "days": 86400}


class ExtendForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Extend by"),
        min_value=1,
        max_value=720,
        initial=1,
        error_messages={
            "required": _("Enter how long to extend the deadline by."),
            "invalid": _("Enter a whole number."),
            "min_value": _("Enter a whole number of at least 1."),
            "max_value": _("Enter at most %(limit_value)s."),
        },
    )
    unit = forms.ChoiceField(
        label=_("Unit"),
        choices=[("days", _("days")), ("hours", _("hours"))],
        initial="days",
        error_messages={"invalid_choice": _("Choose hours or days.")},
    )
    reason = CleanCharField(label=_("Reason"), required=False, max_length=500)

    def clean(self):
        data = super().clean()
        amount, unit = data.get("amount"), data.get("unit")
        if amount and unit:
            seconds = amount * UNITS[unit]
            if seconds > MAX_EXTENSION_SECONDS:
                self.add_error(
                    "amount",
                    _("An extension can be at most %(days)s days.")
                    % {"days": MAX_EXTENSION_SECONDS // 86400},
                )
            data["seconds"] = seconds
        return data


class OverrideForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        error_messages={
            "required": _("Choose approve or reject."),
            "invalid_choice": _("Choose approve or reject."),
        },
    )
    reason = CleanCharField(
        label=_("Reason for the override"),
        multiline=True,
        max_length=MAX_COMMENT,
        error_messages={"required": _("An administrator override needs a reason.")},
    )
    decision_id = forms.RegexField(regex=r"^[A-Za-z0-9-]{8,64}$", required=False)
    level = forms.IntegerField(required=False, min_value=0, max_value=10)

    def clean_reason(self):
        reason = self.cleaned_data.get("reason", "")
        if not reason.strip():
            raise forms.ValidationError(_("An administrator override needs a reason."))
        return reason
