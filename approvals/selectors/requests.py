"""Reads: who may see a request, lists, and the inbox from Temporal visibility.

`access_request` is the one place that decides whether a user may see a
request (404 otherwise). Visibility results are never used to authorize.
"""

from __future__ import annotations

import functools

from django.http import Http404
from django.urls import reverse

from accounts.models import User
from accounts.selectors import delegators_for

from ..models import ExpenseRequest
from ..workflow.contract import Status


def can_view(*, user: User, request: ExpenseRequest) -> bool:
    """Admins, the requester and the approvers of its chain see a request; a delegate
    sees it only while it is pending at a level they may decide now (a principal's
    level that waits, during the delegation), never before, after or once closed."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or request.requester_id == user.pk:
        return True
    if user.username in set(request.chain_usernames) | set(request.pending_approvers):
        return True
    if request.status != Status.PENDING or not request.pending_approvers:
        return False
    return bool(set(request.pending_approvers) & set(delegators_for(delegate=user)))


def access_request(*, user: User, pk: int) -> ExpenseRequest:
    """The request `pk` if `user` may see it; Http404 otherwise (no existence leak)."""
    request = ExpenseRequest.objects.select_related("requester").filter(pk=pk).first()
    if request is None or not can_view(user=user, request=request):
        raise Http404("No such request")
    return request


def requests_of(*, user: User, status: str = ""):
    qs = ExpenseRequest.objects.filter(requester=user)
    if status:
        qs = qs.filter(status=status)
    return qs


@functools.cache
def _url_template(name: str) -> str:
    marker = 987654321
    return reverse(name, args=[marker]).replace(str(marker), "{}")


def request_url(name: str, pk: int) -> str:
    """reverse(name, args=[pk]) for the request URLs, without resolving each time."""
    return _url_template(name).format(int(pk))
