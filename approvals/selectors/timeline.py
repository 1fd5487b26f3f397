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

from dataclasses import asdict
from datetime import UTC

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from temporalio.service import RPCError, RPCStatusCode

from ..models import ExpenseRequest
from ..temporal.client import TemporalUnavailable
from ..temporal.history import fetch_history
from ..workflow.contract import workflow_id
from .timeline_entries import AUDIT, Entry, Names, Timeline, from_audit
from .timeline_history import HistoryReader

UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


# --------------------------------------------------------------------- build
def workflow_ui_url(request_id: int) -> str:
    base = settings.TEMPORAL_UI_URL.rstrip("/")
    return f"{base}/namespaces/{settings.TEMPORAL_NAMESPACE}/workflows/{workflow_id(request_id)}"


def build(expense: ExpenseRequest) -> Timeline:
    """The merged timeline; falls back to the audit log alone, with a notice."""
    names = Names()
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
            reader = HistoryReader(expense, names)
            reader.read(events)
            timeline.entries, steps = reader.entries, reader.steps
            timeline.history_available = True
            timeline.closed = bool(reader.close_type)
            timeline.close_type = reader.close_type
    for row in expense.audit.all():
        entry = steps.get(row.key)
        if entry is None:
            timeline.entries.append(from_audit(row, names, expense.currency))
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
