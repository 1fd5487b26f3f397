"""Leavers: every level waiting on a deactivated person moves on at once.

`accounts.services.user_deactivate` sends `person_deactivated` after its
commit; its receiver (approvals/signals.py) calls `leaver_reroute`, which
sends each affected workflow the `reroute` Update
(the workflow picks the leaver's manager, or the admins, and records a
re-route). Which requests are affected comes from the projection
(`ExpenseRequest.pending_approvers`), written by the workflow's activities.

A Temporal outage must never undo or block a deactivation: failures are
logged and the deactivation stands. Running `user_deactivate` again for the
same person (or `leaver_reroute` itself) retries; the Update id is the
reroute id, so a workflow applies one re-route per leaver once.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.db import connection
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from ..effects import projection
from ..labels import ServiceCode
from ..models import ExpenseRequest, RequestStatus
from ..temporal.client import TemporalUnavailable, call
from ..workflow.contract import ApprovalState, Refusal, RerouteInput, workflow_id
from ..workflow.workflow import ExpenseApprovalWorkflow
from .commands import refusal_of
from .common import ServiceError

log = logging.getLogger(__name__)
REASON_DEACTIVATED = "deactivated"


def requests_waiting_on(username: str) -> list[ExpenseRequest]:
    """Started, pending requests whose current level waits on `username` (projection)."""
    qs = ExpenseRequest.objects.filter(
        status=RequestStatus.PENDING, workflow_started_at__isnull=False
    ).order_by("pk")
    if connection.features.supports_json_field_contains:
        qs = qs.filter(pending_approvers__contains=[username])
    else:
        # SQLite (the embedded default) has no JSON containment; narrow by text,
        # then check the list exactly below.
        qs = qs.filter(pending_approvers__icontains=f'"{username}"')
    return [r for r in qs.only("pk", "pending_approvers") if username in r.pending_approvers]


def reroute_input(*, username: str, request_id: int) -> RerouteInput:
    return RerouteInput(
        leaver=username,
        reason=REASON_DEACTIVATED,
        reroute_id=f"reroute-{username}-{request_id}",
    )


def _send(request_id: int, inp: RerouteInput) -> ApprovalState:
    async def run(client: Client) -> ApprovalState:
        handle = client.get_workflow_handle(workflow_id(request_id))
        return await handle.execute_update(
            ExpenseApprovalWorkflow.reroute, inp, id=inp.reroute_id, result_type=ApprovalState
        )

    return call(run)


def _send_when_free(request_id: int, inp):
    """Send the re-route; while another re-route of the same request is resolving people
    (two leavers at once) the workflow answers StillRouting: wait a moment and send again."""
    for attempt in range(STILL_ROUTING_RETRIES):
        try:
            return _send(request_id, inp)
        except WorkflowUpdateFailedError as exc:
            last = attempt == STILL_ROUTING_RETRIES - 1
            if refusal_of(exc).code != Refusal.STILL_ROUTING or last:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


STILL_ROUTING_RETRIES = 5


def leaver_reroute(*, username: str) -> int:
    """Send `reroute` to every workflow with a level waiting on `username`.

    Returns how many workflows accepted it. Never raises for Temporal failures:
    a refused Update or a closed workflow is logged and skipped; when Temporal is
    unreachable the rest are left (logged) for a retry.
    """
    waiting = requests_waiting_on(username)
    rerouted = 0
    for index, request in enumerate(waiting):
        inp = reroute_input(username=username, request_id=request.pk)
        try:
            state = _send_when_free(request.pk, inp)
        except WorkflowUpdateFailedError as exc:
            log.warning(
                "re-route of request %s away from %s refused: %s",
                request.pk,
                username,
                refusal_of(exc).message,
            )
            continue
        except (TemporalUnavailable, RPCTimeoutOrCancelledError) as exc:
            log.error(
                "Temporal unavailable (%s): %d requests still wait on deactivated %s: %s",
                exc,
                len(waiting) - index,
                username,
                [r.pk for r in waiting[index:]],
            )
            break
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND or "completed" in exc.message.lower():
                log.info("request %s closed before its re-route: %s", request.pk, exc.message)
            else:
                log.error("re-route of request %s failed: %s", request.pk, exc.message)
            continue
        projection.apply_state(state)
        rerouted += 1
    if waiting:
        log.info("%s deactivated: %d of %d requests re-routed", username, rerouted, len(waiting))
    return rerouted


def request_reroute(*, request_id: int, by: str) -> ApprovalState:
    """Route the current level of a request again with today's org chart (/ops/, e.g. after
    an admin was added for a level that waited on nobody). Safe to repeat: nothing changes
    when the same people would get it. Raises ServiceError with the refusal or outage."""
    inp = RerouteInput(leaver="", reason=f"re-routed by {by}", reroute_id=str(uuid.uuid4()))
    try:
        state = _send_when_free(request_id, inp)
    except WorkflowUpdateFailedError as exc:
        raise refusal_of(exc) from exc
    except (TemporalUnavailable, RPCTimeoutOrCancelledError, RPCError) as exc:
        raise ServiceError(ServiceCode.UNAVAILABLE) from exc
    projection.apply_state(state)
    return state


def sweep_leavers() -> int:
    """Re-route what still waits on someone inactive: a deactivation whose re-route found
    nothing because the projection lagged behind a fresh assignment, or one that met a
    Temporal outage. Run by the worker's reconciler on every pass; returns how many
    requests it moved."""
    from accounts.models import User

    inactive = set(User.objects.filter(is_active=False).values_list("username", flat=True))
    if not inactive:
        return 0
    pending = ExpenseRequest.objects.filter(
        status=RequestStatus.PENDING, workflow_started_at__isnull=False
    ).values_list("pending_approvers", flat=True)
    waiting = sorted({name for names in pending for name in names or []} & inactive)
    return sum(leaver_reroute(username=name) for name in waiting)
