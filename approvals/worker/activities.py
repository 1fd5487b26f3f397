"""Activities: all I/O of the ExpenseApproval workflow.

ORM activities are plain `def` (run on the worker's thread pool) and close
stale connections around their work; each is idempotent, keyed by request id
and the workflow's sequence number, so Temporal may retry them freely.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.mail import BadHeaderError
from django.db import close_old_connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from accounts.models import Delegation, User
from accounts.selectors import active_ladder, admin_usernames

from .. import audit_chain, inbox_feed
from ..calendar import Calendar
from ..calendars import calendar_for
from ..channel_groups import request_group
from ..effects import notifications, ops, projection
from ..models import ExpenseRequest, PolicyVersion
from ..policy import versions as policies
from ..workflow.contract import (
    Calls,
    MailFailure,
    Managers,
    ManagersRequest,
    Route,
    RouteRequest,
    StepEvent,
    Transition,
)

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable)


def _info() -> activity.Info | None:
    return activity.info() if activity.in_activity() else None


def with_db(fn: F) -> F:
    """Run an ORM activity with fresh connections before and after.

    Also keeps the ops record: an attempt failing from the 3rd on is listed on
    `/ops/` until the activity succeeds again (effects/ops.py).
    """

    @wraps(fn)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            ops.after_attempt(_info(), exc)
            raise
        else:
            ops.after_attempt(_info(), None)
            return result
        finally:
            close_old_connections()

    return wrapper  # type: ignore[return-value]


@activity.defn(name=Calls.RESOLVE_ROUTE)
@with_db
def resolve_route(req: RouteRequest) -> Route:
    """The requester's ladder and the active admins (version 2; SoD is the workflow's).

    A requester who does not exist is a permanent error: non-retryable, so the
    workflow routes to nobody and says so instead of retrying forever.
    """
    user = User.objects.select_related("reports_to").filter(username=req.requester).first()
    if user is None:
        raise ApplicationError(
            f"requester {req.requester!r} does not exist", type="NoSuchUser", non_retryable=True
        )
    ladder = [name for name in active_ladder(user=user) if name != req.requester]
    route = Route(ladder=ladder, admins=[a for a in admin_usernames() if a != req.requester])
    if req.policy_version and req.facts is not None:
        route.levels = _policy_levels(user, req)
    if req.calendars:
        named = [p for spec in route.levels for p in spec.approvers]
        route.calendars = own_calendars([*route.ladder, *route.admins, *named])
    return route


def own_calendars(usernames: list[str]) -> dict[str, Calendar]:
    """The business calendars of those of `usernames` whose profile sets their own time
    zone or Land (everyone else works in the request's default calendar)."""
    people = User.objects.filter(username__in=set(usernames)).exclude(
        time_zone="", holiday_subdivision=""
    )
    return {person.username: calendar_for(person) for person in people}


def _policy_levels(user: User, req: RouteRequest):
    """The pinned version's chain for the request's facts, with today's organisation."""
    number = int(req.policy_version) if str(req.policy_version).isdigit() else 0
    version = PolicyVersion.objects.filter(number=number).first()
    if version is None:
        raise ApplicationError(
            f"policy version {req.policy_version!r} does not exist",
            type="NoSuchPolicyVersion",
            non_retryable=True,
        )
    org = policies.OrgCache()
    return policies.evaluate(req.facts, org.snapshot(user), policies.rules_of(version))


@activity.defn(name=Calls.RESOLVE_MANAGERS)
@with_db
def resolve_managers(req: ManagersRequest) -> Managers:
    """Each person's active managers upward and the active admins (escalation, leavers)."""
    people = User.objects.filter(username__in=req.people).select_related("reports_to")
    managers = Managers(
        chains={user.username: active_ladder(user=user) for user in people},
        admins=admin_usernames(),
    )
    if req.calendars:
        named = [p for chain in managers.chains.values() for p in chain]
        managers.calendars = own_calendars([*named, *managers.admins])
    return managers


@activity.defn(name=Calls.RECORD_TRANSITION)
@with_db
def record_transition(t: Transition) -> str:
    """Write the projection (newer state only) and append audit rows (once each).

    With `t.publish` (every 1.0 run) the live push goes out as soon as the
    record has committed: no second activity and no second hand-off. The push
    is best effort (pages catch up on reload): its failure is logged and never
    fails the record; a retry of the record pushes again, which is harmless
    (the consumer renders the state it is told about, newest seq wins).
    Returns the request's audit head after the record (the workflow holds it: cutting
    off the newest rows then shows against the workflow too).
    """
    return _record(t)


@activity.defn(name=Calls.RECORD_FIRST_STEPS)
@with_db
def record_first_steps(t: Transition) -> list[StepEvent]:
    """`record_transition` as the start task's local activity.

    Returns the steps: a local activity's marker keeps its result, not its input,
    and the audit timeline reads them from there. A start task retried after a
    crash records the same seq again (`t.local`), and that later write wins.
    The last step's detail carries the audit head after the record (`audit_head`).
    """
    head = _record(t)
    if t.events:
        t.events[-1].detail = {**t.events[-1].detail, "audit_head": head}
    return t.events


def _record(t: Transition) -> str:
    request = projection.record(t.state, t.events, retried_start=t.local)
    head = audit_chain.audit_head(t.state.request_id)
    if t.publish:
        try:
            _push(t, _recipient_ids(t), pinned_fx(request))
        except Exception:  # noqa: BLE001 - the record is written; the push is best effort
            log.warning("live push of #%s failed; pages catch up on reload", t.state.request_id)
    return head


# The worker's event loop (bind_loop): the channel layer's connections live there.
_loop: asyncio.AbstractEventLoop | None = None
PUSH_TIMEOUT = 5.0


def bind_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Thread-pool activities push through this loop (worker.build_worker binds it)."""
    global _loop
    _loop = loop


def watch_event(event: dict, user_ids: list[int]) -> dict:
    """The same change for pages that watch the request (consumers.py), minus the people
    already told through their own group."""
    return {**event, "type": "request.watched", "to": list(user_ids)}


def _note(event: dict) -> None:
    """Tell the inbox's cache before the push goes out (inbox_feed): a page refreshed by
    the push already sees the change. Best effort like the push (results expire anyway)."""
    try:
        inbox_feed.note_change(event)
    except Exception:  # noqa: BLE001 - the record is written; the cache ages out
        log.warning("inbox feed note of #%s failed", event.get("request_id"), exc_info=True)


def _push(t: Transition, user_ids: list[int], fx: dict) -> None:
    event = {**live_event(t), **fx}
    _note(event)
    layer = get_channel_layer()
    if layer is None:
        return

    async def send() -> None:
        for user_id in user_ids:
            await layer.group_send(f"user.{user_id}", event)
        await layer.group_send(request_group(t.state.request_id), watch_event(event, user_ids))

    loop = _loop
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(send(), loop).result(PUSH_TIMEOUT)
    else:  # no worker loop (a test's ActivityEnvironment): a loop of its own
        async_to_sync(send)()


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


def pinned_fx(request: ExpenseRequest) -> dict:
    if request.base_amount_cents is None:
        return {}
    return {
        "base_amount_cents": request.base_amount_cents,
        "fx_rate": str(request.fx_rate) if request.fx_rate is not None else "",
        "fx_rate_date": request.fx_rate_date.isoformat() if request.fx_rate_date else "",
    }


# Mail errors that no retry can fix: the workflow records them and moves on.
# (send_for_transition classifies per recipient, records the failure, raises
# PermanentMailError; the others are here for anything that escapes it.)
PERMANENT_MAIL_ERRORS = (
    notifications.PermanentMailError,
    BadHeaderError,
    TemplateDoesNotExist,
    TemplateSyntaxError,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    UnicodeError,
)


@activity.defn(name=Calls.SEND_NOTIFICATIONS)
@with_db
def send_notifications(t: Transition) -> None:
    """Send the transition's mails; a permanent failure is non-retryable (classified here)."""
    try:
        notifications.send_for_transition(t)
    except PERMANENT_MAIL_ERRORS as exc:
        raise ApplicationError(
            f"{type(exc).__name__}: {exc}"[:500], type="PermanentMailError", non_retryable=True
        ) from exc


@activity.defn(name=Calls.RECORD_MAIL_FAILURE)
@with_db
def record_mail_failure(f: MailFailure) -> None:
    """The workflow gave up on a transition's mails: failed rows /ops/ lists and can resend."""
    notifications.record_transition_failure(f.transition, f.cause)


ACTIVITIES = [
    resolve_route,
    resolve_managers,
    record_transition,
    record_first_steps,
    send_notifications,
    record_mail_failure,
]
