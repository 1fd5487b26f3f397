"""Activities of the scheduled workflows (approvals/workflow/periodic.py): plan a run,
send one mail, record one that failed for good. ORM work on the worker's thread pool,
with fresh connections and the /ops/ record of repeated failures (`with_db`)."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from ..effects import digest
from ..workflow.periodic import (
    MailKind,
    MailPlan,
    PeriodicCalls,
    PeriodicFailure,
    PeriodicMail,
    PeriodicRun,
)
from .activities import with_db

KINDS = frozenset({MailKind.DIGEST, MailKind.OVERDUE_REPORT})


def _check(kind: str, scheduled_at: str) -> None:
    try:
        digest.local_time(scheduled_at)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(
            f"not a time: {scheduled_at!r}", type="BadScheduledTime", non_retryable=True
        ) from exc
    if kind not in KINDS:
        raise ApplicationError(f"unknown kind {kind!r}", type="UnknownKind", non_retryable=True)


@activity.defn(name=PeriodicCalls.PLAN)
@with_db
def plan_periodic_mail(run: PeriodicRun) -> MailPlan:
    """This run's period and who gets a mail (people with something to say to them)."""
    _check(run.kind, run.scheduled_at)
    return MailPlan(
        kind=run.kind,
        period=digest.period_of(run.kind, run.scheduled_at),
        recipients=digest.recipients(run.kind),
    )


@activity.defn(name=PeriodicCalls.SEND)
@with_db
def send_periodic_mail(mail: PeriodicMail) -> str:
    """One person's mail of the period, at most once (see effects/digest.py)."""
    _check(mail.kind, mail.scheduled_at)
    return digest.send_once(mail.kind, mail.period, mail.recipient, mail.scheduled_at)


@activity.defn(name=PeriodicCalls.RECORD_FAILURE)
@with_db
def record_periodic_mail_failure(failure: PeriodicFailure) -> None:
    m = failure.mail
    digest.record_failure(m.kind, m.period, m.recipient, m.scheduled_at, failure.cause)


PERIODIC_ACTIVITIES = [plan_periodic_mail, send_periodic_mail, record_periodic_mail_failure]
