"""The admin audit search: its form and the query it runs on the Django projection.

The query lives beside its form because nothing else uses it; it reads only
the projection (never Temporal visibility), so it also covers requests whose
workflows are long gone from Temporal.
"""

from __future__ import annotations

from django import forms
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import ExpenseRequest, RequestStatus


class AuditSearchForm(forms.Form):
    requester = forms.CharField(
        label=_("Requester"),
        required=False,
        max_length=150,
        help_text=_("Username or part of the name."),
    )
    approver = forms.CharField(
        label=_("Approver"),
        required=False,
        max_length=150,
        help_text=_("Anyone in the chain, including escalation targets."),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any"))] + RequestStatus.choices
    )
    min_amount = forms.DecimalField(
        label=_("Amount from"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    max_amount = forms.DecimalField(
        label=_("Amount to"), required=False, min_value=0, max_digits=12, decimal_places=2
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


def _people(text: str) -> list[str]:
    """Usernames matching `text` exactly (any case) or by part of the full name."""
    return list(
        User.objects.annotate(full=Concat("first_name", Value(" "), "last_name"))
        .filter(Q(username__iexact=text) | Q(full__icontains=text))
        .values_list("username", flat=True)
    )


def _in_chain(username: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(chain_usernames__contains=[username])
    # SQLite (the embedded default) has no JSON containment; usernames cannot
    # contain quotes, so the quoted name matches exactly one list element.
    return Q(chain_usernames__icontains=f'"{username}"')


def audit_search(
    *,
    requester: str = "",
    approver: str = "",
    status: str = "",
    min_amount=None,
    max_amount=None,
    date_from=None,
    date_to=None,
) -> QuerySet[ExpenseRequest]:
    """All requests matching the filters, newest first (dates in the current time zone)."""
    qs = ExpenseRequest.objects.select_related("requester").order_by("-created_at", "-pk")
    if requester:
        qs = qs.filter(requester__username__in=_people(requester))
    if approver:
        names = _people(approver)
        if not names:
            return qs.none()
        match = Q()
        for name in names:
            match |= _in_chain(name)
        qs = qs.filter(match)
    if status:
        qs = qs.filter(status=status)
    if min_amount is not None:
        qs = qs.filter(amount__gte=min_amount)
    if max_amount is not None:
        qs = qs.filter(amount__lte=max_amount)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs
