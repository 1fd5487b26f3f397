"""Step kinds in words: one registry from `StepKind` to what people read about a step.

For every kind: its short label (the live announcement, the request page's
history) and its one-line summary (the audit timeline, from the history or the
audit log alike); for the kinds that are mailed, the mail's subject. Worded when
shown, in the active language (the German catalogue has every string). The
registry covers every `StepKind` (a test holds it to that, in English and German);
kinds from elsewhere (payouts, flags) are worded by their owners.

A leaf above `models`: it reads the typed details of workflow/details.py and knows
nothing of where a step was read from (the timeline passes the names it looks up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .amounts import money_text
from .labels import refusal_text
from .words import action_word
from .workflow import details as d
from .workflow.contract import StepKind


class PeopleNames(Protocol):
    """Display names by username (the timeline's `Names`)."""

    def __call__(self, username: str) -> str: ...

    def many(self, usernames: Iterable[str] | None) -> str: ...


@dataclass
class StepFacts:
    """One step as its summary reads it."""

    kind: str
    level: int
    actor: str  # display name
    detail: dict
    recipients: list[str]
    names: PeopleNames
    currency: str = ""  # the request's (a resubmission's detail lacks it)
    values: dict[str, Any] = field(default_factory=dict, init=False)  # shared by every kind

    def __post_init__(self) -> None:
        self.values = {
            "level": self.level,
            "actor": self.actor or "—",
            "to": self.names.many(self.recipients),
        }


# ------------------------------------------------------------------ helpers
def parse_iso(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(moment: datetime) -> str:
    # The language's one date-time style (config/formats/); the timeline's <time> elements
    # carry the exact instant (ISO 8601, to the second) for ordering and the title.
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def when(value: str | None) -> str:
    moment = parse_iso(value)
    return "—" if moment is None else local(moment)


# --------------------------------------------------------------- summaries
def _submitted(s: StepFacts) -> str:
    detail = cast(d.SubmittedDetail, s.detail)
    values = {
        **s.values,
        "amount": money_text(detail.get("amount_cents"), detail.get("currency", "")),
    }
    return _("Submitted by %(actor)s for %(amount)s") % values


def _assigned(s: StepFacts) -> str:
    detail = cast(d.AssignedDetail, s.detail)
    values = {**s.values, "due": when(detail.get("due_at"))}
    return _("Level %(level)s assigned to %(to)s, due %(due)s") % values


def _decided(s: StepFacts) -> str:
    detail = cast(d.DecidedDetail, s.detail)
    values = {**s.values, "action": action_word(detail.get("action", ""))}
    text = _("%(actor)s %(action)s at level %(level)s") % values
    if detail.get("on_behalf_of"):
        text += " " + _("(on behalf of %(name)s)") % {"name": s.names(detail["on_behalf_of"])}
    if detail.get("override"):
        text += " " + _("(administrator override)")
    return text


def _reminder(s: StepFacts) -> str:
    detail = cast(d.ReminderDetail, s.detail)
    values = {**s.values, "due": when(detail.get("due_at"))}
    return _("Reminder sent to %(to)s for level %(level)s (due %(due)s)") % values


def _moved(s: StepFacts) -> dict[str, Any]:
    detail = cast(d.EscalatedDetail | d.ReroutedDetail, s.detail)
    return {
        **s.values,
        "from": s.names.many(detail.get("from")),
        "to": s.names.many(detail.get("to") or s.recipients),
    }


def _escalated(s: StepFacts) -> str:
    return _("Level %(level)s escalated from %(from)s to %(to)s") % _moved(s)


def _rerouted(s: StepFacts) -> str:
    detail = cast(d.ReroutedDetail, s.detail)
    values = _moved(s)
    if detail.get("leaver"):
        values["leaver"] = s.names(detail["leaver"])
        return _("Level %(level)s re-routed from %(from)s to %(to)s: %(leaver)s left") % values
    return _("Level %(level)s re-routed from %(from)s to %(to)s") % values


def _signal_ignored(s: StepFacts) -> str:
    detail = cast(d.SignalIgnoredDetail, s.detail)
    code = detail.get("code")
    reason = refusal_text(code, detail.get("params") or {}) if code else detail.get("reason", "")
    values = {**s.values, "action": detail.get("action", ""), "reason": reason}
    return _("Signal from %(actor)s (%(action)s) ignored: %(reason)s") % values


def _needs_approver(s: StepFacts) -> str:
    return (
        _(
            "Level %(level)s waits for an approver: nobody left may decide it "
            "(separation of duties); the administrators were told"
        )
        % s.values
    )


def _notification_failed(s: StepFacts) -> str:
    detail = cast(d.NotificationFailedDetail, s.detail)
    values = {**s.values, "cause": detail.get("cause", "")}
    return _("A notification could not be sent: %(cause)s") % values


def _withdrawn(s: StepFacts) -> str:
    return _("Withdrawn by %(actor)s") % s.values


def _resubmitted(s: StepFacts) -> str:
    detail = cast(d.ResubmittedDetail, s.detail)
    currency = cast(dict, detail).get("currency", s.currency)
    values = {
        **s.values,
        "old_title": detail.get("old_title", ""),
        "title": detail.get("title", ""),
        "old_amount": money_text(detail.get("old_amount_cents"), currency),
        "amount": money_text(detail.get("amount_cents"), currency),
        "round": detail.get("round", ""),
    }
    return (
        _(
            "Resubmitted by %(actor)s (round %(round)s): “%(old_title)s” %(old_amount)s → "
            "“%(title)s” %(amount)s"
        )
        % values
    )


def _deadline_extended(s: StepFacts) -> str:
    detail = cast(d.DeadlineExtendedDetail, s.detail)
    values = {**s.values, "seconds": detail.get("seconds", ""), "due": when(detail.get("due_at"))}
    return (
        _("Deadline of level %(level)s extended by %(seconds)s s by %(actor)s, now %(due)s")
        % values
    )


def _expired(s: StepFacts) -> str:
    detail = cast(d.ExpiredDetail, s.detail)
    values = {**s.values, "escalations": detail.get("escalations", 0)}
    return _("Expired at level %(level)s after %(escalations)s escalations") % values


def _completed(s: StepFacts) -> str:
    detail = cast(d.CompletedDetail, s.detail)
    return _("Outcome: %(outcome)s") % {"outcome": detail.get("outcome", "")}


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class Words:
    label: Promise  # the short word: "escalated"
    summary: Callable[[StepFacts], str]  # one line for the timeline


STEPS: dict[StepKind, Words] = {
    StepKind.SUBMITTED: Words(gettext_lazy("submitted"), _submitted),
    StepKind.ASSIGNED: Words(gettext_lazy("assigned"), _assigned),
    StepKind.DECIDED: Words(gettext_lazy("decided"), _decided),
    StepKind.REMINDER: Words(gettext_lazy("reminder sent"), _reminder),
    StepKind.ESCALATED: Words(gettext_lazy("escalated"), _escalated),
    StepKind.WITHDRAWN: Words(gettext_lazy("withdrawn"), _withdrawn),
    StepKind.RESUBMITTED: Words(gettext_lazy("resubmitted"), _resubmitted),
    StepKind.DEADLINE_EXTENDED: Words(gettext_lazy("deadline extended"), _deadline_extended),
    StepKind.SIGNAL_IGNORED: Words(gettext_lazy("decision refused"), _signal_ignored),
    StepKind.REROUTED: Words(gettext_lazy("re-routed"), _rerouted),
    StepKind.NEEDS_APPROVER: Words(gettext_lazy("waiting for an approver"), _needs_approver),
    StepKind.NOTIFICATION_FAILED: Words(gettext_lazy("notification failed"), _notification_failed),
    StepKind.EXPIRED: Words(gettext_lazy("expired"), _expired),
    StepKind.COMPLETED: Words(gettext_lazy("completed"), _completed),
}

# Subjects of the mails a step sends (effects/notifications.py). A decision mails only
# when it asks for changes; every other mailed kind ends the request (OUTCOME_SUBJECT).
MAIL_SUBJECTS: dict[StepKind, Promise] = {
    StepKind.ASSIGNED: gettext_lazy("Expense request #%(id)s awaits your decision: %(title)s"),
    StepKind.REMINDER: gettext_lazy("Reminder: expense request #%(id)s is due: %(title)s"),
    StepKind.ESCALATED: gettext_lazy("Expense request #%(id)s was escalated: %(title)s"),
    StepKind.NEEDS_APPROVER: gettext_lazy(
        "Expense request #%(id)s needs an approver at level %(level)s: %(title)s"
    ),
    StepKind.DECIDED: gettext_lazy("Changes requested on expense request #%(id)s: %(title)s"),
}
OUTCOME_SUBJECT = gettext_lazy("Expense request #%(id)s is %(status)s: %(title)s")


def step_label(kind: str) -> str | None:
    """The short word for a step kind; None for a kind that is not a `StepKind`."""
    words = STEPS.get(cast(StepKind, kind))
    return None if words is None else str(words.label)


def step_summary(facts: StepFacts) -> str:
    """One step in words; an unknown kind is its code."""
    words = STEPS.get(cast(StepKind, facts.kind))
    return facts.kind if words is None else words.summary(facts)
