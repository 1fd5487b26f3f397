"""What an approved ExpenseApproval hands over: the Payout child it starts. Imports no Django.

The approval side's outgoing contract: the child's workflow type, its input and its id.
The payouts app implements that workflow (payouts/workflow/) and re-exports these names
from its contract (payouts depends on approvals, never the other way round).

Every dataclass field added later must have a default (old payloads must decode).
"""

from __future__ import annotations

from dataclasses import dataclass

PAYOUT_WORKFLOW = "Payout"


def payout_id(request_id: int) -> str:
    return f"payout-{request_id}"


@dataclass
class PayoutInput:
    request_id: int
    requester: str
    amount_cents: int  # EUR (the base currency)
    title: str = ""
    round: int = 1  # 1 for the approval's payout, +1 per retry from /ops/
