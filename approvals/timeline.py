"""Audit timeline of one request (first cut: the durable audit log only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from .models import ExpenseRequest


@dataclass
class Entry:
    at: datetime
    source: str
    kind: str
    summary: str
    actor: str = ""
    comment: str = ""
    detail: dict = field(default_factory=dict)


@dataclass
class Timeline:
    entries: list[Entry]
    history_available: bool
    notice: str = ""


def build(expense: ExpenseRequest) -> Timeline:
    entries = [
        Entry(
            at=a.at,
            source="audit log",
            kind=a.kind,
            summary=a.kind,
            actor=a.actor_name,
            comment=a.comment,
            detail=a.detail,
        )
        for a in expense.audit.all()
    ]
    return Timeline(entries=entries, history_available=False)


def as_json(expense: ExpenseRequest, result: Timeline) -> dict:
    return {
        "request_id": expense.pk,
        "history_available": result.history_available,
        "notice": result.notice,
        "entries": [{**asdict(e), "at": e.at.isoformat()} for e in result.entries],
    }
