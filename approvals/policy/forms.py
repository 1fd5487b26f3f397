"""The policy draft's forms: management thresholds plus one row per rule (a formset),
converted to and from `rules.PolicyRules`; the what-if period.

A row adds one level (a manager, a person or a group); a rule that needs two
levels is two rows with the same conditions. Amounts are EUR with two decimals.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.text import CleanCharField

from .. import money
from ..forms.amounts import AMOUNT_CEILING, AmountField
from ..models import Category
from .rules import (
    ALL,
    ANY,
    GROUP,
    MANAGER,
    PERSON,
    Conditions,
    LevelRule,
    PolicyRule,
    PolicyRules,
)

# Thresholds in EUR, typed in the reader's language like every amount; zero is allowed.
EUR = {"allow_zero": True, "max_value": AMOUNT_CEILING}


def _cents(amount: Decimal | None) -> int | None:
    return None if amount is None else money.to_minor(amount, money.BASE_CURRENCY)


def _eur(cents: int | None) -> Decimal | None:
    return None if cents is None else money.from_minor(cents, money.BASE_CURRENCY)


def _codes(text: str) -> list[str]:
    return sorted({part.strip() for part in (text or "").split(",") if part.strip()})


class PolicyForm(forms.Form):
    two_levels_from = AmountField(label=_("Two management levels from (EUR)"), **EUR)
    three_levels_from = AmountField(label=_("Three management levels from (EUR)"), **EUR)
    max_amount = AmountField(label=_("Maximum amount (EUR)"), **EUR)
    note = CleanCharField(label=_("Note"), max_length=200, required=False)


class RuleForm(forms.Form):
    name = CleanCharField(label=_("Rule"), max_length=120, required=False)
    min_amount = AmountField(label=_("From (EUR)"), required=False, **EUR)
    below_amount = AmountField(label=_("Below (EUR)"), required=False, **EUR)
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    roles = forms.MultipleChoiceField(
        label=_("Requester's roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cost_centres = CleanCharField(label=_("Cost centres"), max_length=300, required=False)
    departments = CleanCharField(label=_("Departments"), max_length=300, required=False)
    kind = forms.ChoiceField(
        label=_("Adds"),
        required=False,  # a blank row (kind "—") is no rule
        choices=[
            ("", "—"),
            (MANAGER, _("the n-th manager")),
            (PERSON, _("a person")),
            (GROUP, _("a group")),
        ],
    )
    manager = forms.IntegerField(label=_("Manager level"), required=False, min_value=0)
    person = CleanCharField(label=_("Person (username)"), max_length=150, required=False)
    group = forms.ChoiceField(label=_("Group"), required=False)
    mode = forms.ChoiceField(
        label=_("Decided by"),
        choices=[(ANY, _("any one member")), (ALL, _("every member, one level each"))],
        initial=ANY,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted(Group.objects.values_list("name", flat=True))
        self.fields["group"].choices = [("", "—"), *[(n, n) for n in names]]

    def clean(self):
        data = super().clean()
        filled = any(data.get(f) for f in ("name", "min_amount", "below_amount", "person"))
        if filled and not data.get("kind"):
            self.add_error("kind", _("Choose the level this rule adds."))
        return data

    def to_rule(self) -> PolicyRule:
        d = self.cleaned_data
        add = LevelRule(
            kind=d["kind"],
            manager=d.get("manager") or 0,
            person=d.get("person") or "",
            group=d.get("group") or "",
            mode=d.get("mode") or ANY,
        )
        return PolicyRule(
            name=d.get("name") or "",
            when=Conditions(
                min_cents=_cents(d.get("min_amount")) or 0,
                below_cents=_cents(d.get("below_amount")),
                categories=list(d.get("categories") or []),
                cost_centres=_codes(d.get("cost_centres")),
                departments=_codes(d.get("departments")),
                roles=list(d.get("roles") or []),
            ),
            adds=[add],
        )


RuleFormSet = forms.formset_factory(RuleForm, extra=1, can_delete=True, max_num=50)


def initial_of(rules: PolicyRules) -> tuple[dict, list[dict]]:
    """The forms' initial data for a version (one row per level a rule adds)."""
    top = {
        "two_levels_from": _eur(rules.two_levels_from_cents),
        "three_levels_from": _eur(rules.three_levels_from_cents),
        "max_amount": _eur(rules.max_amount_cents),
    }
    rows = []
    for rule in rules.rules:
        for add in rule.adds or [LevelRule(kind=MANAGER)]:
            rows.append(
                {
                    "name": rule.name,
                    "min_amount": _eur(rule.when.min_cents) if rule.when.min_cents else None,
                    "below_amount": _eur(rule.when.below_cents),
                    "categories": rule.when.categories,
                    "roles": rule.when.roles,
                    "cost_centres": ", ".join(rule.when.cost_centres),
                    "departments": ", ".join(rule.when.departments),
                    "kind": add.kind,
                    "manager": add.manager or None,
                    "person": add.person,
                    "group": add.group,
                    "mode": add.mode,
                }
            )
    return top, rows


def rules_of(form: PolicyForm, formset) -> PolicyRules:
    d = form.cleaned_data
    # A blank extra row has no cleaned data; a row ticked "delete" is left out.
    rows = [
        f for f in formset.forms if f.cleaned_data.get("kind") and not f.cleaned_data.get("DELETE")
    ]
    return PolicyRules(
        two_levels_from_cents=_cents(d["two_levels_from"]),
        three_levels_from_cents=_cents(d["three_levels_from"]),
        max_amount_cents=_cents(d["max_amount"]),
        rules=[f.to_rule() for f in rows],
    )


class PublishForm(forms.Form):
    effective_from = forms.DateField(
        label=_("Effective from"), widget=forms.DateInput(attrs={"type": "date"})
    )


class WhatIfForm(forms.Form):
    """The period of past requests, `?from=YYYY-MM-DD&to=YYYY-MM-DD` (submission days, both
    included; at most a year; default the last 90 days)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        date = {"required": False, "widget": forms.DateInput(attrs={"type": "date"})}
        self.fields["from"] = forms.DateField(label=_("From"), **date)
        self.fields["to"] = forms.DateField(label=_("To"), **date)

    def period(self):
        today = timezone.localdate()
        start = self.cleaned_data.get("from") or today - timedelta(days=90)
        end = self.cleaned_data.get("to") or today
        return start, end

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            raise forms.ValidationError(_("The period's start must not be after its end."))
        if start and end and (end - start).days > 366:
            raise forms.ValidationError(_("Choose a period of at most one year."))
        return data
