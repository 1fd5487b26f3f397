"""Timeline entries and their wording: one step in words, from either source.

A step the workflow emitted reaches the history (in a `record_transition`
input) and the audit log (an `AuditEntry` row); both are worded here the same
way, in the viewer's language and time zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import money as fx
from .. import ports
from ..labels import refusal_text
from ..models import AuditEntry
from ..temporal.history import RawEvent
from ..workflow.contract import StepKind

HISTORY = "history"
AUDIT = "audit"


@dataclass
class Entry:
    at: datetime
    sources: list[str]
    kind: str
    summary: str
    actor: str = ""
    actor_role: str = ""
    comment: str = ""
    channel: str = ""
    level: int = 0
    event_id: int | None = None  # the history event this entry was read from
    seq: int | None = None  # the workflow's step sequence number
    detail: dict = field(default_factory=dict)
    # Read from a local activity of the task that emitted steps (local-first-steps):
    # its place among them, e.g. 1.5 = after step 1 (the history's times cannot say).
    position: float | None = None

    @property
    def source_label(self) -> str:
        if HISTORY in self.sources and AUDIT in self.sources:
            return _("history + audit log")
        return _("workflow history") if HISTORY in self.sources else _("audit log")

    @property
    def detail_json(self) -> str:
        return json.dumps(self.detail, indent=2, sort_keys=True, default=str, ensure_ascii=False)

    @property
    def sort_key(self) -> tuple:
        # Steps carry the workflow time of the task that emitted them; on a tie
        # they go first, in the order the workflow numbered them.
        place = self.seq if self.seq is not None else self.position
        return (self.at, 0 if place is not None else 1, place or 0, self.event_id or 0)


@dataclass
class Timeline:
    entries: list[Entry]
    history_available: bool
    workflow_id: str
    ui_url: str
    notice: str = ""
    closed: bool = False
    close_type: str = ""


# ------------------------------------------------------------------ wording
class Names:
    """Display names by username, looked up once each (users are never deleted)."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, username: str) -> str:
        if not username:
            return ""
        if username not in self._cache:
            user = User.objects.filter(username=username).first()
            self._cache[username] = user.display_name if user else username
        return self._cache[username]

    def many(self, usernames) -> str:
        return ", ".join(self(name) for name in usernames or []) or "—"


def money(cents: Any, currency: str = "") -> str:
    """Minor units (cents; yen for JPY) as a localised amount with the currency's decimals."""
    try:
        value = fx.from_minor(int(cents), currency)
    except (TypeError, ValueError):
        return "?"
    amount = formats.number_format(value, fx.exponent(currency), use_l10n=True, force_grouping=True)
    return f"{amount} {currency}".strip()


def local(moment: datetime) -> str:
    # The language's one date-time style (config/formats/); the timeline's <time> elements
    # carry the exact instant (ISO 8601, to the second) for ordering and the title.
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def when(value: str | None) -> str:
    moment = parse_iso(value)
    return "—" if moment is None else local(moment)


def parse_iso(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def action_text(action: str) -> str:
    texts = {
        "approve": _("approved"),
        "reject": _("rejected"),
        "request_changes": _("requested changes"),
    }
    return texts.get(action, action)


def step_summary(
    kind: str,
    level: int,
    actor: str,
    detail: dict,
    recipients: list[str],
    names: Names,
    currency: str = "",
) -> str:
    """One step in words; `currency` is the request's (a resubmission's detail lacks it)."""
    values = {"level": level, "actor": actor or "—", "to": names.many(recipients)}
    if (words := ports.step_words(kind, detail)) is not None:  # another app's step (payouts)
        return words
    if kind == StepKind.SUBMITTED:
        values["amount"] = money(detail.get("amount_cents"), detail.get("currency", ""))
        return _("Submitted by %(actor)s for %(amount)s") % values
    if kind == StepKind.ASSIGNED:
        values["due"] = when(detail.get("due_at"))
        return _("Level %(level)s assigned to %(to)s, due %(due)s") % values
    if kind == StepKind.DECIDED:
        values["action"] = action_text(detail.get("action", ""))
        text = _("%(actor)s %(action)s at level %(level)s") % values
        if detail.get("on_behalf_of"):
            text += " " + _("(on behalf of %(name)s)") % {"name": names(detail["on_behalf_of"])}
        if detail.get("override"):
            text += " " + _("(administrator override)")
        return text
    if kind == StepKind.REMINDER:
        values["due"] = when(detail.get("due_at"))
        return _("Reminder sent to %(to)s for level %(level)s (due %(due)s)") % values
    if kind == StepKind.ESCALATED:
        values["from"] = names.many(detail.get("from"))
        values["to"] = names.many(detail.get("to") or recipients)
        return _("Level %(level)s escalated from %(from)s to %(to)s") % values
    if kind == StepKind.SIGNAL_IGNORED:
        values["action"] = detail.get("action", "")
        code = detail.get("code")
        values["reason"] = (
            refusal_text(code, detail.get("params") or {}) if code else detail.get("reason", "")
        )
        return _("Signal from %(actor)s (%(action)s) ignored: %(reason)s") % values
    if kind == StepKind.REROUTED:
        values["from"] = names.many(detail.get("from"))
        values["to"] = names.many(detail.get("to") or recipients)
        if detail.get("leaver"):
            values["leaver"] = names(detail["leaver"])
            return _("Level %(level)s re-routed from %(from)s to %(to)s: %(leaver)s left") % values
        return _("Level %(level)s re-routed from %(from)s to %(to)s") % values
    if kind == StepKind.NEEDS_APPROVER:
        return (
            _(
                "Level %(level)s waits for an approver: nobody left may decide it "
                "(separation of duties); the administrators were told"
            )
            % values
        )
    if kind == StepKind.NOTIFICATION_FAILED:
        values["cause"] = detail.get("cause", "")
        return _("A notification could not be sent: %(cause)s") % values
    if kind == StepKind.WITHDRAWN:
        return _("Withdrawn by %(actor)s") % values
    if kind == StepKind.RESUBMITTED:
        values.update(
            old_title=detail.get("old_title", ""),
            title=detail.get("title", ""),
            old_amount=money(detail.get("old_amount_cents"), detail.get("currency", currency)),
            amount=money(detail.get("amount_cents"), detail.get("currency", currency)),
            round=detail.get("round", ""),
        )
        return (
            _(
                "Resubmitted by %(actor)s (round %(round)s): “%(old_title)s” %(old_amount)s → "
                "“%(title)s” %(amount)s"
            )
            % values
        )
    if kind == StepKind.DEADLINE_EXTENDED:
        values["seconds"] = detail.get("seconds", "")
        values["due"] = when(detail.get("due_at"))
        return (
            _("Deadline of level %(level)s extended by %(seconds)s s by %(actor)s, now %(due)s")
            % values
        )
    if kind == StepKind.EXPIRED:
        values["escalations"] = detail.get("escalations", 0)
        return _("Expired at level %(level)s after %(escalations)s escalations") % values
    if kind == StepKind.COMPLETED:
        return _("Outcome: %(outcome)s") % {"outcome": detail.get("outcome", "")}
    return kind


# ---------------------------------------------------------- from each source
def from_step(step: dict, event: RawEvent, names: Names, currency: str = "") -> Entry:
    detail = dict(step.get("detail") or {})
    recipients = list(step.get("recipients") or [])
    actor = step.get("actor_display") or names(step.get("actor", ""))
    kind = step.get("kind", "")
    level = int(step.get("level") or 0)
    return Entry(
        at=parse_iso(detail.get("at")) or event.at,
        sources=[HISTORY],
        kind=kind,
        summary=step_summary(kind, level, actor, detail, recipients, names, currency),
        actor=actor,
        actor_role=step.get("actor_role", ""),
        comment=step.get("comment", ""),
        channel=step.get("channel", ""),
        level=level,
        event_id=event.event_id,
        seq=detail.get("seq"),
        detail={**detail, "actor_username": step.get("actor", ""), "recipients": recipients},
    )


def from_audit(row: AuditEntry, names: Names, currency: str = "") -> Entry:
    detail = dict(row.detail or {})
    recipients = list(detail.get("recipients") or [])
    return Entry(
        at=row.at,
        sources=[AUDIT],
        kind=row.kind,
        summary=step_summary(
            row.kind, row.level, row.actor_name, detail, recipients, names, currency
        ),
        actor=row.actor_name,
        actor_role=row.actor_role,
        comment=row.comment,
        channel=row.channel,
        level=row.level,
        seq=detail.get("seq"),
        detail={**detail, "actor_username": row.actor_username, "audit_id": row.pk},
    )


def actor_of(args: list) -> tuple[dict, dict]:
    arg = args[0] if args and isinstance(args[0], dict) else {}
    actor = arg.get("actor") if isinstance(arg.get("actor"), dict) else {}
    return arg, actor
