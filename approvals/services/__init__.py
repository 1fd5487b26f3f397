"""Writes (HackSoft style: keyword-only, one transaction, side effects after commit).

- `requests`: submitting a request (its workflow starts after commit);
- `commands`: Updates to a running workflow and its status query;
- `decisions`: approve / reject / request changes, by Update or by Signal;
- `fx`: loading exchange rates; `leavers`: re-routing the levels of a deactivated person.
"""

from .commands import (
    actor_for,
    deadline_extend,
    expense_resubmit,
    expense_withdraw,
    status_query,
    status_query_quietly,
    workflow_state,
)
from .common import UNAVAILABLE, ServiceError
from .decisions import decide_one, decision_record, decision_signal
from .requests import expense_submit, max_amount_in, max_amount_of

__all__ = [
    "UNAVAILABLE",
    "ServiceError",
    "actor_for",
    "deadline_extend",
    "decide_one",
    "decision_record",
    "decision_signal",
    "expense_resubmit",
    "expense_submit",
    "expense_withdraw",
    "max_amount_in",
    "max_amount_of",
    "status_query",
    "status_query_quietly",
    "workflow_state",
]
