"""Operator actions behind `/ops/`, each safe to repeat."""

from __future__ import annotations

from ..effects import notifications, ops
from ..models import ExpenseRequest
from ..temporal.starter import workflow_start


def queued_start(*, request_id: int) -> bool:
    """Start a queued request's workflow now. False: no such request. Raises
    TemporalUnavailable; a workflow already started is left as it is."""
    if not ExpenseRequest.objects.filter(pk=request_id).exists():
        return False
    workflow_start(request_id=request_id)
    return True


def mail_resend(*, notification_id: int) -> bool:
    """Send a failed mail again; True when it went out now (False: sent already, or failed)."""
    return notifications.resend(notification_id)


def issue_dismiss(*, issue_id: int) -> bool:
    return ops.dismiss(issue_id)
