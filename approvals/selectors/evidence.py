"""What an evidence file holds for one request: the request, its receipts, every
decision (actor, time, channel, comment), the merged timeline and the audit chain
with its hashes and verdict. Rendered as PDF by `approvals.evidence_pdf` and as a ZIP
for machines by `evidence_zip`; both read this one selection.
"""

from __future__ import annotations

import io
import json
import mimetypes
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath

from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit_chain
from ..models import AuditEntry, ExpenseRequest
from ..workflow.contract import StepKind
from . import timeline as timeline_selectors
from .timeline_entries import Names, Timeline, action_text

MAX_RECEIPT_BYTES = 20 * 1024 * 1024  # a larger file is listed, not embedded


@dataclass
class Receipt:
    name: str  # the file name in the ZIP, e.g. receipt-12.jpg
    content_type: str
    data: bytes | None  # None: could not be read (listed with `error`)
    error: str = ""

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


@dataclass
class Decision:
    level: int
    action: str  # words, in the reader's language
    actor: str
    actor_role: str
    at: datetime | None
    channel: str
    comment: str
    on_behalf_of: str = ""


@dataclass
class Evidence:
    expense: ExpenseRequest
    receipts: list[Receipt]
    decisions: list[Decision]
    timeline: Timeline
    rows: list[AuditEntry]
    head: str  # the newest hash of the chain as the request holds it
    chain_break: audit_chain.Break | None
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def chain_verdict(self) -> str:
        if self.chain_break is None:
            return _(
                "The audit chain is whole: every row matches its hash and follows the "
                "row before it, and the newest row is the request's recorded head."
            )
        return _("The audit chain is BROKEN: %(where)s") % {"where": str(self.chain_break)}


def receipts_of(expense: ExpenseRequest) -> list[Receipt]:
    """The request's receipt files (one today; the list is what the evidence holds)."""
    found = []
    for index, stored in enumerate([expense.receipt] if expense.receipt else [], start=1):
        suffix = PurePosixPath(stored.name).suffix.lower()
        name = f"receipt-{expense.pk}{'-' + str(index) if index > 1 else ''}{suffix}"
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            if stored.size > MAX_RECEIPT_BYTES:
                found.append(Receipt(name, content_type, None, _("too large to embed")))
                continue
            with stored.open("rb") as handle:
                found.append(Receipt(name, content_type, handle.read()))
        except OSError as exc:
            found.append(Receipt(name, content_type, None, type(exc).__name__))
    return found


def _decisions(rows: list[AuditEntry], names: Names) -> list[Decision]:
    return [
        Decision(
            level=row.level,
            action=action_text(str(row.detail.get("action", ""))),
            actor=row.actor_name or names(row.actor_username),
            actor_role=row.actor_role,
            at=row.at,
            channel=row.channel,
            comment=row.comment,
            on_behalf_of=names(row.detail.get("on_behalf_of", "")),
        )
        for row in rows
        if row.kind == StepKind.DECIDED
    ]


def evidence_of(expense: ExpenseRequest) -> Evidence:
    head, rows, chain_break = audit_chain.snapshot(expense.pk) or ("", [], None)
    return Evidence(
        expense=expense,
        receipts=receipts_of(expense),
        decisions=_decisions(rows, Names()),
        timeline=timeline_selectors.build(expense),
        rows=rows,
        head=head,
        chain_break=chain_break,
    )


def chain_json(evidence: Evidence) -> dict:
    return {
        "request_id": evidence.expense.pk,
        "head": evidence.head,
        "genesis": audit_chain.GENESIS,
        "hash": "sha256 over audit_chain.canonical(row, prev_hash)",
        "verified": evidence.chain_break is None,
        "break": str(evidence.chain_break) if evidence.chain_break else None,
        "rows": [
            {
                "id": row.pk,
                "key": row.key,
                "at": row.at.astimezone(UTC).isoformat(),
                "kind": row.kind,
                "level": row.level,
                "actor_username": row.actor_username,
                "actor_name": row.actor_name,
                "actor_role": row.actor_role,
                "channel": row.channel,
                "comment": row.comment,
                "detail": row.detail,
                "source": row.source,
                "prev_hash": row.prev_hash,
                "entry_hash": row.entry_hash,
            }
            for row in evidence.rows
        ],
    }


def evidence_zip(evidence: Evidence, pdf: bytes | None = None) -> bytes:
    """The receipts, the JSON timeline and the audit chain (and the PDF, when given)."""
    buffer = io.BytesIO()
    pk = evidence.expense.pk
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for receipt in evidence.receipts:
            if receipt.data is not None:
                archive.writestr(f"receipts/{receipt.name}", receipt.data)
        timeline = timeline_selectors.as_json(evidence.expense, evidence.timeline)
        archive.writestr(f"expense-{pk}-timeline.json", _dump(timeline))
        archive.writestr(f"expense-{pk}-audit-chain.json", _dump(chain_json(evidence)))
        if pdf is not None:
            archive.writestr(f"expense-{pk}-evidence.pdf", pdf)
    return buffer.getvalue()


def _dump(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str, sort_keys=True)
