"""The routing lookups' questions and answers: chains as the policy makes them, the
org chart as the route activity reads it.

Part of the contract (approvals/workflow/contract.py re-exports these): plain
dataclasses in histories; add fields with defaults only. Imports nothing but the
standard library: the workflow sandbox loads this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..calendar import Calendar


class LevelKind(StrEnum):
    MANAGER = "manager"
    PERSON = "person"
    GROUP = "group"


@dataclass
class LevelSpec:
    """One level of a chain as the policy rules make it (policy/rules.py)."""

    kind: str  # LevelKind
    label: str  # "manager", the group's name or the person's username
    approvers: list[str] = field(default_factory=list)  # preferred: SoD applies on top
    group: str = ""
    mode: str = ""  # groups: "any" one member decides, or "all" (one level per member)
    manager: int = 0  # the n-th manager


@dataclass
class RouteFacts:
    """The request's facts the policy rules read (EUR amount at the pinned rate)."""

    amount_cents: int = 0
    category: str = ""
    cost_centre: str = ""


@dataclass
class RouteRequest:
    request_id: int
    requester: str
    levels: int
    # With a pinned policy version, the activity evaluates that version's rules for
    # these facts and returns `Route.levels`.
    policy_version: str = ""
    facts: RouteFacts | None = None
    calendars: bool = False  # answer with Route.calendars (a run in working time)


@dataclass
class Route:
    """Who may be asked, as the org chart stands when the chain is resolved.

    `ladder` is the requester's active managers upward, nearest first; level n
    of the management part is ladder[n-1]. `admins` are the active admins.
    `levels` is the chain the pinned policy version's rules make (empty for a
    request without one: the management levels by amount alone).
    The workflow applies separation of duties on top (rules.py).
    """

    ladder: list[str]
    admins: list[str]
    levels: list[LevelSpec] = field(default_factory=list)
    # The business calendars of the people above whose own differs from the request's
    # default (ApprovalInput.calendar): another time zone or Land (issue 31).
    calendars: dict[str, Calendar] = field(default_factory=dict)


@dataclass
class ManagersRequest:
    request_id: int
    people: list[str]
    calendars: bool = False  # answer with Managers.calendars (a run in working time)


@dataclass
class Managers:
    """Each person's active managers upward, nearest first; the active admins."""

    chains: dict[str, list[str]]
    admins: list[str]
    calendars: dict[str, Calendar] = field(default_factory=dict)  # as Route.calendars
