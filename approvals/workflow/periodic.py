"""Workflows the Temporal Schedules start: the daily digest and the weekly overdue report.

Django-free, like the rest of this package. Each run is one period (the digest's local
day, the report's ISO week), taken from the time it stands for: the input's
`scheduled_at` when given (a run started by hand for a given day; the schedules send
none), else the `TemporalScheduledStartTime` search attribute the scheduler sets (a
trigger sets its own time), else the timestamp suffix of the scheduler's workflow id,
else the workflow's clock. The
activities turn that time into the period in `TIME_ZONE` and send each mail at most
once per (recipient, period), so a second run of the same day or week sends nothing.

One activity per recipient: one person's refused address neither stops nor repeats the
others' mails. A mail that still fails after its bounded retries is recorded as failed
(`/ops/` lists it and can resend it) and the run goes on.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from .retries import DB_RETRY, DB_TIMEOUT, MAIL_RETRY

DIGEST_WORKFLOW = "DailyDigest"
OVERDUE_REPORT_WORKFLOW = "OverdueReport"


class MailKind:
    """What a periodic run sends; also the first part of its `Notification.key`."""

    DIGEST = "digest"
    OVERDUE_REPORT = "overdue_report"


class Outcome:
    SENT = "sent"
    SKIPPED = "skipped"  # already sent this period, or nothing to tell any more
    FAILED = "failed"  # recorded as failed for good (listed on /ops/)


class PeriodicCalls:
    PLAN = "plan_periodic_mail"
    SEND = "send_periodic_mail"
    RECORD_FAILURE = "record_periodic_mail_failure"


# Set by the Temporal scheduler on every workflow a schedule starts (also by a trigger).
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
# The scheduler's workflow ids: "<action id>-<scheduled time, RFC 3339 UTC>".
_ID_TIME = re.compile(r"-(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z$")
BATCH = 8  # mails in flight at once


@dataclass
class PeriodicInput:
    """A run's input; the schedules send it empty. `scheduled_at`: ISO 8601 with offset."""

    scheduled_at: str = ""


@dataclass
class PeriodicRun:
    kind: str
    scheduled_at: str


@dataclass
class MailPlan:
    kind: str
    period: str  # "2026-12-01" (digest), "2026-W49" (report)
    recipients: list[str] = field(default_factory=list)


@dataclass
class PeriodicMail:
    kind: str
    period: str
    recipient: str
    scheduled_at: str = ""


@dataclass
class PeriodicFailure:
    mail: PeriodicMail
    cause: str = ""


@dataclass
class PeriodicResult:
    kind: str
    period: str
    scheduled_at: str = ""
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# Activity interfaces (approvals/worker/periodic.py registers the implementations).
@activity.defn(name=PeriodicCalls.PLAN)
def plan_periodic_mail(run: PeriodicRun) -> MailPlan:
    raise NotImplementedError  # interface only


@activity.defn(name=PeriodicCalls.SEND)
def send_periodic_mail(mail: PeriodicMail) -> str:
    raise NotImplementedError  # interface only


@activity.defn(name=PeriodicCalls.RECORD_FAILURE)
def record_periodic_mail_failure(failure: PeriodicFailure) -> None:
    raise NotImplementedError  # interface only


def scheduled_at(inp: PeriodicInput) -> str:
    """The time this run stands for (see the module docstring for the order)."""
    if inp.scheduled_at:
        return inp.scheduled_at
    info = workflow.info()
    at = info.typed_search_attributes.get(SCHEDULED_START)
    if at is not None:
        return at.isoformat()
    match = _ID_TIME.search(info.workflow_id)
    if match:
        return match.group(1) + "+00:00"
    return workflow.now().isoformat()


class _PeriodicMailWorkflow:
    kind = ""

    async def _run(self, inp: PeriodicInput) -> PeriodicResult:
        at = scheduled_at(inp)
        plan = await workflow.execute_activity(
            plan_periodic_mail,
            PeriodicRun(kind=self.kind, scheduled_at=at),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=DB_RETRY,
        )
        result = PeriodicResult(kind=self.kind, period=plan.period, scheduled_at=at)
        for start in range(0, len(plan.recipients), BATCH):
            batch = [
                PeriodicMail(kind=self.kind, period=plan.period, recipient=name, scheduled_at=at)
                for name in plan.recipients[start : start + BATCH]
            ]
            for mail, outcome in zip(
                batch, await asyncio.gather(*(self._send(m) for m in batch)), strict=True
            ):
                getattr(result, outcome).append(mail.recipient)
        return result

    async def _send(self, mail: PeriodicMail) -> str:
        try:
            return await workflow.execute_activity(
                send_periodic_mail,
                mail,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=MAIL_RETRY,
            )
        except ActivityError as exc:
            cause = exc.cause or exc
            text = str(getattr(cause, "message", "") or cause)[:500]
            await workflow.execute_activity(
                record_periodic_mail_failure,
                PeriodicFailure(mail=mail, cause=text),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            return Outcome.FAILED


@workflow.defn(name=DIGEST_WORKFLOW)
class DailyDigestWorkflow(_PeriodicMailWorkflow):
    """Each approver's pending decisions in one morning mail (schedule `approvals-digest`)."""

    kind = MailKind.DIGEST

    @workflow.run
    async def run(self, inp: PeriodicInput) -> PeriodicResult:
        return await self._run(inp)


@workflow.defn(name=OVERDUE_REPORT_WORKFLOW)
class OverdueReportWorkflow(_PeriodicMailWorkflow):
    """The admins' weekly report (schedule `approvals-overdue-report`)."""

    kind = MailKind.OVERDUE_REPORT

    @workflow.run
    async def run(self, inp: PeriodicInput) -> PeriodicResult:
        return await self._run(inp)
