"""Random organisations for the separation-of-duties property tests, and the invariant.

An `Org` is a reports-to forest, its admins, today's delegations and who has
left; it answers what the routing activities would (`managers`, the active
admins). `orgs()` draws one with hypothesis. `assert_separation_of_duties`
is the invariant every path keeps, checked on an `ApprovalState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from approvals.workflow import rules
from approvals.workflow.contract import (
    Action,
    Actor,
    ApprovalState,
    LevelStatus,
    Managers,
    PolicySnapshot,
    Route,
    Status,
    Via,
)


@dataclass
class Org:
    reports_to: dict[str, str | None]
    admins: list[str]
    delegations: dict[str, list[str]]  # delegate -> principals
    gone: set[str] = field(default_factory=set)
    groups: dict[str, list[str]] = field(default_factory=dict)  # approver groups -> members

    def people(self) -> list[str]:
        return [p for p in dict.fromkeys([*self.reports_to, *self.admins]) if p not in self.gone]

    def managers(self, person: str) -> list[str]:
        """Active managers upward, nearest first (a leaver's place is skipped)."""
        chain, seen = [], {person}
        boss = self.reports_to.get(person)
        while boss is not None and boss not in seen:
            seen.add(boss)
            if boss not in self.gone:
                chain.append(boss)
            boss = self.reports_to.get(boss)
        return chain

    def active_admins(self) -> list[str]:
        return [a for a in self.admins if a not in self.gone]

    def route(self, requester: str) -> Route:
        """What resolve_route answers today."""
        admins = [a for a in self.active_admins() if a != requester]
        return Route(ladder=self.managers(requester), admins=admins)

    def snapshot(self, requester: str):
        """What the policy rules see (policy/versions.py OrgCache.snapshot)."""
        from approvals.policy.rules import OrgSnapshot

        route = self.route(requester)
        return OrgSnapshot(
            ladder=route.ladder,
            admins=route.admins,
            groups={g: [m for m in ms if m not in self.gone] for g, ms in self.groups.items()},
            people=self.people(),
        )

    def managers_of(self, people: list[str]) -> Managers:
        """What resolve_managers answers today."""
        return Managers(chains={p: self.managers(p) for p in people}, admins=self.active_admins())

    def actor(self, name: str) -> Actor:
        """The actor as the web tier builds it (admin flag, delegations in force)."""
        return Actor(
            username=name,
            is_admin=name in self.admins,
            delegate_for=[p for p in self.delegations.get(name, []) if p not in self.gone],
        )

    def delegates_of(self, principals: list[str]) -> list[str]:
        wanted = set(principals)
        return [p for p, of in self.delegations.items() if set(of) & wanted and p not in self.gone]


@st.composite
def orgs(draw) -> Org:
    """3-9 people in a random reports-to forest, 1-2 admins (people or admin accounts),
    and most people with someone deciding for them."""
    size = draw(st.integers(3, 9))
    people = [f"p{i}" for i in range(size)]
    reports_to: dict[str, str | None] = {people[0]: None}
    for i in range(1, size):
        reports_to[people[i]] = draw(st.sampled_from([None, *people[:i]]))
    pool = people + [f"admin{i}" for i in range(draw(st.integers(0, 2)))]
    admins = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    delegations: dict[str, list[str]] = {}
    for principal in pool:
        delegate = draw(st.sampled_from([None, *pool]))
        if delegate is not None and delegate != principal:
            delegations.setdefault(delegate, []).append(principal)
    groups = {
        name: draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
        for name in ("finance", "IT")
    }
    return Org(reports_to, admins, delegations, groups=groups)


def assert_separation_of_duties(state: ApprovalState, levels_needed: int) -> None:
    """A request that needs N levels is approved by N different people (a delegate's
    principal counts as having approved), never by its requester; no person acts at two
    levels of one round; whoever a pending level waits on may take it."""
    approvals = [
        d for d in state.decisions if d.round == state.round and d.action == Action.APPROVE
    ]
    actors = [d.actor for d in approvals]
    people = actors + [d.on_behalf_of for d in approvals if d.on_behalf_of]
    assert len(set(people)) == len(people), f"someone counted twice: {approvals}"
    assert len({d.level for d in approvals}) == len(approvals), f"a level twice: {approvals}"
    assert state.requester not in people, f"the requester approved: {approvals}"
    assert all(d.channel != Via.AUTO for d in state.decisions), "nobody is approved automatically"
    if state.status == Status.APPROVED:
        assert len(set(actors)) == len(state.levels) == levels_needed, approvals
        assert all(lv.status == LevelStatus.APPROVED for lv in state.levels)
    if state.status == Status.PENDING and state.current_level:
        m = rules.Machine(state=state, policy=PolicySnapshot())
        waiting_on = set(rules.current(m).approvers)
        assert not waiting_on & rules.excluded(m), (waiting_on, rules.excluded(m))
