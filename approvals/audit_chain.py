"""The hash-chained audit log: the one way audit rows are written, and their check.

Every `AuditEntry` row stores `entry_hash`, the SHA-256 of its canonical content,
which includes `prev_hash`, the hash of the row written before it for the same
request (`GENESIS` for the first). The chain's order is the order of writing (the
primary key), not `at`. Every writer goes through `append` (the model's `save`
too), which locks the request row, so two writers of one request never chain to
the same predecessor; the newest hash is kept on the request (`audit_head`) in the
same commit, and the workflow will hold it as well (the record activity returns
it), so cutting off the newest rows shows as a head that no longer matches.

`verify` recomputes a request's chain and names the first row that breaks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from .models import AuditEntry, ExpenseRequest

GENESIS = "0" * 64
# The fields a row's hash covers, in a fixed order (with `request`, `prev` and `at`).
HASHED = (
    "key",
    "kind",
    "level",
    "actor_username",
    "actor_name",
    "actor_role",
    "channel",
    "comment",
    "source",
)


def _at(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else ""


def canonical(row: AuditEntry, prev: str) -> bytes:
    """The row as the bytes its hash is taken of: sorted-key JSON, UTC times.

    `detail` goes through a JSON round trip first, as the database stores it
    (tuples become lists, keys strings), so a row hashes the same before and
    after it is saved.
    """
    content = {name: getattr(row, name) for name in HASHED}
    content.update(
        request=row.request_id,
        at=_at(row.at),
        detail=json.loads(json.dumps(row.detail or {}, default=str)),
        prev=prev,
    )
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


def row_hash(row: AuditEntry, prev: str) -> str:
    return hashlib.sha256(canonical(row, prev)).hexdigest()


def _lock(request_id: int) -> str | None:
    """Lock the request row (the chain's serialisation point) and return its head
    ("" before the first row); None if the request is gone."""
    return (
        ExpenseRequest.objects.select_for_update()
        .filter(pk=request_id)
        .values_list("audit_head", flat=True)
        .first()
    )


def _last_hash(request_id: int) -> str:
    last = (
        AuditEntry.objects.filter(request_id=request_id)
        .order_by("-pk")
        .values_list("entry_hash", flat=True)
        .first()
    )
    return last or GENESIS


def append(request_id: int, rows: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Chain and insert the rows whose key the request does not have yet; returns those.

    Runs in the caller's transaction when there is one (`projection.record`), else
    in its own; the request row stays locked until that commits.
    """
    rows = list(rows)
    with transaction.atomic():
        head = _lock(request_id) if rows else None
        if head is None:
            return []
        existing = set(
            AuditEntry.objects.filter(
                request_id=request_id, key__in=[r.key for r in rows]
            ).values_list("key", flat=True)
        )
        fresh, seen = [], set()
        for row in rows:
            if row.key in existing or row.key in seen:
                continue
            seen.add(row.key)
            fresh.append(row)
        if not fresh:
            return []
        # The head, not the last row: rows cut off the end stay a visible gap after
        # this one (its prev_hash names the missing row) instead of being papered over.
        prev = head or _last_hash(request_id)
        for row in fresh:
            row.request_id = request_id
            row.prev_hash = prev
            row.entry_hash = prev = row_hash(row, prev)
        AuditEntry.objects.bulk_create(fresh)
        ExpenseRequest.objects.filter(pk=request_id).update(audit_head=prev)
    return fresh


def rewrite(request_id: int, changes: dict[str, dict]) -> None:
    """Replace fields of rows already written (by key) and re-chain from the first of them.

    Only for a start task retried after a crash (`projection.append_audit(replace=True)`):
    the workflow kept the retried task's values, so the rows take them, in the same
    commit as the projection; every later row's hash follows.
    """
    if not changes:
        return
    with transaction.atomic():
        if _lock(request_id) is None:
            return
        rows = list(AuditEntry.objects.filter(request_id=request_id).order_by("pk"))
        first = next((i for i, row in enumerate(rows) if row.key in changes), None)
        if first is None:
            return
        prev = rows[first - 1].entry_hash if first else GENESIS
        for row in rows[first:]:
            for name, value in changes.get(row.key, {}).items():
                setattr(row, name, value)
            row.prev_hash = prev
            row.entry_hash = prev = row_hash(row, prev)
        fields = sorted({"prev_hash", "entry_hash", *(n for c in changes.values() for n in c)})
        AuditEntry.objects.bulk_update(rows[first:], fields)
        ExpenseRequest.objects.filter(pk=request_id).update(audit_head=prev)


def audit_head(request_id: int) -> str:
    """The newest row's hash of the request's chain (GENESIS when it has no rows)."""
    return _last_hash(request_id)


@dataclass(frozen=True)
class Break:
    """Where a chain breaks: the row (None: after the last row) and why (a code)."""

    request_id: int
    entry_id: int | None
    key: str
    reason: str  # "edited", "missing_before", "head_mismatch"

    def __str__(self) -> str:
        where = f"row {self.entry_id} ({self.key})" if self.entry_id else "after the last row"
        return f"request {self.request_id}: {where}: {REASONS[self.reason]}"


REASONS = {
    "edited": "its content does not match its hash (edited)",
    "missing_before": "it does not follow the row before it (a row was deleted or inserted)",
    "head_mismatch": "the newest row is not the newest the request recorded "
    "(rows were deleted at the end)",
    "workflow_head_missing": "the newest hash the workflow holds is not in the chain "
    "(rows were deleted or the chain was rewritten)",
}


def verify(request_id: int, expected_head: str | None = None) -> Break | None:
    """The first break in the request's chain, or None when it is whole.

    `expected_head`: the newest hash as held elsewhere (the workflow's state, the
    request's `audit_head`); without it only the rows are checked against each other.
    """
    rows = AuditEntry.objects.filter(request_id=request_id).order_by("pk").iterator()
    return check_rows(request_id, rows, expected_head)


def check_rows(
    request_id: int, rows: Iterable[AuditEntry], expected_head: str | None
) -> Break | None:
    """The first break among `rows` (in order of writing), then against the head."""
    prev, last = GENESIS, None
    for row in rows:
        if row.prev_hash != prev:
            return Break(request_id, row.pk, row.key, "missing_before")
        if row_hash(row, prev) != row.entry_hash:
            return Break(request_id, row.pk, row.key, "edited")
        prev, last = row.entry_hash, row
    if expected_head and expected_head != prev:
        return Break(request_id, None, last.key if last else "", "head_mismatch")
    return None


def check_workflow_head(
    request_id: int, rows: list[AuditEntry], workflow_head: str
) -> Break | None:
    """The chain against the head its workflow holds (`ApprovalState.audit_head`).

    The workflow learns the head after each of its records, and the payout saga appends
    rows after the approval closes, so the workflow's head may be older than the newest
    row: it must be one of the chain's hashes, and the rows must check out as a chain.
    An empty head (a run from before it was held) checks nothing."""
    found = check_rows(request_id, rows, None)
    if found is not None or not workflow_head:
        return found
    if workflow_head == GENESIS or any(row.entry_hash == workflow_head for row in rows):
        return None
    return Break(request_id, None, rows[-1].key if rows else "", "workflow_head_missing")


def snapshot(request_id: int) -> tuple[str, list[AuditEntry], Break | None] | None:
    """The request's head, its rows and their verdict, read together under the request
    row's lock, so a row appended meanwhile never looks like a cut-off chain. None when
    the request does not exist. Rows but no head: the head was blanked, a break too."""
    with transaction.atomic():
        head = (
            ExpenseRequest.objects.select_for_update()
            .filter(pk=request_id)
            .values_list("audit_head", flat=True)
            .first()
        )
        if head is None:
            return None
        rows = list(AuditEntry.objects.filter(request_id=request_id).order_by("pk"))
        return head, rows, check_rows(request_id, rows, head or GENESIS)


def verify_all(request_ids: Iterable[int] | None = None) -> list[Break]:
    """Every broken chain (one break per request), checked against the projection's head.

    One read-only transaction on one snapshot (REPEATABLE READ on PostgreSQL), so a row
    appended meanwhile is in both the rows and the head, or in neither; no locks.
    """
    breaks: list[Break] = []
    outermost = not connection.in_atomic_block  # else the caller's transaction decides
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        heads = ExpenseRequest.objects.all()
        rows = AuditEntry.objects.order_by("request_id", "pk")
        if request_ids is not None:
            wanted = list(request_ids)
            heads, rows = heads.filter(pk__in=wanted), rows.filter(request_id__in=wanted)
        head_of = dict(heads.values_list("pk", "audit_head"))
        current, chain = None, []

        def close() -> None:
            if current is not None:
                found = check_rows(current, chain, head_of.pop(current, "") or GENESIS)
                if found is not None:
                    breaks.append(found)

        for row in rows.iterator(chunk_size=2000):
            if row.request_id != current:
                close()
                current, chain = row.request_id, []
            chain.append(row)
        close()
        for pk, head in head_of.items():  # requests without rows: a head says some were cut
            found = check_rows(pk, [], head or GENESIS)
            if found is not None:
                breaks.append(found)
    return sorted(breaks, key=lambda b: b.request_id)


def link_breaks(limit: int = 50) -> list[Break]:
    """Broken links across every request in one query (no hashing): a row whose
    `prev_hash` is not its predecessor's hash (a row deleted or slipped in), and a
    chain whose last hash is not the request's `audit_head` (rows cut off the end).
    /ops/ runs this on every load; the full check with the hashes is `verify`."""
    table, requests = AuditEntry._meta.db_table, ExpenseRequest._meta.db_table
    sql = f"""
        WITH chained AS (
            SELECT id, request_id, key, prev_hash, entry_hash,
                   LAG(entry_hash) OVER (PARTITION BY request_id ORDER BY id) AS before,
                   ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY id DESC) AS from_end
            FROM {table}
        )
        SELECT request_id, id, key, 'missing_before' FROM chained
        WHERE prev_hash <> COALESCE(before, %s)
        UNION ALL
        SELECT c.request_id, NULL, c.key, 'head_mismatch' FROM chained c
        JOIN {requests} r ON r.id = c.request_id
        WHERE c.from_end = 1 AND c.entry_hash <> r.audit_head
        UNION ALL
        SELECT r.id, NULL, '', 'head_mismatch' FROM {requests} r
        WHERE r.audit_head <> '' AND NOT EXISTS (
            SELECT 1 FROM {table} a WHERE a.request_id = r.id
        )
    """  # noqa: S608 - table names from the models, the one value a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [GENESIS])
        found: dict[int, Break] = {}
        for request_id, entry_id, key, reason in cursor.fetchall():
            # One break per request: the earliest row, before "after the last row".
            rank = entry_id or float("inf")
            previous = found.get(request_id)
            if previous is None or rank < (previous.entry_id or float("inf")):
                found[request_id] = Break(request_id, entry_id, key, reason)
    return [found[pk] for pk in sorted(found)][:limit]


def recent_breaks(limit: int = 200) -> list[Break]:
    """The hashes of the `limit` requests changed last, rows against each other only
    (no lock: /ops/ must not hold up the workers; `link_breaks` checks the heads)."""
    recent = ExpenseRequest.objects.order_by("-updated_at").values_list("pk", flat=True)[:limit]
    return [found for pk in recent if (found := verify(pk)) is not None]
