"""The request page's chain as a stepper: one entry per level, in display names.

From the projection (`ApprovalStep`) and the audit table: who decides (or decided),
when, on whose behalf, whether it was an administrator's override, the escalations and
re-routes of the level in the current round, and its deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from ..models import ApprovalStep, AuditEntry, ExpenseRequest
from ..workflow.contract import ADMINS, Status, StepKind, Via
from .home import display_names


@dataclass
class Move:
    """An escalation or re-route of a level: from whom to whom, when."""

    kind: str  # StepKind.ESCALATED or StepKind.REROUTED
    at: datetime | None
    to: list[str]

    @property
    def escalation(self) -> bool:
        return self.kind == StepKind.ESCALATED


@dataclass
class Step:
    step: ApprovalStep
    approvers: list[str]  # display names
    decided_by: str = ""
    on_behalf_of: str = ""
    override: bool = False
    current: bool = False
    moves: list[Move] = field(default_factory=list)

    @property
    def level(self) -> int:
        return self.step.level

    @property
    def status(self) -> str:
        return self.step.status


def _round_entries(expense: ExpenseRequest) -> list[AuditEntry]:
    """Audit rows of the current round (after the last resubmission)."""
    kinds = (StepKind.DECIDED, StepKind.ESCALATED, StepKind.REROUTED, StepKind.RESUBMITTED)
    entries = list(expense.audit.filter(kind__in=kinds).order_by("at", "pk"))
    last = max((i for i, e in enumerate(entries) if e.kind == StepKind.RESUBMITTED), default=-1)
    return entries[last + 1 :]


def _override(s: ApprovalStep) -> bool:
    """What `rules.is_override` recorded, read from the projection: the decider was not
    among the level's approvers and decided for nobody (the audit row may not be written
    yet when the page is shown right after the Update)."""
    return bool(
        s.decided_by
        and s.decided_by not in s.approvers
        and not s.on_behalf_of
        and ADMINS not in s.approvers
        and s.channel != Via.AUTO
    )


def stepper(expense: ExpenseRequest, steps: list[ApprovalStep]) -> list[Step]:
    entries = _round_entries(expense)
    people = {n for s in steps for n in [*s.approvers, s.decided_by, s.on_behalf_of] if n}
    for e in entries:
        people.update(e.detail.get("to") or [])
    names = display_names(people - {ADMINS})
    names[ADMINS] = _("the administrators")

    def named(usernames) -> list[str]:
        return [names.get(n, n) for n in usernames]

    decided = {e.level: e for e in entries if e.kind == StepKind.DECIDED}
    result = []
    for s in steps:
        decision = decided.get(s.level)
        result.append(
            Step(
                step=s,
                approvers=named(s.approvers),
                decided_by=names.get(s.decided_by, s.decided_by) if s.decided_by else "",
                on_behalf_of=names.get(s.on_behalf_of, s.on_behalf_of) if s.on_behalf_of else "",
                override=bool(decision and decision.detail.get("override")) or _override(s),
                current=expense.status == Status.PENDING and s.level == expense.current_level,
                moves=[
                    Move(kind=e.kind, at=e.at, to=named(e.detail.get("to") or []))
                    for e in entries
                    if e.level == s.level and e.kind in (StepKind.ESCALATED, StepKind.REROUTED)
                ],
            )
        )
    return result


@dataclass
class PinnedPolicy:
    version: str
    two_levels_from_cents: int | None
    three_levels_from_cents: int | None
    sla_hours: float | None
    max_escalations: int | None


def pinned_policy(expense: ExpenseRequest) -> PinnedPolicy | None:
    """The policy the request was submitted under (its snapshot), None for none."""
    snap = expense.policy_snapshot or {}
    version = str(getattr(expense, "policy_version", "") or snap.get("version", "") or "")
    if not snap and not version:
        return None
    sla = snap.get("sla_seconds")
    return PinnedPolicy(
        version=version,
        two_levels_from_cents=snap.get("two_levels_from_cents"),
        three_levels_from_cents=snap.get("three_levels_from_cents"),
        sla_hours=round(sla / 3600, 1) if sla else None,
        max_escalations=snap.get("max_escalations"),
    )
