"""Deciding from a mail link: the decision goes by Signal with the link's own id.

The workflow drops a signal whose id it has seen, so a double click, a
retried POST or a replayed link applies once. After sending, the page waits
briefly on the status query for the id to show up as a decision or as an
ignored signal; if it takes longer the person reads "recorded".
"""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User

from ..links import LinkClaim
from ..models import ExpenseRequest
from ..selectors.links import LinkOutcome, decided_by_id
from ..workflow.contract import ApprovalState
from .commands import status_query
from .common import ServiceError
from .decisions import decision_signal

POLL_SECONDS = 0.1


def link_state(request: ExpenseRequest, *, timeout: float | None = None) -> ApprovalState | None:
    """The workflow's state, or None when it cannot be asked (the projection stands in)."""
    if request.workflow_started_at is None:
        return None
    try:
        return status_query(request, timeout=timeout)
    except Exception:  # noqa: BLE001 - down, timed out or gone: the caller falls back
        return None


def link_decide(
    *, user: User, request: ExpenseRequest, claim: LinkClaim, comment: str = ""
) -> LinkOutcome:
    """Signal the link's decision, then wait up to DECISION_LINK_WAIT seconds for its fate.

    Raises ServiceError when the signal could not be delivered (nothing changed)."""
    decision_signal(
        request=request,
        actor=user,
        action=claim.action,
        comment=comment,
        decision_id=claim.decision_id,
        level=claim.level,
        round=claim.round,
    )
    deadline = time.monotonic() + float(getattr(settings, "DECISION_LINK_WAIT", 2.0))
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        state = link_state(request, timeout=max(left, 0.5))
        if state is not None:
            outcome = decided_by_id(claim, state)
            if outcome is not None:
                return outcome
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
    return LinkOutcome(
        "recorded",
        [_("Your decision was recorded; the request will update in a moment.")],
    )


__all__ = ["LinkOutcome", "ServiceError", "link_decide", "link_state"]
