"""The admin audit search: the query it runs on the Django projection.

Searches the projection (never Temporal visibility), so it also covers
requests whose workflow history is past retention.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat

from accounts.models import User

from ..models import ExpenseRequest


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


def api_calls_of(request: ExpenseRequest, *, limit: int = 100):
    """The JSON API calls on one request, newest first (who, which token, what, answer)."""
    return request.api_calls.order_by("-at", "-pk")[:limit]
