"""A workflow's event history from Temporal, reduced and decoded.

Fetches the history of `expense-<pk>` and turns each event into a `RawEvent`
with its payloads decoded by the client's data converter (inside the
client's event loop). What the events mean is `selectors.timeline_history`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.converter import default as default_converter

from ..workflow.contract import SA_PENDING, SA_STATUS, workflow_id
from .client import call

# The SDK's marker for a local activity: details "data" (its type, attempt, times)
# and "result" (its result, through the data converter).
LOCAL_ACTIVITY_MARKER = "core_local_activity"

CLOSING = {
    "WORKFLOW_EXECUTION_COMPLETED",
    "WORKFLOW_EXECUTION_FAILED",
    "WORKFLOW_EXECUTION_TERMINATED",
    "WORKFLOW_EXECUTION_TIMED_OUT",
    "WORKFLOW_EXECUTION_CANCELED",
    "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
}


@dataclass
class RawEvent:
    """One history event reduced to what the timeline needs, payloads decoded."""

    event_id: int
    type: str  # EventType name without the EVENT_TYPE_ prefix
    at: datetime
    data: dict


# ------------------------------------------------------------------ fetching
async def _decode(client: Client, payloads) -> list[Any]:
    if not payloads:
        return []
    try:
        return list(await client.data_converter.decode(list(payloads)))
    except Exception as exc:  # noqa: BLE001 - show the rest of the history anyway
        return [{"undecodable": str(exc)}]


async def _first(client: Client, payloads) -> Any:
    values = await _decode(client, payloads)
    return values[0] if values else None


def _search_attrs(api) -> dict:
    """ApprovalStatus and PendingApprovers from an upsert, one field at a time.

    (decode_search_attributes decodes every field and trips over an unset
    Datetime, which the workflow writes whenever no deadline runs.)
    """
    converter = default_converter().payload_converter
    out: dict = {}
    for key, name in (("status", SA_STATUS.name), ("pending", SA_PENDING.name)):
        if name not in api.indexed_fields:
            continue
        try:
            out[key] = converter.from_payloads([api.indexed_fields[name]])[0]
        except Exception:  # noqa: BLE001 - a broken attribute must not hide the timeline
            continue
    return out


async def _raw_event(client: Client, event) -> RawEvent | None:
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    data: dict = {}
    if kind == "WORKFLOW_EXECUTION_STARTED":
        a = event.workflow_execution_started_event_attributes
        data = {
            "workflow_type": a.workflow_type.name,
            "task_queue": a.task_queue.name,
            "input": await _first(client, a.input.payloads),
            **_search_attrs(a.search_attributes),
        }
    elif kind == "ACTIVITY_TASK_SCHEDULED":
        a = event.activity_task_scheduled_event_attributes
        data = {
            "activity": a.activity_type.name,
            "input": await _first(client, a.input.payloads),
        }
    elif kind == "ACTIVITY_TASK_COMPLETED":
        a = event.activity_task_completed_event_attributes
        data = {
            "scheduled_event_id": a.scheduled_event_id,
            "result": await _first(client, a.result.payloads),
        }
    elif kind in {"ACTIVITY_TASK_FAILED", "ACTIVITY_TASK_TIMED_OUT"}:
        a = (
            event.activity_task_failed_event_attributes
            if kind == "ACTIVITY_TASK_FAILED"
            else event.activity_task_timed_out_event_attributes
        )
        data = {"scheduled_event_id": a.scheduled_event_id, "failure": a.failure.message}
    elif kind == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
        a = event.workflow_execution_update_accepted_event_attributes
        request = a.accepted_request
        data = {
            "update_id": request.meta.update_id,
            "identity": request.meta.identity,
            "name": request.input.name,
            "args": await _decode(client, request.input.args.payloads),
        }
    elif kind == "WORKFLOW_EXECUTION_UPDATE_COMPLETED":
        a = event.workflow_execution_update_completed_event_attributes
        data = {
            "update_id": a.meta.update_id,
            "accepted_event_id": a.accepted_event_id,
            "failure": a.outcome.failure.message if a.outcome.HasField("failure") else "",
        }
    elif kind == "WORKFLOW_EXECUTION_SIGNALED":
        a = event.workflow_execution_signaled_event_attributes
        data = {
            "name": a.signal_name,
            "identity": a.identity,
            "args": await _decode(client, a.input.payloads),
        }
    elif kind == "TIMER_STARTED":
        a = event.timer_started_event_attributes
        data = {
            "timer_id": a.timer_id,
            "seconds": a.start_to_fire_timeout.ToTimedelta().total_seconds(),
        }
    elif kind == "TIMER_FIRED":
        a = event.timer_fired_event_attributes
        data = {"timer_id": a.timer_id, "started_event_id": a.started_event_id}
    elif kind == "TIMER_CANCELED":
        a = event.timer_canceled_event_attributes
        data = {"timer_id": a.timer_id, "started_event_id": a.started_event_id}
    elif kind == "MARKER_RECORDED":
        a = event.marker_recorded_event_attributes
        if a.marker_name != LOCAL_ACTIVITY_MARKER:
            return None  # patch markers: nothing for a reader
        details = a.details
        meta = await _first(client, details["data"].payloads) if "data" in details else None
        result = await _first(client, details["result"].payloads) if "result" in details else None
        data = {
            "activity": meta.get("activity_type", "") if isinstance(meta, dict) else "",
            "result": result,
            "failure": a.failure.message if a.HasField("failure") else "",
        }
    elif kind == "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES":
        data = _search_attrs(
            event.upsert_workflow_search_attributes_event_attributes.search_attributes
        )
    elif kind == "WORKFLOW_EXECUTION_COMPLETED":
        a = event.workflow_execution_completed_event_attributes
        data = {"result": await _first(client, a.result.payloads)}
    elif kind == "WORKFLOW_EXECUTION_FAILED":
        data = {"failure": event.workflow_execution_failed_event_attributes.failure.message}
    elif kind == "WORKFLOW_EXECUTION_TERMINATED":
        a = event.workflow_execution_terminated_event_attributes
        data = {"reason": a.reason, "identity": a.identity}
    elif kind == "WORKFLOW_TASK_FAILED":
        a = event.workflow_task_failed_event_attributes
        data = {"failure": a.failure.message}
    elif kind in CLOSING:
        data = {}
    else:
        return None  # workflow task bookkeeping, activity started: nothing for a reader
    return RawEvent(
        event_id=event.event_id,
        type=kind,
        at=event.event_time.ToDatetime(tzinfo=UTC),
        data=data,
    )


def fetch_history(request_id: int) -> list[RawEvent]:
    """The request's history, decoded. Raises RPCError or TemporalUnavailable."""

    async def run(client: Client) -> list[RawEvent]:
        history = await client.get_workflow_handle(workflow_id(request_id)).fetch_history()
        events = [await _raw_event(client, event) for event in history.events]
        return [event for event in events if event is not None]

    return call(run, timeout=settings.TEMPORAL_CALL_TIMEOUT)
