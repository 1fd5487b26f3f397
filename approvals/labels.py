"""Refusal codes in words: the one place a refusal from the workflow or a service
becomes a sentence, in the reader's language.

The workflow refuses with a code and parameters (`contract.Refusal`,
`ApplicationError(type=code, details=[params])`); services add their own
codes for outages and closed requests. Words are looked up when shown, so a
German approver reads German whatever language the worker runs in.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .workflow.contract import Refusal


class ServiceCode:
    UNAVAILABLE = "Unavailable"
    NOT_STARTED = "NotStarted"
    NO_LONGER_AWAITING = "NoLongerAwaiting"
    ALREADY_CLOSED = "AlreadyClosed"
    NOT_YOURS = "NotYours"
    UNKNOWN = "Unknown"


WORDS = {
    Refusal.UNKNOWN_ACTION: _("Unknown action '%(action)s'."),
    Refusal.OWN_REQUEST: _("You cannot decide on your own request."),
    Refusal.STILL_ROUTING: _("This request is still being routed; try again in a moment."),
    Refusal.NOT_AWAITING: _("This request is no longer awaiting a decision (it is %(status)s)."),
    Refusal.LEVEL_NOT_YET: _("This level is not awaiting a decision yet."),
    Refusal.LEVEL_MOVED_ON: _(
        "Level %(level)s was already decided by %(by)s; the request has moved on."
    ),
    Refusal.COMMENT_REQUIRED: _("A comment is required to reject or to request changes."),
    Refusal.COMMENT_TOO_LONG: _("The comment is too long (at most %(max)s characters)."),
    Refusal.ALREADY_APPROVED: _("You have already approved this request."),
    Refusal.PRINCIPAL_ALREADY_APPROVED: _(
        "%(principal)s has already approved this request, so no one can decide for them "
        "at another level."
    ),
    Refusal.DELEGATE_HOLDS_OTHER_LEVEL: _(
        "You cannot decide for %(principal)s: you are an approver at another level of this "
        "request, and every level needs a different person."
    ),
    Refusal.NOT_APPROVER: _("You are not the approver of this level."),
    Refusal.NOT_APPROVER_USE_OVERRIDE: _(
        "You are not this level's approver; decide as an administrator override."
    ),
    Refusal.OVERRIDE_NEEDS_REASON: _("An administrator override needs a reason in the comment."),
    Refusal.SIGNAL_WITHOUT_ID: _("A decision sent by signal must carry its own decision id."),
    Refusal.UNAUTHENTICATED: _(
        "This decision did not come from the approvals application and was refused."
    ),
    Refusal.ONLY_REQUESTER_WITHDRAWS: _("Only the requester can withdraw a request."),
    Refusal.CANNOT_WITHDRAW: _("This request can no longer be withdrawn (it is %(status)s)."),
    Refusal.ONLY_REQUESTER_RESUBMITS: _("Only the requester can resubmit a request."),
    Refusal.CHANGES_NOT_REQUESTED: _("Changes were not requested on this request."),
    Refusal.TITLE_EMPTY: _("The title must not be empty."),
    Refusal.TITLE_TOO_LONG: _("The title is too long (at most %(max)s characters)."),
    Refusal.AMOUNT_NOT_POSITIVE: _("The amount must be greater than zero."),
    Refusal.AMOUNT_ABOVE_MAXIMUM: _("The amount is above the allowed maximum."),
    Refusal.NO_DEADLINE: _("Only a pending request has a deadline to extend."),
    Refusal.OWN_DEADLINE: _("You cannot extend the deadline of your own request."),
    Refusal.EXTENSION_OUT_OF_RANGE: _("An extension must be between one second and 30 days."),
    Refusal.EXTENSIONS_EXHAUSTED: _(
        "This level's deadline was already extended %(max)s times; it cannot be extended again."
    ),
    Refusal.EXTENSION_TOTAL_EXCEEDED: _(
        "A level's deadline can be extended by at most %(max_days)s days in all; "
        "%(left_days)s days are left."
    ),
    Refusal.DECISION_ID_TAKEN: _(
        "This decision id belongs to another decision. Send your own decision with a new id."
    ),
    Refusal.NOT_APPROVER_OR_ADMIN: _(
        "Only the current approver or an administrator can extend the deadline."
    ),
    Refusal.ROUND_OVER: _(
        "This decision was for an earlier version of the request; it was changed and "
        "resubmitted since."
    ),
    Refusal.NOT_PENDING: _("This request is not waiting on anyone (it is %(status)s)."),
    Refusal.LINE_UNKNOWN: _("This report has no line %(line)s."),
    Refusal.LINE_ALREADY_REJECTED: _(
        "Line %(line)s was already rejected at level %(level)s; it is no longer part of the report."
    ),
    Refusal.LINE_TWICE: _("Line %(line)s is listed twice."),
    Refusal.LINE_REASON_REQUIRED: _("Give a reason for rejecting line %(line)s."),
    Refusal.LINE_REASON_TOO_LONG: _(
        "The reason for line %(line)s is too long (at most %(max)s characters)."
    ),
    Refusal.LINES_ONLY_WHEN_APPROVING: _(
        "Single lines can only be rejected while approving the rest; rejecting or "
        "requesting changes applies to the whole report."
    ),
    Refusal.LINES_NOT_BY_SIGNAL: _(
        "Single lines cannot be rejected from a mail link; decide on the request's page."
    ),
    ServiceCode.UNAVAILABLE: _(
        "The approval service is not reachable right now. "
        "Nothing was changed; please try again in a moment."
    ),
    ServiceCode.NOT_STARTED: _(
        "This request has not started yet; it will start automatically shortly."
    ),
    ServiceCode.NO_LONGER_AWAITING: _("This request is no longer awaiting any action."),
    ServiceCode.ALREADY_CLOSED: _("This request is already closed."),
    ServiceCode.NOT_YOURS: _("You cannot decide this request."),
    ServiceCode.UNKNOWN: _("The request could not be changed: %(detail)s"),
}

STATUS_WORDS = {
    "queued": _("queued"),
    "pending": _("pending"),
    "changes_requested": _("changes requested"),
    "approved": _("approved"),
    "rejected": _("rejected"),
    "withdrawn": _("withdrawn"),
    "expired": _("expired"),
}


def refusal_text(code: str, params: dict | None = None) -> str:
    """The refusal `code` in words, in the active language (unknown codes say so)."""
    values = dict(params or {})
    if code == Refusal.LEVEL_MOVED_ON and values.get("on_behalf_of"):
        values["by"] = gettext("%(by)s for %(principal)s") % {
            "by": values.get("by", ""),
            "principal": values["on_behalf_of"],
        }
    if "status" in values:
        values["status"] = str(STATUS_WORDS.get(values["status"], values["status"]))
    words = WORDS.get(code)
    if words is None:
        return str(WORDS[ServiceCode.UNKNOWN]) % {"detail": code}
    try:
        return str(words) % values
    except (KeyError, TypeError, ValueError):
        return str(words).split("%(")[0].rstrip()
