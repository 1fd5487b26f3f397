"""report_diff.diff: what changed in a report's lines between two rounds (table tests)."""

from __future__ import annotations

import pytest

from approvals.report_diff import LineChange, diff


def ln(n, amount="10.00", merchant="Taxi", origin=..., **extra) -> dict:
    line = {
        "n": n,
        "date": "2026-12-01",
        "merchant": merchant,
        "category": "travel",
        "amount": amount,
        "currency": "EUR",
        "vat": "",
        "description": "",
        "receipt_sha256": "",
        "receipt": False,
        **extra,
    }
    if origin is not ...:
        line["origin"] = origin
    return line


def summary(changes: list[LineChange]) -> list[tuple]:
    return [(c.kind, c.n, c.fields) for c in changes]


CASES = {
    "nothing changed": ([ln(1), ln(2)], [ln(1, origin=1), ln(2, origin=2)], []),
    "amount changed": (
        [ln(1), ln(2, "5.00")],
        [ln(1, origin=1), ln(2, "6.00", origin=2)],
        [("changed", 2, ("amount",))],
    ),
    "merchant and date changed": (
        [ln(1)],
        [ln(1, merchant="Uber", date="2026-12-02", origin=1)],
        [("changed", 1, ("date", "merchant"))],
    ),
    "category changed": (
        [ln(1)],
        [ln(1, category="meals", origin=1)],
        [("changed", 1, ("category",))],
    ),
    "a line added": ([ln(1)], [ln(1, origin=1), ln(2, origin=None)], [("added", 2, ())]),
    "a line removed": (
        [ln(1), ln(2), ln(3)],
        [ln(1, origin=1), ln(2, origin=3)],
        [("removed", 2, ())],
    ),
    "the first removed, the rest moved up unchanged": (
        [ln(1, merchant="A"), ln(2, merchant="B")],
        [ln(1, merchant="B", origin=2)],
        [("removed", 1, ())],
    ),
    "receipt added": (
        [ln(1)],
        [ln(1, origin=1, receipt=True, receipt_sha256="ab")],
        [("changed", 1, ("receipt",))],
    ),
    "receipt replaced": (
        [ln(1, receipt=True, receipt_sha256="ab")],
        [ln(1, origin=1, receipt=True, receipt_sha256="cd")],
        [("changed", 1, ("receipt",))],
    ),
    "receipt kept": (
        [ln(1, receipt=True, receipt_sha256="ab")],
        [ln(1, origin=1, receipt=True, receipt_sha256="ab")],
        [],
    ),
    "old snapshots without origins match by number": (
        [ln(1), ln(2)],
        [ln(1), ln(2, "7.00"), ln(3)],
        [("changed", 2, ("amount",)), ("added", 3, ())],
    ),
    "two new lines claiming one origin: the second is added": (
        [ln(1)],
        [ln(1, origin=1), ln(2, origin=1)],
        [("added", 2, ())],
    ),
    "everything replaced": (
        [ln(1), ln(2)],
        [ln(1, origin=None)],
        [("added", 1, ()), ("removed", 1, ()), ("removed", 2, ())],
    ),
}


@pytest.mark.parametrize(("old", "new", "expected"), CASES.values(), ids=CASES.keys())
def test_diff(old, new, expected):
    assert summary(diff(old, new)) == expected


def test_a_change_carries_both_sides():
    (change,) = diff([ln(1, "5.00")], [ln(1, "6.00", origin=1)])
    assert (change.old["amount"], change.new["amount"]) == ("5.00", "6.00")
