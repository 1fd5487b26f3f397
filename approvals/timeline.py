"""The audit timeline of one request: workflow history merged with the audit log.

Two sources, each with its own strength:

- the workflow's event history in Temporal: exact and replayable (starts,
  activities, Updates and Signals with their payloads, timers, search
  attribute changes, completion), but removed after the namespace's
  retention period;
- the durable audit log (`AuditEntry`, written by the `record_transition`
  activity): outlives retention and keeps names and roles as text.

Every step the workflow emits (submitted, assigned, decided, reminder,
escalated, ...) reaches both: it is in the input of a `record_transition`
activity in the history and in an audit row keyed `wf:<seq>:<kind>`. Such a
pair becomes one entry marked with both sources; Updates and Signals that
carried a decision are folded into the step they caused. Everything else is
shown from where it came. Refused Updates (validator rejections) never
enter the history, so no timeline can show them; refused Signals do
(`signal_ignored`).

Payloads are decoded with the client's data converter inside the client's
event loop; the mapping to entries runs in the view's thread (it reads a
few rows: display names, notifications sent).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.converter import default as default_converter
from temporalio.service import RPCError, RPCStatusCode

from accounts.models import User

from .models import AuditEntry, ExpenseRequest, Notification
from .temporal.client import TemporalUnavailable, call
from .temporal.shared import SA_PENDING, SA_STATUS, workflow_id

TIME_FORMAT = "Y-m-d H:i:s"
HISTORY = "history"
AUDIT = "audit"

CLOSING = {
    "WORKFLOW_EXECUTION_COMPLETED",
    "WORKFLOW_EXECUTION_FAILED",
    "WORKFLOW_EXECUTION_TERMINATED",
    "WORKFLOW_EXECUTION_TIMED_OUT",
    "WORKFLOW_EXECUTION_CANCELED",
    "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
}
UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
# Updates other than `decide` and the step each one emits when it succeeds.
UPDATE_STEPS = {
    "withdraw": "withdrawn",
    "resubmit": "resubmitted",
    "extend_deadline": "deadline_extended",
}


@dataclass
class Entry:
    at: datetime
    sources: list[str]
    kind: str
    summary: str
    actor: str = ""
    actor_role: str = ""
    comment: str = ""
    channel: str = ""
    level: int = 0
    event_id: int | None = None  # the history event this entry was read from
    seq: int | None = None  # the workflow's step sequence number
    detail: dict = field(default_factory=dict)

    @property
    def source_label(self) -> str:
        if HISTORY in self.sources and AUDIT in self.sources:
            return _("history + audit log")
        return _("workflow history") if HISTORY in self.sources else _("audit log")

    @property
    def detail_json(self) -> str:
        return json.dumps(self.detail, indent=2, sort_keys=True, default=str, ensure_ascii=False)

    @property
    def sort_key(self) -> tuple:
        # Steps carry the workflow time of the task that emitted them; on a tie
        # they go first, in the order the workflow numbered them.
        return (self.at, 0 if self.seq is not None else 1, self.seq or 0, self.event_id or 0)


@dataclass
class Timeline:
    entries: list[Entry]
    history_available: bool
    workflow_id: str
    ui_url: str
    notice: str = ""
    closed: bool = False
    close_type: str = ""


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


# ------------------------------------------------------------------ wording
class _Names:
    """Display names by username, looked up once each (users are never deleted)."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, username: str) -> str:
        if not username:
            return ""
        if username not in self._cache:
            user = User.objects.filter(username=username).first()
            self._cache[username] = user.display_name if user else username
        return self._cache[username]

    def many(self, usernames) -> str:
        return ", ".join(self(name) for name in usernames or []) or "—"


def _money(cents: Any, currency: str = "") -> str:
    try:
        value = Decimal(int(cents)) / 100
    except (TypeError, ValueError):
        return "?"
    amount = formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    return f"{amount} {currency}".strip()


def _local(moment: datetime) -> str:
    # To the second, whatever the locale: an audit trail orders things by it.
    return formats.date_format(timezone.localtime(moment), TIME_FORMAT)


def _when(value: str | None) -> str:
    moment = _parse(value)
    return "—" if moment is None else _local(moment)


def _parse(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _action_text(action: str) -> str:
    texts = {
        "approve": _("approved"),
        "reject": _("rejected"),
        "request_changes": _("requested changes"),
    }
    return texts.get(action, action)


def _step_summary(
    kind: str, level: int, actor: str, detail: dict, recipients: list[str], names: _Names
) -> str:
    values = {"level": level, "actor": actor or "—", "to": names.many(recipients)}
    if kind == "submitted":
        values["amount"] = _money(detail.get("amount_cents"), detail.get("currency", ""))
        return _("Submitted by %(actor)s for %(amount)s") % values
    if kind == "assigned":
        values["due"] = _when(detail.get("due_at"))
        return _("Level %(level)s assigned to %(to)s, due %(due)s") % values
    if kind == "decided":
        values["action"] = _action_text(detail.get("action", ""))
        text = _("%(actor)s %(action)s at level %(level)s") % values
        if detail.get("on_behalf_of"):
            text += " " + _("(on behalf of %(name)s)") % {"name": names(detail["on_behalf_of"])}
        if detail.get("override"):
            text += " " + _("(administrator override)")
        return text
    if kind == "auto_approved":
        return _("Level %(level)s approved automatically: %(actor)s had already approved") % values
    if kind == "reminder":
        values["due"] = _when(detail.get("due_at"))
        return _("Reminder sent to %(to)s for level %(level)s (due %(due)s)") % values
    if kind == "escalated":
        values["from"] = names.many(detail.get("from"))
        values["to"] = names.many(detail.get("to") or recipients)
        return _("Level %(level)s escalated from %(from)s to %(to)s") % values
    if kind == "signal_ignored":
        values["action"] = detail.get("action", "")
        values["reason"] = detail.get("reason", "")
        return _("Signal from %(actor)s (%(action)s) ignored: %(reason)s") % values
    if kind == "withdrawn":
        return _("Withdrawn by %(actor)s") % values
    if kind == "resubmitted":
        values.update(
            old_title=detail.get("old_title", ""),
            title=detail.get("title", ""),
            old_amount=_money(detail.get("old_amount_cents")),
            amount=_money(detail.get("amount_cents")),
            round=detail.get("round", ""),
        )
        return (
            _(
                "Resubmitted by %(actor)s (round %(round)s): “%(old_title)s” %(old_amount)s → "
                "“%(title)s” %(amount)s"
            )
            % values
        )
    if kind == "deadline_extended":
        values["seconds"] = detail.get("seconds", "")
        values["due"] = _when(detail.get("due_at"))
        return (
            _("Deadline of level %(level)s extended by %(seconds)s s by %(actor)s, now %(due)s")
            % values
        )
    if kind == "expired":
        values["escalations"] = detail.get("escalations", 0)
        return _("Expired at level %(level)s after %(escalations)s escalations") % values
    if kind == "completed":
        return _("Outcome: %(outcome)s") % {"outcome": detail.get("outcome", "")}
    return kind


# ---------------------------------------------------------- from each source
def _from_step(step: dict, event: RawEvent, names: _Names) -> Entry:
    detail = dict(step.get("detail") or {})
    recipients = list(step.get("recipients") or [])
    actor = step.get("actor_display") or names(step.get("actor", ""))
    kind = step.get("kind", "")
    level = int(step.get("level") or 0)
    return Entry(
        at=_parse(detail.get("at")) or event.at,
        sources=[HISTORY],
        kind=kind,
        summary=_step_summary(kind, level, actor, detail, recipients, names),
        actor=actor,
        actor_role=step.get("actor_role", ""),
        comment=step.get("comment", ""),
        channel=step.get("channel", ""),
        level=level,
        event_id=event.event_id,
        seq=detail.get("seq"),
        detail={**detail, "actor_username": step.get("actor", ""), "recipients": recipients},
    )


def _from_audit(row: AuditEntry, names: _Names) -> Entry:
    detail = dict(row.detail or {})
    recipients = list(detail.get("recipients") or [])
    return Entry(
        at=row.at,
        sources=[AUDIT],
        kind=row.kind,
        summary=_step_summary(row.kind, row.level, row.actor_name, detail, recipients, names),
        actor=row.actor_name,
        actor_role=row.actor_role,
        comment=row.comment,
        channel=row.channel,
        level=row.level,
        seq=detail.get("seq"),
        detail={**detail, "actor_username": row.actor_username, "audit_id": row.pk},
    )


def _actor_of(args: list) -> tuple[dict, dict]:
    arg = args[0] if args and isinstance(args[0], dict) else {}
    actor = arg.get("actor") if isinstance(arg.get("actor"), dict) else {}
    return arg, actor


class _HistoryReader:
    """Turns decoded history events into entries (steps indexed for the merge)."""

    def __init__(self, expense: ExpenseRequest, names: _Names) -> None:
        self.expense = expense
        self.names = names
        self.entries: list[Entry] = []
        self.steps: dict[str, Entry] = {}
        self.scheduled: dict[int, RawEvent] = {}
        self.updates: dict[int, tuple[RawEvent, RawEvent | None]] = {}
        self.signals: list[RawEvent] = []
        self.status: str | None = None
        self.close_type = ""

    def add(self, event: RawEvent, kind: str, summary: str, **extra) -> Entry:
        entry = Entry(
            at=event.at, sources=[HISTORY], kind=kind, summary=summary, event_id=event.event_id
        )
        for key, value in extra.items():
            setattr(entry, key, value)
        self.entries.append(entry)
        return entry

    def read(self, events: list[RawEvent]) -> None:
        for event in events:
            handler = getattr(self, f"on_{event.type.lower()}", None)
            if handler is not None:
                handler(event)
            if event.type in CLOSING:
                self.close_type = event.type.removeprefix("WORKFLOW_EXECUTION_").lower()
        self._fold_updates()
        self._fold_signals()

    # --- workflow lifecycle
    def on_workflow_execution_started(self, event: RawEvent) -> None:
        inp = event.data.get("input") if isinstance(event.data.get("input"), dict) else {}
        self.status = event.data.get("status") or self.status
        policy = inp.get("policy") or {}
        self.add(
            event,
            "workflow_started",
            _(
                "Workflow started: “%(title)s”, %(amount)s, requested by %(name)s; "
                "%(sla)s s per level, reminder after %(reminder)s s"
            )
            % {
                "title": inp.get("title", ""),
                "amount": _money(inp.get("amount_cents"), inp.get("currency", "")),
                "name": inp.get("requester_display") or inp.get("requester", ""),
                "sla": policy.get("sla_seconds", "?"),
                "reminder": policy.get("reminder_seconds", "?"),
            },
            actor=inp.get("requester_display", ""),
            detail={"input": inp, "workflow_type": event.data.get("workflow_type", "")},
        )

    def on_workflow_execution_completed(self, event: RawEvent) -> None:
        result = event.data.get("result") if isinstance(event.data.get("result"), dict) else {}
        self.add(
            event,
            "workflow_completed",
            _("Workflow completed with status %(status)s") % {"status": result.get("status", "?")},
            detail={"result": result},
        )

    def on_workflow_execution_failed(self, event: RawEvent) -> None:
        self.add(
            event,
            "workflow_failed",
            _("Workflow failed: %(reason)s") % {"reason": event.data.get("failure", "")},
        )

    def on_workflow_execution_terminated(self, event: RawEvent) -> None:
        self.add(
            event,
            "workflow_terminated",
            _("Workflow terminated: %(reason)s") % {"reason": event.data.get("reason", "")},
            actor=event.data.get("identity", ""),
        )

    def on_workflow_execution_timed_out(self, event: RawEvent) -> None:
        self.add(event, "workflow_timed_out", _("Workflow timed out"))

    def on_workflow_execution_canceled(self, event: RawEvent) -> None:
        self.add(event, "workflow_canceled", _("Workflow canceled"))

    def on_workflow_execution_continued_as_new(self, event: RawEvent) -> None:
        self.add(event, "workflow_continued", _("Workflow continued as a new run"))

    def on_workflow_task_failed(self, event: RawEvent) -> None:
        self.add(
            event,
            "workflow_task_failed",
            _("Workflow task failed (retried by Temporal): %(reason)s")
            % {"reason": event.data.get("failure", "")},
        )

    def on_upsert_workflow_search_attributes(self, event: RawEvent) -> None:
        status = event.data.get("status")
        if status and status != self.status:
            self.add(
                event,
                "status_changed",
                _("Status changed to %(status)s") % {"status": status},
                detail={"status": status, "pending": event.data.get("pending", [])},
            )
        self.status = status or self.status

    # --- activities
    def on_activity_task_scheduled(self, event: RawEvent) -> None:
        self.scheduled[event.event_id] = event
        if event.data.get("activity") != "record_transition":
            return
        transition = event.data.get("input") if isinstance(event.data.get("input"), dict) else {}
        for step in transition.get("events") or []:
            entry = _from_step(step, event, self.names)
            key = f"wf:{entry.seq}:{entry.kind}"
            if key not in self.steps:
                self.steps[key] = entry
                self.entries.append(entry)

    def on_activity_task_completed(self, event: RawEvent) -> None:
        scheduled = self.scheduled.get(event.data.get("scheduled_event_id", 0))
        activity = scheduled.data.get("activity") if scheduled else ""
        result = event.data.get("result")
        if activity == "resolve_chain" and isinstance(result, list):
            levels = "; ".join(
                _("level %(n)s: %(names)s") % {"n": i + 1, "names": self.names.many(approvers)}
                for i, approvers in enumerate(result)
            )
            self.add(
                event,
                "chain_resolved",
                _("Approval chain resolved: %(levels)s") % {"levels": levels or "—"},
                detail={"chain": result},
            )
        elif activity == "resolve_escalation" and isinstance(result, list):
            self.add(
                event,
                "escalation_resolved",
                _("Escalation target resolved: %(names)s") % {"names": self.names.many(result)},
                detail={"targets": result},
            )
        elif activity == "send_notifications" and scheduled is not None:
            self._notifications(event, scheduled)
        # record_transition and publish_transition completing adds nothing a
        # reader needs: the steps they carried are already on the timeline.

    def _notifications(self, event: RawEvent, scheduled: RawEvent) -> None:
        transition = scheduled.data.get("input")
        steps = transition.get("events") if isinstance(transition, dict) else []
        keys = [f"{(s.get('detail') or {}).get('seq', 0)}:{s.get('kind', '')}" for s in steps]
        sent = list(
            Notification.objects.filter(request=self.expense, key__in=keys)
            .order_by("pk")
            .values_list("key", "recipient")
        )
        if not sent:
            return  # nobody was mailed for these steps
        recipients = list(dict.fromkeys(recipient for _key, recipient in sent))
        self.add(
            event,
            "notifications_sent",
            _("Notifications sent to %(names)s") % {"names": self.names.many(recipients)},
            detail={"emails": [{"key": k, "recipient": r} for k, r in sent]},
        )

    def _activity_failed(self, event: RawEvent) -> None:
        scheduled = self.scheduled.get(event.data.get("scheduled_event_id", 0))
        self.add(
            event,
            "activity_failed",
            _("Activity %(name)s failed: %(reason)s")
            % {
                "name": scheduled.data.get("activity", "?") if scheduled else "?",
                "reason": event.data.get("failure", ""),
            },
        )

    on_activity_task_failed = _activity_failed
    on_activity_task_timed_out = _activity_failed

    # --- timers
    def on_timer_started(self, event: RawEvent) -> None:
        seconds = event.data.get("seconds", 0)
        fires = event.at + timedelta(seconds=seconds)
        self.add(
            event,
            "timer_started",
            _("Timer started: fires in %(seconds)s s, at %(when)s")
            % {
                "seconds": f"{seconds:.1f}",
                "when": _local(fires),
            },
            channel="timer",
            detail={**event.data, "fires_at": fires.isoformat()},
        )

    def on_timer_fired(self, event: RawEvent) -> None:
        self.add(event, "timer_fired", _("Timer fired"), channel="timer", detail=event.data)

    def on_timer_canceled(self, event: RawEvent) -> None:
        self.add(
            event,
            "timer_canceled",
            _("Timer canceled (something happened before it fired)"),
            channel="timer",
            detail=event.data,
        )

    # --- updates and signals
    def on_workflow_execution_update_accepted(self, event: RawEvent) -> None:
        self.updates[event.event_id] = (event, None)

    def on_workflow_execution_update_completed(self, event: RawEvent) -> None:
        accepted_id = event.data.get("accepted_event_id", 0)
        if accepted_id in self.updates:
            self.updates[accepted_id] = (self.updates[accepted_id][0], event)

    def on_workflow_execution_signaled(self, event: RawEvent) -> None:
        self.signals.append(event)

    def _by_decision(self) -> dict[str, Entry]:
        return {
            e.detail["decision_id"]: e for e in self.steps.values() if e.detail.get("decision_id")
        }

    def _fold_updates(self) -> None:
        by_decision = self._by_decision()
        unclaimed: dict[str, list[Entry]] = {}
        for entry in sorted(self.steps.values(), key=lambda e: e.seq or 0):
            unclaimed.setdefault(entry.kind, []).append(entry)
        for accepted, completed in self.updates.values():
            name = accepted.data.get("name", "")
            arg, actor = _actor_of(accepted.data.get("args") or [])
            failure = completed.data.get("failure", "") if completed else ""
            info = {
                "name": name,
                "update_id": accepted.data.get("update_id", ""),
                "accepted_event_id": accepted.event_id,
                "completed_event_id": completed.event_id if completed else None,
                "outcome": "failure" if failure else ("success" if completed else "running"),
            }
            target = None
            if completed and not failure:
                if name == "decide":
                    target = by_decision.get(arg.get("decision_id", ""))
                elif UPDATE_STEPS.get(name) in unclaimed and unclaimed[UPDATE_STEPS[name]]:
                    target = unclaimed[UPDATE_STEPS[name]].pop(0)
            if target is not None:
                target.detail["update"] = info
                continue
            who = actor.get("display") or self.names(actor.get("username", ""))
            if failure:
                summary = _("Update %(name)s from %(actor)s refused after acceptance: %(reason)s")
            elif completed:
                summary = _("Update %(name)s from %(actor)s completed without a change")
            else:
                summary = _("Update %(name)s from %(actor)s accepted, still running")
            self.add(
                accepted,
                "update",
                summary % {"name": name, "actor": who or "?", "reason": failure},
                actor=who,
                actor_role=actor.get("role", ""),
                comment=arg.get("comment", "") or arg.get("reason", ""),
                channel="update",
                detail={**info, "args": accepted.data.get("args")},
            )

    def _fold_signals(self) -> None:
        by_decision = self._by_decision()
        for signal in self.signals:
            arg, actor = _actor_of(signal.data.get("args") or [])
            info = {"name": signal.data.get("name", ""), "event_id": signal.event_id}
            target = by_decision.get(arg.get("decision_id") or "")
            if target is not None and target.channel == "signal":
                target.detail["signal"] = info
                continue
            who = actor.get("display") or self.names(actor.get("username", ""))
            self.add(
                signal,
                "signal",
                _("Signal %(name)s from %(actor)s: %(action)s (a repeat, or not applied yet)")
                % {
                    "name": info["name"],
                    "actor": who or "?",
                    "action": _action_text(arg.get("action", "")),
                },
                actor=who,
                actor_role=actor.get("role", ""),
                comment=arg.get("comment", ""),
                channel="signal",
                detail={**info, "args": signal.data.get("args")},
            )


# --------------------------------------------------------------------- build
def workflow_ui_url(request_id: int) -> str:
    base = settings.TEMPORAL_UI_URL.rstrip("/")
    return f"{base}/namespaces/{settings.TEMPORAL_NAMESPACE}/workflows/{workflow_id(request_id)}"


def build(expense: ExpenseRequest) -> Timeline:
    """The merged timeline; falls back to the audit log alone, with a notice."""
    names = _Names()
    timeline = Timeline(
        entries=[],
        history_available=False,
        workflow_id=workflow_id(expense.pk),
        ui_url=workflow_ui_url(expense.pk),
    )
    steps: dict[str, Entry] = {}
    unreachable = _(
        "Temporal cannot be reached right now, so the workflow's event history is not "
        "shown. Showing the durable audit log only; reload later for the full timeline."
    )
    if expense.workflow_started_at is None and expense.status == "queued":
        timeline.notice = _(
            "The workflow of this request has not started yet (it is queued), so there is "
            "no event history. Showing the audit log only."
        )
    else:
        try:
            events = fetch_history(expense.pk)
        except TemporalUnavailable:
            timeline.notice = unreachable
        except RPCError as exc:
            if exc.status in UNREACHABLE:
                timeline.notice = unreachable
            elif exc.status == RPCStatusCode.NOT_FOUND:
                timeline.notice = _(
                    "The workflow's event history is no longer in Temporal (removed after the "
                    "retention period). Showing the durable audit log only."
                )
            else:
                timeline.notice = _(
                    "Temporal refused to return the workflow's event history (%(error)s). "
                    "Showing the durable audit log only."
                ) % {"error": exc.message}
        else:
            reader = _HistoryReader(expense, names)
            reader.read(events)
            timeline.entries, steps = reader.entries, reader.steps
            timeline.history_available = True
            timeline.closed = bool(reader.close_type)
            timeline.close_type = reader.close_type
    for row in expense.audit.all():
        entry = steps.get(row.key)
        if entry is None:
            timeline.entries.append(_from_audit(row, names))
            continue
        # The same step from both sources: the audit row keeps names as text.
        entry.sources.append(AUDIT)
        entry.actor = row.actor_name or entry.actor
        entry.actor_role = row.actor_role or entry.actor_role
        entry.detail["audit_id"] = row.pk
    timeline.entries.sort(key=lambda e: e.sort_key)
    return timeline


def as_json(expense: ExpenseRequest, result: Timeline) -> dict:
    """The whole timeline as JSON-able data (times in UTC and in the viewer's zone)."""
    return {
        "request_id": expense.pk,
        "workflow_id": result.workflow_id,
        "temporal_ui_url": result.ui_url,
        "history_available": result.history_available,
        "closed": result.closed,
        "close_type": result.close_type,
        "notice": result.notice,
        "time_zone": timezone.get_current_timezone_name(),
        "entries": [
            {
                **asdict(entry),
                "at": entry.at.astimezone(UTC).isoformat(),
                "at_local": timezone.localtime(entry.at).isoformat(),
                "source": entry.source_label,
            }
            for entry in result.entries
        ],
    }
