"""Timeline entries and their wording: one step in words, from either source.

A step the workflow emitted reaches the history (in a `record_transition`
input) and the audit log (an `AuditEntry` row); both are worded here the same
way, in the viewer's language and time zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from accounts.models import User

from .. import ports, step_words
from ..models import AuditEntry
from ..step_words import StepFacts, parse_iso
from ..temporal.history import RawEvent

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
    if (words := ports.step_words(kind, detail)) is not None:  # another app's step (payouts)
        return words
    facts = StepFacts(kind, level, actor, detail, recipients, names, currency)
    return step_words.step_summary(facts)


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
