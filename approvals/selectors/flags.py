"""Reads of the spend checks' flags, worded in the reader's language (`flag_labels`):
for one request (its page, mail, API) and for a page of inbox rows (one query)."""

from __future__ import annotations

from ..flag_labels import worded
from ..models import ExpenseRequest, LineFlag


def flags_of(request: ExpenseRequest) -> list[dict]:
    return [worded(f) for f in request.flags.all()]


def flags_of_id(request_id: int) -> list[dict]:
    return [worded(f) for f in LineFlag.objects.filter(request_id=request_id)]


def by_line(flags: list[dict]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for flag in flags:
        found.setdefault(flag["line"], []).append(flag)
    return found


def attach(rows: list) -> list:
    """Set `row.flags` (worded) on each inbox row from one query; returns the rows."""
    ids = [row.request_id for row in rows]
    found: dict[int, list[dict]] = {pk: [] for pk in ids}
    if ids:
        for flag in LineFlag.objects.filter(request_id__in=ids).order_by("position", "pk"):
            found[flag.request_id].append(worded(flag))
    for row in rows:
        row.flags = found.get(row.request_id, [])
    return rows
