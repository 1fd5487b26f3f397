"""The confirmation form behind a mail decision link: a comment, required to reject."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..workflow.contract import Action
from ..workflow.rules import MAX_COMMENT


class LinkDecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=MAX_COMMENT, widget=forms.Textarea
    )

    def __init__(self, *args, action: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        if action != Action.APPROVE:
            self.fields["comment"].required = True
            self.fields["comment"].error_messages["required"] = _(
                "A comment is required to reject or to request changes."
            )
            self.fields["comment"].widget.attrs["required"] = True

    def clean_comment(self) -> str:
        comment = (self.cleaned_data.get("comment") or "").strip()
        if self.action != Action.APPROVE and not comment:
            raise forms.ValidationError(self.fields["comment"].error_messages["required"])
        return comment
