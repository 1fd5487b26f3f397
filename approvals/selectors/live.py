"""Words for live updates: what a pushed change was (the announcement on open pages) and,
on the request page, what happened to a form someone was still typing into.

The page does not know what a person is typing, so the request page carries, hidden,
one sentence per level that is decided or waits on someone (and one for the request
when it is no longer pending); static/js/live.js picks the one for the form it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User

from ..models import ExpenseRequest, RequestStatus
from ..step_words import STEPS
from .chain import Step
from .home import waiting_for

# What a pushed event was, by kind (the request page's history says the same): the
# workflow's steps from their registry, then the kinds other writers add.
EVENT_LABELS = {
    **{kind: words.label for kind, words in STEPS.items()},
    "auto_approved": gettext_lazy("approved automatically"),
    "payout_step": gettext_lazy("payout step done"),
    "payout_compensated": gettext_lazy("payout step undone"),
    "payout_paid": gettext_lazy("paid"),
    "payout_failed": gettext_lazy("payout failed"),
    "payout_on_hold": gettext_lazy("payout on hold"),
    "payout_released": gettext_lazy("payout released"),
    "flagged": gettext_lazy("flagged by the spend checks"),
    "flag_note": gettext_lazy("flag explained by the approver"),
}


def announcement(event: dict) -> str:
    """One sentence for the page's aria-live region about a pushed `request.changed`."""
    kinds = [str(EVENT_LABELS[k]) for k in event.get("kinds", []) if k in EVENT_LABELS]
    status = dict(RequestStatus.choices).get(event.get("status"), event.get("status", ""))
    what = ", ".join(dict.fromkeys(kinds)) or _("changed")
    return _("Request #%(id)s %(title)s: %(what)s; now %(status)s.") % {
        "id": event.get("request_id"),
        "title": event.get("title", ""),
        "what": what,
        "status": status,
    }


@dataclass
class LiveWords:
    levels: list[tuple[int, str]] = field(default_factory=list)
    request: str = ""
    resubmit: str = ""
    next_request: ExpenseRequest | None = None


def _level_words(s: Step) -> str:
    words = {  # the same sentences as the mails' (one translation)
        "approved": _("Level %(level)s was approved by %(by)s."),
        "rejected": _("Level %(level)s was rejected by %(by)s."),
        "changes_requested": _("At level %(level)s, %(by)s requested changes."),
    }
    if s.decided_by and s.status in words:
        return words[s.status] % {"level": s.level, "by": s.decided_by}
    if s.current and s.approvers:
        return _("Level %(n)s now waits on %(who)s.") % {
            "n": s.level,
            "who": ", ".join(s.approvers),
        }
    return ""


def _request_words(expense: ExpenseRequest) -> str:
    if expense.status == RequestStatus.WITHDRAWN:
        return _("%(who)s withdrew the request.") % {"who": expense.requester.display_name}
    return {
        RequestStatus.APPROVED: _("The request was approved."),
        RequestStatus.REJECTED: _("The request was rejected."),
        RequestStatus.EXPIRED: _("The request expired without a decision."),
        RequestStatus.CHANGES_REQUESTED: _(
            "Changes were requested: the request waits for the requester."
        ),
    }.get(expense.status, "")


def live_words(*, expense: ExpenseRequest, stepper: list[Step], user: User) -> LiveWords:
    """The request page's hidden sentences (see the module docstring)."""
    words = LiveWords(
        levels=[(s.level, text) for s in stepper if (text := _level_words(s))],
        request=_request_words(expense),
    )
    if expense.status == RequestStatus.PENDING:
        words.resubmit = _("The changes were already resubmitted; it waits for approval again.")
    elif expense.status != RequestStatus.CHANGES_REQUESTED:
        words.resubmit = words.request
    if expense.requester_id != user.pk:
        # "Open the next request": one query on the projection, as the home page does.
        waiting = waiting_for(user, show=2).first
        words.next_request = next((r for r in waiting if r.pk != expense.pk), None)
    return words
