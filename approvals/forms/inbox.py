"""Forms of the approver inbox: decisions, bulk approval and filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import CleanCharField

from .amounts import AMOUNT_CEILING, AmountField

MAX_LINES = 500  # a report's lines, as far as a decision may name them
MAX_LINE_REASON = 1000  # workflow.rules.MAX_LINE_REASON


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("request_changes", _("Request changes")),
        ],
        error_messages={
            "required": _("Choose approve, reject or request changes."),
            "invalid_choice": _("Choose approve, reject or request changes."),
        },
    )
    comment = CleanCharField(required=False, multiline=True, max_length=2000)
    # Idempotency key of this decision: a double click or a retry is applied once.
    decision_id = forms.RegexField(regex=r"^[A-Za-z0-9-]{8,64}$", required=False)
    # The level the decider saw; the validator refuses if the request moved on.
    level = forms.IntegerField(required=False, min_value=0, max_value=10)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Per-line decisions (issue 26): ticked `reject_line` boxes (value: the line's
        # number; "1,3" when carried through a step-up prompt), each with its reason in
        # `line_reason_<n>`: a field per ticked line, so a missing reason is an error
        # at that line.
        self.line_numbers: list[int] = []
        self.bad_line_values: list[str] = []
        values = self.data.getlist("reject_line") if hasattr(self.data, "getlist") else []
        for value in values:
            for part in str(value).split(","):
                part = part.strip()
                if not part:
                    continue
                if part.isdigit() and 1 <= int(part) <= MAX_LINES:
                    if int(part) not in self.line_numbers:
                        self.line_numbers.append(int(part))
                else:
                    self.bad_line_values.append(part[:20])
        self.line_numbers.sort()
        for n in self.line_numbers:
            self.fields[f"line_reason_{n}"] = CleanCharField(
                required=False,  # required when approving (clean): a reject is about it all
                multiline=True,
                max_length=MAX_LINE_REASON,
                label=_("Reason for rejecting line %(n)s") % {"n": n},
            )

    def clean(self):
        data = super().clean()
        if (
            data.get("action") in {"reject", "request_changes"}
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", _("A comment is required to reject or to request changes."))
        approving = data.get("action") == "approve"
        for n in self.line_numbers:
            name = f"line_reason_{n}"
            if approving and name in data and not (data.get(name) or "").strip():
                self.add_error(name, _("Give a reason for rejecting line %(line)s.") % {"line": n})
        if self.bad_line_values and approving:
            self.add_error(
                None,
                _("%(value)s is not a line of this report.") % {"value": self.bad_line_values[0]},
            )
        return data

    @property
    def rejected_lines(self) -> dict[int, str]:
        """Line number -> reason, for an approve (rejecting or requesting changes is about
        the whole report: ticked lines are then left aside)."""
        if not self.is_valid() or self.cleaned_data.get("action") != "approve":
            return {}
        return {n: self.cleaned_data[f"line_reason_{n}"] for n in self.line_numbers}

    def line_errors(self) -> dict[int, list[str]]:
        """The errors at each line (for the decide controls to show beside it)."""
        return {
            n: list(self.errors[f"line_reason_{n}"])
            for n in self.line_numbers
            if f"line_reason_{n}" in self.errors
        }


class RequestIdsField(forms.Field):
    """Selected request numbers: positive integers, duplicates dropped, order kept."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("%(value)s is not a request number."),
        "required": _("Select at least one request."),
    }

    def to_python(self, value):
        ids: list[int] = []
        for item in value or []:
            try:
                number = int(item)
            except (TypeError, ValueError):
                number = 0
            if number <= 0:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": item}
                )
            if number not in ids:
                ids.append(number)
        return ids


class BulkApproveForm(forms.Form):
    request_ids = RequestIdsField()

    def __init__(self, *args, limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_request_ids(self):
        ids = self.cleaned_data["request_ids"]
        if len(ids) > self.limit:
            raise forms.ValidationError(
                _("Select at most %(limit)s requests at a time."), params={"limit": self.limit}
            )
        return ids


class InboxFilterForm(forms.Form):
    min_amount = AmountField(required=False, allow_zero=True, max_value=AMOUNT_CEILING)
    max_amount = AmountField(required=False, allow_zero=True, max_value=AMOUNT_CEILING)
    overdue = forms.BooleanField(required=False)
    # Only rows with a spend-check flag (applied to the rows a page read).
    flagged = forms.BooleanField(required=False)
    page = forms.CharField(required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            self.add_error("max_amount", _("The maximum must not be below the minimum."))
        return data
