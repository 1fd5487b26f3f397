"""The money field of every form: a text input with `inputmode="decimal"` (never
`type=number`: a browser drops or reinterprets a German comma there), read in
the reader's language (`approvals.amounts`), bounded, shown as understood.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy

from .. import money
from ..amounts import amount_text, decimals_error, reader_convention, refusal_text, spell

# What the amount column holds (12 digits, 2 decimals): the bound of an amount in a
# currency other than EUR, whose limit is its EUR value (checked at submission), and
# of thresholds and filters.
AMOUNT_CEILING = Decimal("9999999999.99")


class AmountInput(forms.TextInput):
    """A text input a phone opens with its decimal keypad; a value (Decimal) is shown
    spelled for the reader, typed text exactly as typed."""

    def __init__(self, attrs=None):
        base = {
            "inputmode": "decimal",
            "autocomplete": "off",
            "spellcheck": "false",
            "maxlength": str(money.MAX_TYPED),
        }
        super().__init__({**base, **(attrs or {})})
        self.currency = money.BASE_CURRENCY

    def format_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            return spell(value, self.currency)
        return super().format_value(value)


class AmountField(forms.Field):
    """A money amount in `currency`, typed in the reader's language.

    Bounds: above zero (or from zero with `allow_zero`), at most `max_value`, no
    more decimals than the currency has. A Decimal handed in by code (the API,
    which reads its own `.` notation) skips the reading and gets the same bounds
    and words.
    """

    widget = AmountInput
    default_error_messages = {
        "min_value": gettext_lazy("The amount must be greater than zero."),
        "negative": gettext_lazy("The amount must not be negative."),
        "max_value": gettext_lazy("The amount must be at most %(limit_value)s."),
    }

    def __init__(
        self,
        *,
        max_value: Decimal = Decimal("1000000.00"),
        currency: str = money.BASE_CURRENCY,
        allow_zero: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_value = max_value
        self.allow_zero = allow_zero
        self.currency = currency

    @property
    def currency(self) -> str:
        return self._currency

    @currency.setter
    def currency(self, value: str) -> None:
        self._currency = value or money.BASE_CURRENCY
        self.widget.currency = self._currency

    def to_python(self, value) -> Decimal | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            amount = Decimal(value)
            if not amount.is_finite():
                raise forms.ValidationError(
                    refusal_text(money.AmountRefused("invalid"), typed="", currency=self.currency),
                    code="invalid",
                )
            return amount
        text = str(value)
        decimal, group = reader_convention()
        try:
            return money.parse_amount(text, decimal=decimal, group=group)
        except money.AmountRefused as exc:
            raise forms.ValidationError(
                refusal_text(exc, typed=text, currency=self.currency), code=exc.code
            ) from exc

    def validate(self, value: Decimal | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value < 0 or (value == 0 and not self.allow_zero):
            key = "negative" if self.allow_zero else "min_value"
            raise forms.ValidationError(self.error_messages[key], code="min_value")
        if value > self.max_value:
            limit = amount_text(self.max_value, self.currency)
            raise forms.ValidationError(
                self.error_messages["max_value"] % {"limit_value": limit}, code="max_value"
            )
        if money.has_too_many_decimals(value, self.currency):
            raise forms.ValidationError(decimals_error(self.currency), code="decimals")

    def clean(self, value) -> Decimal | None:
        amount = super().clean(value)
        return None if amount is None else amount.quantize(money.quantum(self.currency))


def hint_attrs(hint_id: str, *, currency: str | None = None) -> dict:
    """htmx attributes on an amount input: as the person types, the element `hint_id`
    shows how the server reads the text (the same reading the form applies)."""
    attrs = {
        "hx-get": reverse_lazy("amount-hint"),
        "hx-trigger": "input changed delay:300ms",
        "hx-target": f"#{hint_id}",
        "hx-swap": "innerHTML",
        "hx-sync": "this:replace",
        "aria-describedby": hint_id,
    }
    if currency:
        attrs["hx-vals"] = json.dumps({"currency": currency})
    else:  # the form's own currency field, whichever is chosen now
        attrs["hx-include"] = "#id_currency"
        attrs["hx-trigger"] += ", change from:#id_currency"
    return attrs
