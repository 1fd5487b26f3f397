"""Reading a decoded history into timeline entries (steps indexed for the merge)."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from ..amounts import money_text
from ..calendars import day_words
from ..models import ExpenseRequest, Notification
from ..templatetags.when import relative_text
from ..temporal.history import CLOSING, RawEvent
from ..workflow.contract import Calls, StepKind
from .timeline_entries import (
    HISTORY,
    Entry,
    Names,
    action_text,
    actor_of,
    from_step,
)

# Updates other than `decide` and the step each one emits when it succeeds.
UPDATE_STEPS = {
    Calls.WITHDRAW: StepKind.WITHDRAWN,
    Calls.RESUBMIT: StepKind.RESUBMITTED,
    Calls.EXTEND_DEADLINE: StepKind.DEADLINE_EXTENDED,
}


class HistoryReader:
    """Turns decoded history events into entries (steps indexed for the merge)."""

    def __init__(self, expense: ExpenseRequest, names: Names) -> None:
        self.expense = expense
        self.names = names
        self.entries: list[Entry] = []
        self.steps: dict[str, Entry] = {}
        self.scheduled: dict[int, RawEvent] = {}
        self.updates: dict[int, tuple[RawEvent, RawEvent | None]] = {}
        self.signals: list[RawEvent] = []
        self.local_results: list[Entry | None] = []  # lookups waiting for their task's steps
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
                "amount": money_text(inp.get("amount_cents"), inp.get("currency", "")),
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
        self._steps(event, transition.get("events") or [])

    def _steps(self, event: RawEvent, steps: list) -> list[Entry]:
        added = []
        for step in steps:
            if not isinstance(step, dict):
                continue
            entry = from_step(step, event, self.names, self.expense.currency)
            key = f"wf:{entry.seq}:{entry.kind}"
            if key not in self.steps:
                self.steps[key] = entry
                self.entries.append(entry)
                added.append(entry)
        return added

    def on_marker_recorded(self, event: RawEvent) -> None:
        """A local activity of the start's task (patch local-first-steps).

        The route and the first record ran inside one task, so the history's times
        cannot order them: the route goes right after the submission step.
        """
        activity, result = event.data.get("activity", ""), event.data.get("result")
        if event.data.get("failure"):
            self.add(
                event,
                "activity_failed",
                _("Activity %(name)s failed: %(reason)s")
                % {"name": activity or "?", "reason": event.data["failure"]},
            )
            return
        if activity != Calls.RECORD_FIRST_STEPS:
            self.local_results.append(self._completed(event, activity, result))
            return
        steps = self._steps(event, result if isinstance(result, list) else [])
        submitted = next((e for e in steps if e.kind == StepKind.SUBMITTED), None)
        for entry in filter(None, self.local_results):
            if submitted is not None:
                entry.at, entry.position = submitted.at, (submitted.seq or 0) + 0.5
        self.local_results = []

    def on_activity_task_completed(self, event: RawEvent) -> None:
        scheduled = self.scheduled.get(event.data.get("scheduled_event_id", 0))
        activity = scheduled.data.get("activity") if scheduled else ""
        result = event.data.get("result")
        if activity == Calls.SEND_NOTIFICATIONS and scheduled is not None:
            self._notifications(event, scheduled)
            return
        self._completed(event, activity, result)
        # record_transition completing adds nothing a reader needs: the steps it
        # carried are already on the timeline.

    def _completed(self, event: RawEvent, activity: str, result) -> Entry | None:
        """The entry for a lookup's result (regular or local activity), if it has one."""
        if activity == Calls.RESOLVE_ROUTE and isinstance(result, dict):
            return self.add(
                event,
                "chain_resolved",
                _("Approval route resolved: managers %(ladder)s; administrators %(admins)s")
                % {
                    "ladder": self.names.many(result.get("ladder")),
                    "admins": self.names.many(result.get("admins")),
                },
                detail={"route": result},
            )
        elif activity == Calls.RESOLVE_MANAGERS and isinstance(result, dict):
            chains = result.get("chains") or {}
            return self.add(
                event,
                "escalation_resolved",
                _("Managers looked up: %(chains)s")
                % {
                    "chains": "; ".join(
                        f"{self.names(p)} → {self.names.many(c)}" for p, c in chains.items()
                    )
                    or "—"
                },
                detail={"managers": result},
            )
        return None

    def _notifications(self, event: RawEvent, scheduled: RawEvent) -> None:
        transition = scheduled.data.get("input")
        steps = transition.get("events") if isinstance(transition, dict) else []
        keys = [f"{(s.get('detail') or {}).get('seq', 0)}:{s.get('kind', '')}" for s in steps]
        sent = list(
            Notification.objects.filter(request=self.expense, key__in=keys, status="sent")
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
        # In people's words: "Timer set for Wednesday 09:00 (in 1 day)", not seconds.
        self.add(
            event,
            "timer_started",
            _("Timer set for %(when)s (%(relative)s)")
            % {
                "when": day_words(fires, now=event.at),
                "relative": relative_text(fires, now=event.at),
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
            arg, actor = actor_of(accepted.data.get("args") or [])
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
            arg, actor = actor_of(signal.data.get("args") or [])
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
                    "action": action_text(arg.get("action", "")),
                },
                actor=who,
                actor_role=actor.get("role", ""),
                comment=arg.get("comment", ""),
                channel="signal",
                detail={**info, "args": signal.data.get("args")},
            )
