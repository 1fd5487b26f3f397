"""What an ExpenseApproval run knows: the public state plus its phase and clock.

Pure data (no Temporal, no Django). `rules.py` reads it, `transitions.py` changes
it, `effects.py` turns what happened into activities and search-attribute upserts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .contract import ApprovalState, Calendar, PolicySnapshot, Route, RouteFacts

# The search attributes a run keeps current (contract.SEARCH_ATTRIBUTES), as values:
# (status, pending approvers, requester, EUR amount, decision due at).
SearchValues = tuple[str, tuple[str, ...], str, int, "datetime | None"]


@dataclass
class Machine:
    """Everything the workflow knows: the public state plus the run's phase and clock."""

    state: ApprovalState
    policy: PolicySnapshot
    authenticated: bool = False  # refuse decisions our codec did not authenticate
    ready: bool = False  # the chain is resolved
    busy: bool = False  # a resubmission or re-route is resolving people
    due: datetime | None = None
    remind_at: datetime | None = None
    signal_ids: set[str] = field(default_factory=set)  # signals seen (even if refused)
    route: Route | None = None  # the ladder and admins at resolution
    # A request with a pinned policy version: the facts its rules read. Its chain is
    # the route's level specs; without one, PolicySnapshot.levels_for managers.
    facts: RouteFacts | None = None
    # Business calendar (patch 31-business-calendar, taken at the start): deadlines and
    # reminders in working time of the approver's calendar (clock.py).
    working: bool = False
    calendar: Calendar | None = None  # the request's default (ApprovalInput.calendar)

    @property
    def policy_rules(self) -> bool:
        return self.facts is not None


def search_values(m: Machine) -> SearchValues:
    state = m.state
    return (
        state.status,
        tuple(state.pending_approvers),
        state.requester,
        state.base_amount_cents,
        m.due,
    )
