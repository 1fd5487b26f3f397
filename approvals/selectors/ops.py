"""`/ops/`: every workflow that needs an operator's attention, each list from one query.

- activities failing repeatedly: open `OpsIssue` rows (written by the worker's
  activity wrappers), then `describe()` of just those workflows for what
  Temporal says now (pending activities: attempt, last failure, next attempt);
- side effects that failed for good: `Notification` rows with status failed;
- requests waiting on nobody: pending with a `waiting_reason` (the projection);
- requests past their level's deadline (SLA breached);
- requests queued for more than a minute (saved, workflow not started);
- projection lag: for the listed pending rows only, the live `get_status`
  sequence number compared with the projection's (bounded, concurrent);
- broken audit chains: links and heads of every request in one query, the full
  hash check for the requests changed last (`audit_chain`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client

from .. import audit_chain
from ..models import ExpenseRequest, Notification, OpsIssue, RequestStatus
from ..people import display_names
from ..temporal.client import call
from ..workflow.contract import ApprovalState, workflow_id
from .timeline import workflow_ui_url

LIMIT = 50
QUEUED_TOO_LONG = timedelta(minutes=1)
LIVE_TIMEOUT = 3.0


@dataclass
class PendingActivity:
    activity: str
    attempt: int
    last_failure: str
    next_attempt_at: datetime | None
    state: str


@dataclass
class Live:
    """What Temporal says about one workflow right now (None fields: unknown)."""

    status: str = ""
    pending: list[PendingActivity] = field(default_factory=list)
    seq: int | None = None
    error: str = ""


@dataclass
class Item:
    request_id: int | None
    title: str
    cause: str
    since: datetime | None
    workflow_id: str
    ui_url: str
    obj: object = None
    live: Live | None = None
    lagging: bool = False


@dataclass
class Overview:
    failing: list[Item]
    failed_mails: list[Item]
    waiting: list[Item]
    overdue: list[Item]
    queued: list[Item]
    live_error: str = ""
    broken_chains: list[Item] = field(default_factory=list)

    @property
    def total(self) -> int:
        lists = (
            self.failing,
            self.failed_mails,
            self.waiting,
            self.overdue,
            self.queued,
            self.broken_chains,
        )
        return sum(len(x) for x in lists)


def waiting_reason_words(reason: str) -> str:
    words = {
        "needs_approver": _(
            "No one can decide this level: the organisation ran out of people who have "
            "not approved it yet and no administrator is left to take it."
        ),
    }
    return words.get(reason, _("Waiting on nobody (%(reason)s).") % {"reason": reason})


def _item(request: ExpenseRequest, cause: str, since, obj=None) -> Item:
    return Item(
        request_id=request.pk,
        title=request.title,
        cause=cause,
        since=since,
        workflow_id=workflow_id(request.pk),
        ui_url=workflow_ui_url(request.pk),
        obj=obj or request,
    )


def _failed_mail(n: Notification) -> Item:
    cause = _("A mail to %(recipient)s could not be sent: %(error)s") % {
        "recipient": n.recipient,
        "error": n.error[:500],
    }
    if n.request is not None:
        return _item(n.request, cause, n.failed_at, obj=n)
    # A digest or a report ("digest:2026-12-01"): no request, no timeline.
    return Item(None, n.subject or n.key, cause, n.failed_at, "", "", obj=n)


async def _live_one(client: Client, wf_id: str, *, want_seq: bool) -> Live:
    handle = client.get_workflow_handle(wf_id)
    live = Live()
    try:
        desc = await handle.describe()
        live.status = desc.status.name if desc.status else ""
        for p in desc.raw_description.pending_activities:
            next_at = (
                p.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
                if p.HasField("next_attempt_schedule_time")
                else None
            )
            live.pending.append(
                PendingActivity(
                    activity=p.activity_type.name,
                    attempt=p.attempt,
                    last_failure=p.last_failure.message if p.HasField("last_failure") else "",
                    next_attempt_at=next_at,
                    state=PendingActivityState.Name(p.state)
                    .removeprefix("PENDING_ACTIVITY_STATE_")
                    .lower(),
                )
            )
        if want_seq and live.status == "RUNNING":
            state = await handle.query("get_status", result_type=ApprovalState)
            live.seq = state.seq
    except Exception as exc:  # one workflow's trouble must not hide the others
        live.error = f"{type(exc).__name__}: {exc}"[:300]
    return live


def _describe(ids: list[str], seq_ids: set[str]) -> dict[str, Live]:
    if not ids:
        return {}

    async def run(client: Client) -> dict[str, Live]:
        lives = await asyncio.gather(*(_live_one(client, i, want_seq=i in seq_ids) for i in ids))
        return dict(zip(ids, lives, strict=True))

    return call(run, timeout=LIVE_TIMEOUT + 0.1 * len(ids))


def ops_overview(*, live: bool = True) -> Overview:
    now = timezone.now()
    issues = list(
        OpsIssue.objects.filter(resolved_at__isnull=True).select_related("request")[:LIMIT]
    )
    failing = [
        Item(
            request_id=i.request_id,
            title=i.request.title if i.request else "",
            cause=_(
                "The activity %(activity)s has failed %(attempt)s times in a row; "
                "last error: %(error)s"
            )
            % {"activity": i.activity, "attempt": i.attempt, "error": i.error[:500]},
            since=i.first_seen,
            workflow_id=i.workflow_id,
            ui_url=workflow_ui_url(i.request_id) if i.request_id else "",
            obj=i,
        )
        for i in issues
    ]
    mails = Notification.objects.filter(status="failed").select_related("request")
    failed_mails = [_failed_mail(n) for n in mails.order_by("-failed_at")[:LIMIT]]
    pending = ExpenseRequest.objects.filter(status=RequestStatus.PENDING)
    waiting = [
        _item(r, waiting_reason_words(r.waiting_reason), r.updated_at)
        for r in pending.exclude(waiting_reason="").order_by("updated_at")[:LIMIT]
    ]
    overdue = [
        _item(
            r,
            _("Level %(level)s is past its deadline; waiting for %(who)s.")
            % {"level": r.current_level, "who": display_names(r.pending_approvers)},
            r.due_at,
        )
        for r in pending.filter(due_at__lt=now).order_by("due_at")[:LIMIT]
    ]
    queued = [
        _item(
            r,
            _(
                "Saved more than a minute ago, but its workflow has not started (Temporal "
                "was unreachable); the reconciler retries it, or start it now."
            ),
            r.created_at,
        )
        for r in ExpenseRequest.objects.filter(
            status=RequestStatus.QUEUED,
            workflow_started_at__isnull=True,
            created_at__lt=now - QUEUED_TOO_LONG,
        ).order_by("created_at")[:LIMIT]
    ]
    overview = Overview(failing, failed_mails, waiting, overdue, queued)
    overview.broken_chains = _broken_chains()
    if live:
        _add_live(overview)
    return overview


def chain_break_words(found: audit_chain.Break) -> str:
    words = {
        "edited": _("Audit row %(row)s (%(key)s) was changed after it was written."),
        "missing_before": _(
            "Audit row %(row)s (%(key)s) does not follow the row before it: a row was "
            "deleted or slipped in."
        ),
        "head_mismatch": _(
            "The newest audit rows are missing: the chain ends at %(key)s, not where the "
            "request recorded it."
        ),
    }
    return words[found.reason] % {"row": found.entry_id or "—", "key": found.key or "—"}


def _broken_chains() -> list[Item]:
    found = {b.request_id: b for b in audit_chain.recent_breaks()}
    for b in audit_chain.link_breaks(LIMIT):
        found.setdefault(b.request_id, b)
    requests = ExpenseRequest.objects.in_bulk(list(found))
    return [
        _item(requests[pk], chain_break_words(b), None, obj=b)
        for pk, b in sorted(found.items())[:LIMIT]
        if pk in requests
    ]


def _add_live(overview: Overview) -> None:
    with_seq = [*overview.waiting, *overview.overdue]
    ids = list(dict.fromkeys(i.workflow_id for i in [*overview.failing, *with_seq]))
    try:
        lives = _describe(ids, {i.workflow_id for i in with_seq})
    except Exception as exc:  # Temporal away: the lists from the database still stand
        overview.live_error = _(
            "Temporal could not be asked right now (%(error)s); the lists above come from "
            "the database alone."
        ) % {"error": type(exc).__name__}
        return
    for item in [*overview.failing, *with_seq]:
        item.live = lives.get(item.workflow_id)
    for item in with_seq:
        row = item.obj
        if item.live and item.live.seq is not None and item.live.seq > row.state_seq:
            item.lagging = True
