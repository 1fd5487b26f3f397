"""Forms of the approver inbox: decisions and filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("request_changes", _("Request changes")),
        ]
    )
    comment = forms.CharField(required=False, max_length=2000)
    decision_id = forms.RegexField(regex=r"^[A-Za-z0-9-]{8,64}$", required=False)
    level = forms.IntegerField(required=False, min_value=0, max_value=10)
    override = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if (
            data.get("action") in {"reject", "request_changes"}
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", _("A comment is required to reject or to request changes."))
        return data


class InboxFilterForm(forms.Form):
    min_amount = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    max_amount = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    overdue = forms.BooleanField(required=False)
    page = forms.CharField(required=False, max_length=2000)
