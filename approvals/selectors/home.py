"""The home page: what waits for me, where my open requests stand, delegations in force.

Read from the projection (one query per block), not from visibility: the home page
needs the oldest waiting request and counts, and the dev server's visibility store
cannot sort. The projection is written by `record_transition` before the live push
goes out (the record activity's push), so a page refreshed by a push shows the new state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import Delegation, User
from accounts.selectors import delegators_for

from ..models import ExpenseRequest, Notification, OpsIssue, RequestStatus
from .ops import QUEUED_TOO_LONG

OPEN = (RequestStatus.QUEUED, RequestStatus.PENDING, RequestStatus.CHANGES_REQUESTED)


@dataclass
class Waiting:
    count: int = 0
    overdue: int = 0
    oldest: ExpenseRequest | None = None
    first: list[ExpenseRequest] = field(default_factory=list)  # nearest deadline first


@dataclass
class Attention:
    """/ops/ in numbers (admins): each a count query, no Temporal call."""

    failing: int = 0
    failed_mails: int = 0
    waiting_on_nobody: int = 0
    overdue: int = 0
    queued: int = 0

    @property
    def total(self) -> int:
        return (
            self.failing + self.failed_mails + self.waiting_on_nobody + self.overdue + self.queued
        )


def waiting_queryset(principals: list[str]):
    """Pending requests waiting on any of `principals`, and the names to filter by in
    Python where the database cannot look inside JSON lists (else None)."""
    pending = ExpenseRequest.objects.filter(status=RequestStatus.PENDING)
    if connection.features.supports_json_field_contains:
        match = Q()
        for name in principals:
            match |= Q(pending_approvers__contains=[name])
        return pending.filter(match), None
    # SQLite (the embedded default) cannot look inside JSON lists: filter in Python.
    return pending, set(principals)


def waiting_for(user: User, *, now: datetime | None = None, show: int = 5) -> Waiting:
    """Pending requests that `user` (or someone they stand in for) may decide now."""
    now = now or timezone.now()
    principals = [user.username, *delegators_for(delegate=user)]
    qs, in_python = waiting_queryset(principals)
    rows = list(
        qs.exclude(requester=user)
        .select_related("requester")
        .only(
            "pk",
            "title",
            "amount",
            "currency",
            "created_at",
            "due_at",
            "current_level",
            "levels",
            "pending_approvers",
            "status",
            "requester__username",
            "requester__first_name",
            "requester__last_name",
        )
    )
    if in_python is not None:
        rows = [r for r in rows if in_python & set(r.pending_approvers)]
    if not rows:
        return Waiting()
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: (r.due_at is None, r.due_at or far, r.pk))
    return Waiting(
        count=len(rows),
        overdue=sum(1 for r in rows if r.due_at is not None and r.due_at < now),
        oldest=min(rows, key=lambda r: (r.created_at, r.pk)),
        first=rows[:show],
    )


def waiting_count(user: User, principals: list[str] | None = None) -> int:
    """How many decisions wait for `user` (or whom they stand in for): the navigation
    badge, one count query, no visibility call. `principals`: `user` and whom they
    stand in for, when the caller has them already."""
    principals = principals or [user.username, *delegators_for(delegate=user)]
    qs, in_python = waiting_queryset(principals)
    qs = qs.exclude(requester=user)
    if in_python is None:
        return qs.count()
    return sum(1 for p in qs.values_list("pending_approvers", flat=True) if in_python & set(p))


def display_names(usernames) -> dict[str, str]:
    names = set(usernames)
    if not names:
        return {}
    people = User.objects.filter(username__in=names).only("username", "first_name", "last_name")
    return {p.username: p.display_name for p in people}


@dataclass
class OpenRequest:
    request: ExpenseRequest
    waiting_for: list[str]  # display names


def open_requests(user: User, *, limit: int = 20) -> list[OpenRequest]:
    rows = list(ExpenseRequest.objects.filter(requester=user, status__in=OPEN)[:limit])
    names = display_names(n for r in rows for n in r.pending_approvers)
    return [OpenRequest(r, [names.get(n, n) for n in r.pending_approvers]) for r in rows]


def delegations_in_force(user: User) -> tuple[list[Delegation], list[Delegation]]:
    """(given: who stands in for me today, received: whom I stand in for today)."""
    active = Delegation.objects.active().select_related("user", "delegate")
    given = list(active.filter(user=user).order_by("ends_on"))
    received = list(active.filter(delegate=user, user__is_active=True).order_by("ends_on"))
    return given, received


def attention(*, now: datetime | None = None) -> Attention:
    now = now or timezone.now()
    pending = ExpenseRequest.objects.filter(status=RequestStatus.PENDING)
    return Attention(
        failing=OpsIssue.objects.filter(resolved_at__isnull=True).count(),
        failed_mails=Notification.objects.filter(status="failed").count(),
        waiting_on_nobody=pending.exclude(waiting_reason="").count(),
        overdue=pending.filter(due_at__lt=now).count(),
        queued=ExpenseRequest.objects.filter(
            status=RequestStatus.QUEUED,
            workflow_started_at__isnull=True,
            created_at__lt=now - QUEUED_TOO_LONG,
        ).count(),
    )
