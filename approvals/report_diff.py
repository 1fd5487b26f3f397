"""What changed in a report's lines between two rounds (pure: snapshots in, changes out).

A snapshot is a list of line dicts as `services.requests.line_snapshot` keeps them
(`ReportRound.lines`). Lines are matched by `n` as the requester's form carried
it (a kept line keeps its number's place; `origin` names the old line it
continues when positions moved); what is left over was added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The fields an approver is shown as changed, in this order.
COMPARED = ("date", "merchant", "category", "amount", "currency", "vat", "description", "receipt")


@dataclass(frozen=True)
class LineChange:
    kind: str  # "added" | "removed" | "changed"
    n: int  # the line's number in the new round (removed: in the old one)
    old: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    fields: tuple[str, ...] = ()  # for "changed": which of COMPARED differ


def _receipt(line: dict) -> str:
    """A receipt's identity: its hash, else whether there is one."""
    return line.get("receipt_sha256") or ("yes" if line.get("receipt") else "")


def _value(line: dict, name: str):
    return _receipt(line) if name == "receipt" else line.get(name, "")


def diff(old_lines: list[dict], new_lines: list[dict]) -> list[LineChange]:
    """The changes from `old_lines` to `new_lines`: changed and added lines in the new
    order, then removed ones in the old order. Unchanged lines are not listed."""
    old_by_n = {line["n"]: line for line in old_lines}
    matched: set[int] = set()
    changes: list[LineChange] = []
    for line in new_lines:
        origin = line["origin"] if "origin" in line else line["n"]
        before = old_by_n.get(origin) if origin is not None else None
        if before is None or origin in matched:
            changes.append(LineChange("added", line["n"], new=line))
            continue
        matched.add(origin)
        differing = tuple(n for n in COMPARED if _value(before, n) != _value(line, n))
        if differing:
            changes.append(LineChange("changed", line["n"], old=before, new=line, fields=differing))
    for line in old_lines:
        if line["n"] not in matched:
            changes.append(LineChange("removed", line["n"], old=line))
    return changes
