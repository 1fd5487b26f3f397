"""What a decision link finds when it is opened: still live, or what happened.

Pure reads of the workflow's state (or, when Temporal cannot be asked, of the
projection). The link's binding decides: the same round, the same level,
still pending. Whether the person may decide is the workflow's call, never
re-checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import delegators_for

from ..labels import STATUS_WORDS, refusal_text
from ..links import LinkClaim
from ..models import ExpenseRequest
from ..workflow.contract import Action, ApprovalState, DecisionRecord, Status
from .requests import can_view


@dataclass
class LinkOutcome:
    # applied: this link's decision was taken; refused: the workflow refused it;
    # recorded: sent, not yet seen in the state; moved_on: the link is dead
    # (level decided, new round, request closed or expired link).
    kind: str
    lines: list[str] = field(default_factory=list)
    status: str = ""


def _status_line(status: str, current_level: int) -> str:
    if status == Status.PENDING:
        return _("The request is now waiting at level %(level)s.") % {"level": current_level}
    if status == Status.CHANGES_REQUESTED:
        return _("Changes were requested: the request waits for the requester.")
    return _("The request is %(status)s.") % {"status": STATUS_WORDS.get(status, status)}


def _by(record: DecisionRecord) -> str:
    name = record.actor_display or record.actor
    if record.on_behalf_of:
        return _("%(by)s for %(principal)s") % {"by": name, "principal": record.on_behalf_of}
    return name


def _decided_line(level: int, action: str, by: str) -> str:
    values = {"level": level, "by": by}
    if action == Action.APPROVE:
        return _("Level %(level)s was approved by %(by)s.") % values
    if action == Action.REJECT:
        return _("Level %(level)s was rejected by %(by)s.") % values
    return _("At level %(level)s, %(by)s requested changes.") % values


def _mine_line(record: DecisionRecord) -> str:
    if record.action == Action.APPROVE:
        return _("Your approval of level %(level)s was recorded.") % {"level": record.level}
    if record.action == Action.REJECT:
        return _("Your rejection at level %(level)s was recorded.") % {"level": record.level}
    return _("Your decision at level %(level)s was recorded.") % {"level": record.level}


def may_open_link(*, user: User, request: ExpenseRequest, state: ApprovalState | None) -> bool:
    """Whether the link's own recipient may still read the request behind it: whoever may
    see it (`can_view`), or, while the projection lags behind a fresh assignment, whom the
    workflow's state names as a pending approver (or their delegate in force now)."""
    if can_view(user=user, request=request):
        return True
    if state is None or state.status != Status.PENDING or not user.is_active:
        return False
    pending = set(state.pending_approvers)
    return user.username in pending or bool(pending & set(delegators_for(delegate=user)))


def decided_by_id(claim: LinkClaim, state: ApprovalState) -> LinkOutcome | None:
    """The fate of this link's own decision id: applied, refused, or not seen (None)."""
    for record in state.decisions:
        if record.decision_id == claim.decision_id:
            return LinkOutcome(
                "applied",
                [_mine_line(record), _status_line(state.status, state.current_level)],
                state.status,
            )
    for ignored in state.ignored_signals:
        if ignored.decision_id == claim.decision_id:
            text = refusal_text(ignored.code or ignored.reason, ignored.params)
            return LinkOutcome(
                "refused",
                [_("Your decision was not applied: %(why)s") % {"why": text}],
                state.status,
            )
    return None


def is_live(claim: LinkClaim, state: ApprovalState) -> bool:
    return (
        state.status == Status.PENDING
        and state.round == claim.round
        and state.current_level == claim.level
    )


def link_outcome(
    claim: LinkClaim, state: ApprovalState, *, expired: bool = False
) -> LinkOutcome | None:
    """None while the link may still decide; else what happened to the request."""
    known = decided_by_id(claim, state)
    if known is not None:
        return known
    if is_live(claim, state) and not expired:
        return None
    lines = [_("This link has expired.")] if expired else []
    if state.round != claim.round:
        lines.append(
            _("The request was sent back for changes and resubmitted; this link was for an "
              "earlier round.")
        )
    else:
        for record in state.decisions:
            if record.level == claim.level and record.round in (claim.round, 0):
                lines.append(_decided_line(record.level, record.action, _by(record)))
    lines.append(_status_line(state.status, state.current_level))
    return LinkOutcome("moved_on", lines, state.status)


def link_outcome_from_projection(
    claim: LinkClaim, request: ExpenseRequest, *, expired: bool = False
) -> LinkOutcome | None:
    """The same from the Django projection, when the workflow cannot be asked (no
    round there: a link counts as live while its level is the pending one)."""
    live = request.status == Status.PENDING and request.current_level == claim.level
    if live and not expired:
        return None
    lines = [_("This link has expired.")] if expired else []
    step = request.steps.filter(level=claim.level).exclude(decided_by="").first()
    if step is not None:
        person = User.objects.filter(username=step.decided_by).first()
        by = person.display_name if person else step.decided_by
        action = {
            "approved": Action.APPROVE,
            "rejected": Action.REJECT,
            "changes_requested": Action.REQUEST_CHANGES,
        }.get(step.status)
        if action:
            lines.append(_decided_line(claim.level, action, by))
    lines.append(_status_line(request.status, request.current_level))
    return LinkOutcome("moved_on", lines, request.status)
