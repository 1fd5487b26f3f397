"""Activities: all I/O of the ExpenseApproval workflow.

ORM activities are plain `def` (run on the worker's thread pool) and close
stale connections around their work; each is idempotent, keyed by request id
and the workflow's sequence number, so Temporal may retry them freely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import close_old_connections
from temporalio import activity
from temporalio.exceptions import ApplicationError

from accounts.models import Delegation, User
from accounts.selectors import admin_usernames

from ..effects import notifications, projection
from ..workflow.contract import ChainRequest, EscalationRequest, Transition

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable)


def with_db(fn: F) -> F:
    """Run an ORM activity with fresh connections before and after."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper  # type: ignore[return-value]


def _active_manager(user: User) -> User | None:
    seen = {user.pk}
    manager = user.reports_to
    while manager is not None and manager.pk not in seen:
        if manager.is_active:
            return manager
        seen.add(manager.pk)
        manager = manager.reports_to
    return None


def _admins_except(requester: str) -> list[str]:
    admins = [name for name in admin_usernames() if name != requester]
    if not admins:
        # Retryable on purpose: the request waits until someone can decide it.
        raise ApplicationError("No administrator exists to take an unassigned level.")
    return admins


@activity.defn(name="resolve_chain")
@with_db
def resolve_chain(req: ChainRequest) -> list[list[str]]:
    """One approver list per level: the requester's n-th active manager, else the admins."""
    user = User.objects.select_related("reports_to").get(username=req.requester)
    chain: list[list[str]] = []
    current = user
    while len(chain) < req.levels:
        manager = _active_manager(current)
        if manager is None or manager.pk == user.pk:
            break
        chain.append([manager.username])
        current = manager
    while len(chain) < req.levels:
        chain.append(_admins_except(req.requester))
    return chain


@activity.defn(name="resolve_escalation")
@with_db
def resolve_escalation(req: EscalationRequest) -> list[str]:
    """The managers of the current approvers; the admins where there is none."""
    targets: set[str] = set()
    for user in User.objects.filter(username__in=req.approvers).select_related("reports_to"):
        manager = _active_manager(user)
        if manager is None or manager.username == req.requester:
            targets.update(_admins_except(req.requester))
        else:
            targets.add(manager.username)
    return sorted(targets) or _admins_except(req.requester)


@activity.defn(name="record_transition")
@with_db
def record_transition(t: Transition) -> None:
    """Write the projection (newer state only) and append audit rows (once each)."""
    projection.apply_state(t.state)
    projection.append_audit(t.state.request_id, t.events)


def _recipient_ids(t: Transition) -> list[int]:
    names = {t.state.requester, *t.state.pending_approvers, *t.previous_pending}
    for event in t.events:
        names.update(event.recipients)
    users = set(User.objects.filter(username__in=names).values_list("pk", flat=True))
    principals = set(t.state.pending_approvers) | set(t.previous_pending)
    if principals:
        users.update(
            Delegation.objects.active()
            .filter(user__username__in=principals)
            .values_list("delegate_id", flat=True)
        )
    return sorted(users)


def live_event(t: Transition) -> dict:
    state = t.state
    return {
        "type": "request.changed",
        "request_id": state.request_id,
        "status": state.status,
        "seq": state.seq,
        "title": state.title,
        "requester": state.requester,
        "requester_display": state.requester_display,
        "amount_cents": state.amount_cents,
        "currency": state.currency,
        "submitted_at": state.submitted_at,
        "due_at": state.due_at,
        "current_level": state.current_level,
        "pending": list(state.pending_approvers),
        "previous_pending": list(t.previous_pending),
        "kinds": [event.kind for event in t.events],
    }


@activity.defn(name="publish_transition")
async def publish_transition(t: Transition) -> None:
    """Tell every open page of the people concerned (requester, approvers, delegates)."""

    def ids() -> list[int]:
        close_old_connections()
        try:
            return _recipient_ids(t)
        finally:
            close_old_connections()

    layer = get_channel_layer()
    if layer is None:
        return
    event = live_event(t)
    for user_id in await sync_to_async(ids, thread_sensitive=False)():
        await layer.group_send(f"user.{user_id}", event)


@activity.defn(name="send_notifications")
@with_db
def send_notifications(t: Transition) -> None:
    notifications.send_for_transition(t)


ACTIVITIES = [
    resolve_chain,
    resolve_escalation,
    record_transition,
    publish_transition,
    send_notifications,
]
