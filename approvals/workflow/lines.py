"""The lines of an expense report as the workflow keeps them (issue 26).

Part of the contract (approvals/workflow/contract.py re-exports these): plain
dataclasses in histories from stage 3 on; add fields with defaults only. Imports
nothing but the standard library: the workflow sandbox loads this.
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
    """A line as the workflow keeps it: open (still in the report) or rejected at a level."""

    n: int
    amount_cents: int
    currency: str
    base_amount_cents: int
    category: str = ""
    status: str = "open"  # open | rejected
    rejected_level: int = 0
    rejected_by: str = ""
    reason: str = ""


def line_states(
    lines: list[LineInput], amount_cents: int, currency: str, base: int
) -> list[LineState]:
    """The per-line state of a report: its lines, all open; none given (a request from
    before lines existed) = one line of the request's amount."""
    if not lines:
        return [LineState(1, amount_cents, currency, base or amount_cents)]
    return [
        LineState(line.n, line.amount_cents, line.currency, line.base_amount_cents, line.category)
        for line in sorted(lines, key=lambda line: line.n)
    ]
