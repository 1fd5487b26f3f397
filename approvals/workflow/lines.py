"""A report's lines as the workflow sees them (amounts and categories, no free text).

Part of the workflow contract (`contract.py` re-exports them): field names are in
persisted histories; add fields with defaults only. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LineInput:
    """One line of an expense report, as the workflow needs it (content stays in Django)."""

    n: int  # 1-based position (`data-line`)
    amount_cents: int  # minor units of `currency`
    currency: str
    base_amount_cents: int  # EUR cents at the report's pinned rate
    category: str = ""


@dataclass
class LineRejection:
    """An approver rejects one line of a report (with a reason) and decides the rest."""

    n: int
    reason: str


@dataclass
class LineState:
    n: int
    amount_cents: int
    currency: str
    base_amount_cents: int
    category: str = ""
    status: str = "open"  # open | rejected
    rejected_level: int = 0
    rejected_by: str = ""
    reason: str = ""
