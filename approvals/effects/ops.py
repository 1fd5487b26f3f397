"""Records of activities failing repeatedly, written by the worker's activity wrappers.

From attempt `FAILING_FROM_ATTEMPT` on, each failed attempt upserts one open
`OpsIssue` per (workflow, activity type); the next success of that activity
type in that workflow resolves it (an admin may also dismiss one by hand).
`/ops/` lists the open ones from one query.
"""

from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import ExpenseRequest, OpsIssue

log = logging.getLogger(__name__)
FAILING_FROM_ATTEMPT = 3
_WORKFLOW_ID = re.compile(r"^expense-(\d+)$")


def _request_id(workflow_id: str) -> int | None:
    match = _WORKFLOW_ID.match(workflow_id)
    if not match:
        return None
    pk = int(match.group(1))
    return pk if ExpenseRequest.objects.filter(pk=pk).exists() else None


def record_activity_failure(*, workflow_id: str, activity: str, attempt: int, error: str) -> None:
    """Upsert the open issue of (workflow, activity) with this attempt's error."""
    now = timezone.now()
    values = {"attempt": attempt, "error": error[:4000], "last_seen": now}
    for _try in range(2):  # a concurrent insert of the same open issue: update it instead
        try:
            with transaction.atomic():
                updated = OpsIssue.objects.filter(
                    workflow_id=workflow_id, activity=activity, resolved_at__isnull=True
                ).update(**values)
                if not updated:
                    OpsIssue.objects.create(
                        workflow_id=workflow_id,
                        activity=activity,
                        request_id=_request_id(workflow_id),
                        first_seen=now,
                        **values,
                    )
            return
        except IntegrityError:
            continue


def resolve_activity_issues(*, workflow_id: str, activity: str) -> int:
    return OpsIssue.objects.filter(
        workflow_id=workflow_id, activity=activity, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())


def dismiss(issue_id: int) -> bool:
    """An admin closes an issue by hand (e.g. the workflow gave up on it). Idempotent."""
    return bool(
        OpsIssue.objects.filter(pk=issue_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
    )


def after_attempt(info, error: BaseException | None) -> None:
    """Called by the activity wrappers after each attempt (`info` = activity.info()).

    Never raises: bookkeeping must not turn a success into a failure or hide the
    activity's own error. `info` None: called outside an activity (nothing to keep).
    """
    if info is None:
        return
    try:
        if error is not None:
            if info.attempt >= FAILING_FROM_ATTEMPT:
                record_activity_failure(
                    workflow_id=info.workflow_id,
                    activity=info.activity_type,
                    attempt=info.attempt,
                    error=f"{type(error).__name__}: {error}",
                )
        else:  # one indexed UPDATE, usually of nothing
            resolve_activity_issues(workflow_id=info.workflow_id, activity=info.activity_type)
    except Exception as exc:  # e.g. the database is what fails: the activity says so
        log.warning("could not record the outcome of %s: %s", info.activity_type, exc)
