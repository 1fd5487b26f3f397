"""approvals/workflow/rules.py, table by table: every refusal, every routing choice.

Pure: Machine/ApprovalState/LevelState are built by hand, nothing talks to
Temporal or the database. Each refusal a table produces is also worded by
approvals.labels with exactly the parameters the rule gave, so a code whose
words need a parameter the rule does not send fails here.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from approvals import labels
from approvals.workflow import rules
from approvals.workflow.contract import (
    Action,
    Actor,
    ApprovalState,
    DecisionInput,
    DecisionRecord,
    ExtendInput,
    IgnoredSignal,
    LevelState,
    LevelStatus,
    LineRejection,
    LineState,
    PolicySnapshot,
    Refusal,
    ResubmitInput,
    Route,
    Status,
    Via,
    WithdrawInput,
)

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
LADDER = ["max", "diana", "victor"]  # emma's managers, nearest first
PRODUCED: set[str] = set()  # refusal codes the tables below produced


# ----------------------------------------------------------------- builders
def level(
    number, approvers, status=LevelStatus.WAITING, decided_by="", on_behalf_of="", original=None
) -> LevelState:
    return LevelState(
        level=number,
        approvers=list(approvers),
        original_approvers=list(original if original is not None else approvers),
        status=status,
        decided_by=decided_by,
        on_behalf_of=on_behalf_of,
    )


def approve(
    lvl, actor, on_behalf_of="", round_=1, channel=Via.UPDATE, action=Action.APPROVE, decision_id=""
):
    return DecisionRecord(
        seq=lvl,
        level=lvl,
        action=action,
        actor=actor,
        actor_display="",
        actor_role="",
        comment="",
        at=NOW.isoformat(),
        channel=channel,
        decision_id=decision_id,
        on_behalf_of=on_behalf_of,
        round=round_,
    )


def machine(
    current=1,
    levels=None,
    decisions=(),
    status=Status.PENDING,
    requester="emma",
    round_=1,
    ready=True,
    busy=False,
    due=NOW,
    route=None,
    signal_ids=(),
) -> rules.Machine:
    """emma's three-level request; levels before `current` approved by their approver."""
    if levels is None:
        levels = []
        for n, person in enumerate(LADDER, start=1):
            if n < current:
                levels.append(level(n, [person], LevelStatus.APPROVED, decided_by=person))
            elif n == current:
                levels.append(level(n, [person], LevelStatus.PENDING))
            else:
                levels.append(level(n, [person]))
        if not decisions:
            decisions = [approve(n, LADDER[n - 1]) for n in range(1, current)]
    state = ApprovalState(
        request_id=1,
        requester=requester,
        requester_display=requester,
        title="Train",
        amount_cents=50_000,
        currency="EUR",
        submitted_at=NOW.isoformat(),
        status=status,
        current_level=current,
        levels=levels,
        decisions=list(decisions),
        round=round_,
    )
    return rules.Machine(
        state=state,
        policy=PolicySnapshot(),
        ready=ready,
        busy=busy,
        due=due,
        route=route if route is not None else Route(ladder=list(LADDER), admins=["admin"]),
        signal_ids=set(signal_ids),
    )


def decision(
    who,
    action=Action.APPROVE,
    comment="",
    lvl=0,
    override=False,
    admin=False,
    delegate_for=(),
    decision_id="d-1",
    round_=0,
) -> DecisionInput:
    actor = Actor(username=who, is_admin=admin, delegate_for=list(delegate_for))
    return DecisionInput(
        decision_id, actor, action, comment=comment, level=lvl, override=override, round=round_
    )


def expect(info, code, params=None):
    """`info` is refusal `code` (None: allowed), with `params` if given, and has words."""
    if code is None:
        assert info is None
        return
    assert info is not None and info.code == code, info
    if params is not None:
        assert info.params == params
    PRODUCED.add(code)
    # Words take exactly the parameters the rule sends (a missing one raises KeyError).
    assert str(labels.WORDS[code]) % info.params
    text = labels.refusal_text(info.code, info.params)
    assert text and "%(" not in text


# ------------------------------------------------------- decision_refusal
# Machines reused by several rows.
AT_2 = machine(current=2)  # max approved level 1; diana holds level 2
DELEGATED_1 = machine(  # maria approved level 1 for max; diana holds level 2
    current=2,
    levels=[
        level(1, ["max"], LevelStatus.APPROVED, decided_by="maria", on_behalf_of="max"),
        level(2, ["diana"], LevelStatus.PENDING),
        level(3, ["victor"]),
    ],
    decisions=[approve(1, "maria", on_behalf_of="max")],
)
OVERRIDDEN_1 = machine(  # admin overrode level 1; diana holds level 2
    current=2,
    levels=[
        level(1, ["max"], LevelStatus.APPROVED, decided_by="admin"),
        level(2, ["diana"], LevelStatus.PENDING),
        level(3, ["victor"]),
    ],
    decisions=[approve(1, "admin")],
)
# Never made by the workflow (it routes approvers out of a level): a principal who
# already approved (as a delegate's principal) sits on the current level.
PRINCIPAL_AGAIN = machine(
    current=2,
    levels=[
        level(1, ["max"], LevelStatus.APPROVED, decided_by="diana", on_behalf_of="max"),
        level(2, ["max"], LevelStatus.PENDING, original=["diana"]),
        level(3, ["victor"]),
    ],
    decisions=[approve(1, "diana", on_behalf_of="max")],
)
# Level 1 decided by felix without a countable approval (an auto record): felix holds
# another level, though approved_by does not know him.
HOLDS_OTHER = machine(
    current=2,
    levels=[
        level(1, ["max"], LevelStatus.APPROVED, decided_by="felix"),
        level(2, ["diana"], LevelStatus.PENDING),
        level(3, ["victor"]),
    ],
    decisions=[approve(1, "felix", channel=Via.AUTO)],
)

DECISIONS = [
    ("approver approves", machine(), decision("max"), None, None),
    (
        "approver rejects with a comment",
        machine(),
        decision("max", Action.REJECT, "no"),
        None,
        None,
    ),
    (
        "unknown action",
        machine(),
        decision("max", "delete"),
        Refusal.UNKNOWN_ACTION,
        {"action": "delete"},
    ),
    (
        "unknown action is cut to 40 characters",
        machine(),
        decision("max", "x" * 99),
        Refusal.UNKNOWN_ACTION,
        {"action": "x" * 40},
    ),
    ("requester", machine(), decision("emma"), Refusal.OWN_REQUEST, {}),
    (
        "requester as admin override",
        machine(requester="admin"),
        decision("admin", override=True, admin=True, comment="why"),
        Refusal.OWN_REQUEST,
        {},
    ),
    (
        "requester as delegate of the approver",
        machine(),
        decision("emma", delegate_for=["max"]),
        Refusal.OWN_REQUEST,
        {},
    ),
    ("requester before routing", machine(ready=False), decision("emma"), Refusal.OWN_REQUEST, {}),
    ("not routed yet", machine(ready=False), decision("max"), Refusal.STILL_ROUTING, {}),
    ("re-routing", machine(busy=True), decision("max"), Refusal.STILL_ROUTING, {}),
    (
        "closed",
        machine(status=Status.APPROVED),
        decision("max"),
        Refusal.NOT_AWAITING,
        {"status": Status.APPROVED},
    ),
    (
        "changes requested",
        machine(status=Status.CHANGES_REQUESTED),
        decision("max"),
        Refusal.NOT_AWAITING,
        {"status": Status.CHANGES_REQUESTED},
    ),
    (
        "link of an earlier round",
        machine(),
        decision("max", round_=7),
        Refusal.ROUND_OVER,
        {"round": 7},
    ),
    ("link of this round", machine(), decision("max", round_=1), None, None),
    ("level not reached", machine(), decision("diana", lvl=2), Refusal.LEVEL_NOT_YET, {}),
    ("negative level", machine(), decision("max", lvl=-1), Refusal.LEVEL_NOT_YET, {}),
    (
        "named level already decided",
        AT_2,
        decision("max", lvl=1),
        Refusal.LEVEL_MOVED_ON,
        {"level": 1, "by": "max", "on_behalf_of": ""},
    ),
    (
        "named level decided by a delegate",
        DELEGATED_1,
        decision("max", lvl=1),
        Refusal.LEVEL_MOVED_ON,
        {"level": 1, "by": "maria", "on_behalf_of": "max"},
    ),
    ("the level's approver names the current level", AT_2, decision("diana", lvl=2), None, None),
    (
        "reject without comment",
        machine(),
        decision("max", Action.REJECT),
        Refusal.COMMENT_REQUIRED,
        {},
    ),
    (
        "request changes with blanks",
        machine(),
        decision("max", Action.REQUEST_CHANGES, "  "),
        Refusal.COMMENT_REQUIRED,
        {},
    ),
    (
        "comment too long",
        machine(),
        decision("max", comment="x" * (rules.MAX_COMMENT + 1)),
        Refusal.COMMENT_TOO_LONG,
        {"max": rules.MAX_COMMENT},
    ),
    (
        "comment at the limit",
        machine(),
        decision("max", comment="x" * rules.MAX_COMMENT),
        None,
        None,
    ),
    (
        "earlier level's approver, level unnamed (lost race)",
        AT_2,
        decision("max"),
        Refusal.LEVEL_MOVED_ON,
        {"level": 1, "by": "max", "on_behalf_of": ""},
    ),
    (
        "delegate of an earlier level's approver (lost race)",
        AT_2,
        decision("maria", delegate_for=["max"]),
        Refusal.LEVEL_MOVED_ON,
        {"level": 1, "by": "max", "on_behalf_of": ""},
    ),
    (
        "principal of a delegate's decision tries the next level",
        DELEGATED_1,
        decision("max"),
        Refusal.LEVEL_MOVED_ON,
        {"level": 1, "by": "maria", "on_behalf_of": "max"},
    ),
    (
        "admin who overrode level 1 overrides level 2",
        OVERRIDDEN_1,
        decision("admin", comment="again", override=True, admin=True),
        Refusal.ALREADY_APPROVED,
        {},
    ),
    (
        "delegate who approved level 1 acts for level 2's approver",
        DELEGATED_1,
        decision("maria", delegate_for=["diana"]),
        Refusal.ALREADY_APPROVED,
        {},
    ),
    (
        "delegate for a principal who already approved",
        PRINCIPAL_AGAIN,
        decision("felix", delegate_for=["max"]),
        Refusal.PRINCIPAL_ALREADY_APPROVED,
        {"principal": "max"},
    ),
    (
        "delegate who decided another level",
        HOLDS_OTHER,
        decision("felix", delegate_for=["diana"]),
        Refusal.DELEGATE_HOLDS_OTHER_LEVEL,
        {"principal": "diana"},
    ),
    ("someone else's manager", machine(), decision("diana"), Refusal.NOT_APPROVER, {}),
    ("a stranger", machine(), decision("finn"), Refusal.NOT_APPROVER, {}),
    (
        "delegate of someone not on the level",
        machine(),
        decision("maria", delegate_for=["ivan"]),
        Refusal.NOT_APPROVER,
        {},
    ),
    (
        "delegate of the requester (who sits on the level)",
        machine(levels=[level(1, ["emma", "max"], LevelStatus.PENDING)]),
        decision("maria", delegate_for=["emma"]),
        Refusal.NOT_APPROVER,
        {},
    ),
    ("active delegate", machine(), decision("maria", delegate_for=["ivan", "max"]), None, None),
    (
        "admin without override",
        machine(),
        decision("admin", admin=True),
        Refusal.NOT_APPROVER_USE_OVERRIDE,
        {},
    ),
    (
        "admin override without reason",
        machine(),
        decision("admin", override=True, admin=True),
        Refusal.OVERRIDE_NEEDS_REASON,
        {},
    ),
    (
        "admin override with blank reason",
        machine(),
        decision("admin", override=True, admin=True, comment="   "),
        Refusal.OVERRIDE_NEEDS_REASON,
        {},
    ),
    (
        "admin override with a reason",
        machine(),
        decision("admin", override=True, admin=True, comment="max is on leave"),
        None,
        None,
    ),
    (
        "override flag without admin rights",
        machine(),
        decision("diana", override=True, comment="x"),
        Refusal.NOT_APPROVER,
        {},
    ),
    (
        "admin group member",
        machine(levels=[level(1, ["admin", "admin2"], LevelStatus.PENDING)]),
        decision("admin2", admin=True),
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "m", "d", "code", "params"), DECISIONS, ids=[row[0] for row in DECISIONS]
)
def test_decision_refusal(case, m, d, code, params):
    expect(rules.decision_refusal(m, d), code, params)


def test_delegate_holding_another_level_is_refused_as_already_approved_in_practice():
    """Every decided level is an approval in approved_by, so a delegate who
    decided level 1 is refused as AlreadyApproved before DelegateHoldsOtherLevel is reached
    (that code only guards states with an uncounted decision)."""
    m = machine(current=2)
    d = decision("max", delegate_for=["diana"])
    assert rules.decided_level_for(m, d) is None  # acting for diana, who holds level 2
    expect(rules.decision_refusal(m, d), Refusal.ALREADY_APPROVED, {})
    expect(rules.authority(m, d)[1], Refusal.DELEGATE_HOLDS_OTHER_LEVEL, {"principal": "diana"})


AUTHORITY = [
    ("own right", machine(), decision("max"), "", None),
    ("own right beats delegation", machine(), decision("max", delegate_for=["diana"]), "", None),
    ("delegate", machine(), decision("maria", delegate_for=["max"]), "max", None),
    (
        "first principal on the level",
        machine(levels=[level(1, ["a", "b"], LevelStatus.PENDING)]),
        decision("c", delegate_for=["x", "b", "a"]),
        "b",
        None,
    ),
    (
        "admin override",
        machine(),
        decision("admin", admin=True, override=True, comment="x"),
        "",
        None,
    ),
    ("admin", machine(), decision("admin", admin=True), None, Refusal.NOT_APPROVER_USE_OVERRIDE),
    ("stranger", machine(), decision("finn"), None, Refusal.NOT_APPROVER),
    (
        "principal already approved",
        PRINCIPAL_AGAIN,
        decision("felix", delegate_for=["max"]),
        None,
        Refusal.PRINCIPAL_ALREADY_APPROVED,
    ),
]


@pytest.mark.parametrize(
    ("case", "m", "d", "behalf", "code"), AUTHORITY, ids=[row[0] for row in AUTHORITY]
)
def test_authority(case, m, d, behalf, code):
    on_behalf_of, info = rules.authority(m, d)
    assert on_behalf_of == behalf
    expect(info, code)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (decision("admin", admin=True, override=True, comment="x"), True),
        (decision("admin", admin=True, comment="x"), False),
        (decision("diana", override=True, comment="x"), False),
        (decision("max", admin=True, override=True, comment="x"), False),  # max's own level
    ],
)
def test_is_override_only_for_an_admin_deciding_someone_elses_level(d, expected):
    assert rules.is_override(machine(), d, "") is expected
    assert rules.is_override(machine(), d, "max") is False  # acting as a delegate


def test_signal_refusal_needs_a_decision_id_then_applies_the_decision_rules():
    expect(
        rules.signal_refusal(machine(), decision("max", decision_id="")),
        Refusal.SIGNAL_WITHOUT_ID,
        {},
    )
    assert rules.signal_refusal(machine(), decision("max")) is None
    expect(rules.signal_refusal(machine(), decision("diana")), Refusal.NOT_APPROVER, {})


def test_seen_decision_by_signal_id_or_recorded_decision():
    m = machine(current=2, decisions=[approve(1, "max", decision_id="a")], signal_ids={"b"})
    assert rules.seen_decision(m, "a") and rules.seen_decision(m, "b")
    assert not rules.seen_decision(m, "c") and not rules.seen_decision(m, "")


def test_a_repeated_decision_id_answers_only_the_person_who_used_it():
    """Issue 25: finn sends the id read out of max's mail; the workflow refuses him instead
    of answering with the state, while max's own repeat is still applied once."""
    m = machine(current=2, decisions=[approve(1, "max", decision_id="a")], signal_ids={"b"})
    m.state.ignored_signals.append(
        IgnoredSignal("b", "diana", "approve", "x", NOW.isoformat(), code=Refusal.LEVEL_NOT_YET)
    )
    assert rules.repeated_decision(m, decision("max", decision_id="a")) == (True, None)
    assert rules.repeated_decision(m, decision("diana", decision_id="b")) == (True, None)
    assert rules.repeated_decision(m, decision("diana", decision_id="c")) == (False, None)
    for who, used in (("finn", "a"), ("diana", "a"), ("max", "b")):
        repeat, taken = rules.repeated_decision(m, decision(who, decision_id=used))
        assert repeat is False
        expect(taken, Refusal.DECISION_ID_TAKEN, {})
    # A forged (unauthenticated) signal never claims an id for the person it names.
    m.state.ignored_signals.append(
        IgnoredSignal("z", "max", "approve", "x", NOW.isoformat(), code=Refusal.UNAUTHENTICATED)
    )
    assert rules.repeated_decision(m, decision("diana", decision_id="z")) == (False, None)


def extended(times, seconds):
    m = machine()
    rules.current(m).extensions, rules.current(m).extended_seconds = times, seconds
    return m


@pytest.mark.parametrize(
    ("times", "seconds", "extra", "code", "params"),
    [
        (4, 86400, 86400, None, None),
        (5, 86400, 3600, Refusal.EXTENSIONS_EXHAUSTED, {"max": 5}),
        (1, 30 * 86400, 86400, None, None),
        (1, 30 * 86400, 86401, Refusal.EXTENSION_TOTAL_EXCEEDED, {"max_days": 31, "left_days": 1}),
        (0, 0, 30 * 86400, None, None),
    ],
)
def test_extensions_of_a_level_are_capped(times, seconds, extra, code, params):
    expect(rules.extend_refusal(extended(times, seconds), extend("max", extra)), code, params)


@given(st.lists(st.integers(min_value=-10, max_value=40 * 86400), max_size=30))
def test_no_sequence_of_extensions_passes_the_caps(asks):
    """Whatever is asked, in whatever order: at most 5 extensions and 31 days per level."""
    m = machine()
    level = rules.current(m)
    for seconds in asks:
        if rules.extend_refusal(m, extend("max", seconds)) is None:
            level.extensions += 1
            level.extended_seconds += seconds
    assert level.extensions <= rules.MAX_EXTENSIONS_PER_LEVEL
    assert level.extended_seconds <= rules.MAX_EXTENDED_SECONDS_PER_LEVEL


# ------------------------------------------------------ requester and admins
def withdraw(who="emma"):
    return WithdrawInput(actor=Actor(username=who))


@pytest.mark.parametrize(
    ("m", "w", "code", "params"),
    [
        (machine(), withdraw(), None, None),
        (machine(status=Status.CHANGES_REQUESTED), withdraw(), None, None),
        (machine(), withdraw("max"), Refusal.ONLY_REQUESTER_WITHDRAWS, {}),
        (
            machine(status=Status.APPROVED),
            withdraw(),
            Refusal.CANNOT_WITHDRAW,
            {"status": Status.APPROVED},
        ),
        (machine(busy=True), withdraw(), Refusal.CANNOT_WITHDRAW, {"status": Status.PENDING}),
    ],
)
def test_withdraw_refusal(m, w, code, params):
    expect(rules.withdraw_refusal(m, w), code, params)


def resubmit(who="emma", title="Train", amount=50_000, comment="", base=0):
    return ResubmitInput(
        actor=Actor(username=who),
        title=title,
        amount_cents=amount,
        comment=comment,
        base_amount_cents=base,
    )


CHANGES = machine(status=Status.CHANGES_REQUESTED)
TOP = PolicySnapshot().max_amount_cents


@pytest.mark.parametrize(
    ("m", "r", "code", "params"),
    [
        (CHANGES, resubmit(), None, None),
        (CHANGES, resubmit(amount=TOP), None, None),
        (CHANGES, resubmit("max"), Refusal.ONLY_REQUESTER_RESUBMITS, {}),
        (machine(), resubmit(), Refusal.CHANGES_NOT_REQUESTED, {}),
        (
            machine(status=Status.CHANGES_REQUESTED, busy=True),
            resubmit(),
            Refusal.CHANGES_NOT_REQUESTED,
            {},
        ),
        (CHANGES, resubmit(title="  "), Refusal.TITLE_EMPTY, {}),
        (
            CHANGES,
            resubmit(title="t" * (rules.MAX_TITLE + 1)),
            Refusal.TITLE_TOO_LONG,
            {"max": rules.MAX_TITLE},
        ),
        (CHANGES, resubmit(amount=0), Refusal.AMOUNT_NOT_POSITIVE, {}),
        (CHANGES, resubmit(amount=-5), Refusal.AMOUNT_NOT_POSITIVE, {}),
        (CHANGES, resubmit(amount=TOP + 1), Refusal.AMOUNT_ABOVE_MAXIMUM, {}),
        # The maximum is in EUR: the converted amount counts when there is one.
        (CHANGES, resubmit(amount=TOP * 2, base=TOP), None, None),
        (CHANGES, resubmit(amount=100, base=TOP + 1), Refusal.AMOUNT_ABOVE_MAXIMUM, {}),
        (
            CHANGES,
            resubmit(comment="c" * (rules.MAX_COMMENT + 1)),
            Refusal.COMMENT_TOO_LONG,
            {"max": rules.MAX_COMMENT},
        ),
    ],
)
def test_resubmit_refusal(m, r, code, params):
    expect(rules.resubmit_refusal(m, r), code, params)


def extend(who, seconds=3600, admin=False):
    return ExtendInput(actor=Actor(username=who, is_admin=admin), seconds=seconds)


MAX_EXT = rules.MAX_EXTENSION_SECONDS


@pytest.mark.parametrize(
    ("m", "e", "code", "params"),
    [
        (machine(), extend("max"), None, None),
        (machine(), extend("admin", admin=True), None, None),
        (machine(), extend("max", MAX_EXT), None, None),
        (machine(status=Status.CHANGES_REQUESTED), extend("max"), Refusal.NO_DEADLINE, {}),
        (machine(ready=False), extend("max"), Refusal.NO_DEADLINE, {}),
        (machine(due=None), extend("max"), Refusal.NO_DEADLINE, {}),  # waits on nobody
        (machine(), extend("emma"), Refusal.OWN_DEADLINE, {}),
        (machine(requester="admin"), extend("admin", admin=True), Refusal.OWN_DEADLINE, {}),
        (machine(), extend("max", 0), Refusal.EXTENSION_OUT_OF_RANGE, {"max_days": 30}),
        (machine(), extend("max", -1), Refusal.EXTENSION_OUT_OF_RANGE, {"max_days": 30}),
        (machine(), extend("max", MAX_EXT + 1), Refusal.EXTENSION_OUT_OF_RANGE, {"max_days": 30}),
        (machine(), extend("diana"), Refusal.NOT_APPROVER_OR_ADMIN, {}),
    ],
)
def test_extend_refusal(m, e, code, params):
    expect(rules.extend_refusal(m, e), code, params)


@pytest.mark.parametrize(
    ("m", "code", "params"),
    [
        (machine(), None, None),
        (machine(due=None), None, None),  # a level waiting on nobody can be re-routed
        (machine(ready=False), Refusal.NOT_PENDING, {"status": Status.PENDING}),
        (machine(status=Status.WITHDRAWN), Refusal.NOT_PENDING, {"status": Status.WITHDRAWN}),
        (
            machine(status=Status.CHANGES_REQUESTED),
            Refusal.NOT_PENDING,
            {"status": Status.CHANGES_REQUESTED},
        ),
    ],
)
def test_reroute_refusal(m, code, params):
    expect(rules.reroute_refusal(m), code, params)


def test_reroute_is_refused_while_people_are_being_resolved():
    expect(rules.reroute_refusal(machine(busy=True)), Refusal.STILL_ROUTING)


# ----------------------------------------------------------- derived facts
def test_approved_by_counts_this_rounds_approvals_and_their_principals():
    decisions = [
        approve(1, "max", round_=1),
        approve(2, "maria", on_behalf_of="diana", round_=1),
        approve(3, "victor", action=Action.REQUEST_CHANGES, round_=1),
        approve(1, "max", round_=2),
        approve(2, "ivan", round_=2, action=Action.REJECT),
        approve(2, "felix", round_=2, channel=Via.AUTO),  # not a person's approval
    ]
    assert rules.approved_by(machine(decisions=decisions, round_=1)) == {"max", "maria", "diana"}
    assert rules.approved_by(machine(decisions=decisions, round_=2)) == {"max"}
    assert rules.approved_by(machine(decisions=decisions, round_=3)) == set()


def test_excluded_is_the_requester_and_this_rounds_approvers():
    m = machine(decisions=[approve(1, "maria", on_behalf_of="max")])
    assert rules.excluded(m) == {"emma", "maria", "max"}
    assert rules.excluded(machine(decisions=[approve(1, "max", round_=1)], round_=2)) == {"emma"}


def test_holds_other_level_ignores_the_level_itself_and_levels_to_come():
    m = machine(current=2)
    assert rules.holds_other_level(m, "max", m.state.levels[1])
    assert not rules.holds_other_level(m, "max", m.state.levels[0])
    assert not rules.holds_other_level(m, "victor", m.state.levels[1])  # level 3: to come


# ------------------------------------------------------------------ routing
@pytest.mark.parametrize(
    ("preferred", "above", "admins", "barred", "expected"),
    [
        (["max"], ["diana"], ["admin"], set(), ["max"]),
        (["a", "b", "c"], [], ["admin"], {"b"}, ["a", "c"]),
        (["max"], ["diana", "victor"], ["admin"], {"max"}, ["diana"]),
        (["max"], ["diana", "victor"], ["admin"], {"max", "diana"}, ["victor"]),
        (["max"], ["diana"], ["admin", "admin2"], {"max", "diana"}, ["admin", "admin2"]),
        (["max"], ["diana"], ["admin", "admin2"], {"max", "diana", "admin"}, ["admin2"]),
        (["max"], ["diana"], ["admin"], {"max", "diana", "admin"}, []),
        ([], [], [], set(), []),
        ([], ["x"], ["admin"], set(), ["x"]),
    ],
)
def test_choose(preferred, above, admins, barred, expected):
    assert rules.choose(preferred, above, admins, barred) == expected


@pytest.mark.parametrize(
    ("ladder", "levels", "expected"),
    [
        (["max", "diana", "victor"], 2, [["max"], ["diana"]]),
        (["max"], 3, [["max"], ["admin", "admin2"], ["admin", "admin2"]]),
        ([], 1, [["admin", "admin2"]]),
        (["max"], 0, []),
    ],
)
def test_initial_chain(ladder, levels, expected):
    chain = rules.initial_chain(Route(ladder=ladder, admins=["admin", "admin2"]), levels)
    assert chain == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [(1, ["diana", "victor"]), (2, ["victor"]), (3, []), (4, []), (9, [])],
)
def test_above_level(number, expected):
    assert rules.above_level(Route(ladder=list(LADDER), admins=["admin"]), number) == expected


def test_above_level_counts_from_the_levels_approver_after_a_leaver_left_the_ladder():
    # max left: the ladder is [diana, victor]; level 2 (diana) has victor above her.
    route = Route(ladder=["diana", "victor"], admins=["admin"])
    assert rules.above_level(route, 2, ["diana"]) == ["victor"]
    assert rules.above_level(route, 2) == []  # by position alone victor would be skipped


def route_case(approved, lvl, ladder=LADDER, admins=("admin",), requester="emma", preferred=None):
    decisions = [
        approve(n + 1, who, on_behalf_of=behalf) for n, (who, behalf) in enumerate(approved)
    ]
    m = machine(
        decisions=decisions,
        requester=requester,
        route=Route(ladder=list(ladder), admins=list(admins)),
    )
    target = level(
        lvl,
        preferred
        if preferred is not None
        else ([ladder[lvl - 1]] if lvl <= len(ladder) else list(admins)),
    )
    return rules.route_level(m, target)


def test_route_level_keeps_the_preferred_manager():
    assert route_case([], 1) == ["max"]
    assert route_case([("max", "")], 2) == ["diana"]


def test_route_level_climbs_past_someone_who_approved_as_a_delegate():
    # diana decided level 1 for max: level 2 (diana) goes on to victor.
    assert route_case([("diana", "max")], 2) == ["victor"]
    # maria decided for max, then diana: level 3 is victor's.
    assert route_case([("maria", "max"), ("diana", "")], 3) == ["victor"]


def test_route_level_goes_to_the_admins_who_may_past_the_top():
    assert route_case([("max", ""), ("victor", "diana")], 3, admins=["admin", "a2"]) == [
        "admin",
        "a2",
    ]
    assert route_case([("admin", ""), ("a2", "")], 3, ladder=[], admins=["admin", "a2"]) == []


def test_route_level_never_gives_a_level_to_the_requester():
    # An admin's own request: the group minus the requester.
    assert route_case([], 1, ladder=[], admins=["admin", "a2"], requester="admin") == ["a2"]
    assert route_case([], 1, ladder=[], admins=["admin"], requester="admin") == []


def test_route_level_without_a_route_keeps_only_allowed_preferred_people():
    m = machine(route=Route(ladder=[], admins=[]))
    m.route = None
    assert rules.route_level(m, level(1, ["emma", "max"])) == ["max"]
    assert rules.route_level(m, level(1, ["emma"])) == []


CHAINS = {
    "max": ["diana", "victor"],
    "maria": ["diana", "victor"],
    "diana": ["victor"],
    "victor": [],
}


@pytest.mark.parametrize(
    ("approvers", "barred", "admins", "expected"),
    [
        (["max"], set(), ["admin"], ["diana"]),
        (["max"], {"diana"}, ["admin"], ["victor"]),
        (["max", "maria"], set(), ["admin"], ["diana"]),  # one target for the group
        (["max", "diana"], set(), ["admin"], ["diana", "victor"]),
        (["victor"], set(), ["admin", "admin2"], ["admin", "admin2"]),
        (["victor"], {"admin"}, ["admin", "admin2"], ["admin2"]),
        (["max"], {"diana", "victor", "admin"}, ["admin"], []),
        (["unknown"], set(), ["admin"], ["admin"]),
    ],
)
def test_escalation_targets(approvers, barred, admins, expected):
    assert rules.escalation_targets(approvers, CHAINS, admins, barred) == expected


@pytest.mark.parametrize(
    ("leaver", "chain", "admins", "barred", "expected"),
    [
        ("max", ["diana", "victor"], ["admin"], set(), ["diana"]),
        ("max", ["diana", "victor"], ["admin"], {"diana"}, ["victor"]),
        ("max", [], ["admin", "admin2"], set(), ["admin", "admin2"]),
        ("admin", [], ["admin", "admin2"], set(), ["admin2"]),  # an admin who left
        ("max", ["max", "diana"], ["admin"], set(), ["diana"]),  # never the leaver
        ("max", ["diana"], ["admin"], {"diana", "admin"}, []),
    ],
)
def test_replacement(leaver, chain, admins, barred, expected):
    assert rules.replacement(leaver, chain, admins, barred) == expected


# ------------------------------------------------------- per-line decisions
def with_lines(m: rules.Machine, *rejected: int, count: int = 4) -> rules.Machine:
    """emma's trip as four lines (taxi, hotel, train, dinner); `rejected` rejected by max."""
    m.state.lines = [LineState(n, 1000 * n, "EUR", 1000 * n, "travel") for n in range(1, count + 1)]
    for line in m.state.lines:
        if line.n in rejected:
            line.status, line.rejected_level, line.rejected_by = "rejected", 1, "max"
            line.reason = "private"
    return m


def lines_decision(who, *rejections, action=Action.APPROVE, comment=""):
    d = decision(who, action, comment)
    d.rejected_lines = [LineRejection(n, reason) for n, reason in rejections]
    return d


LINE_DECISIONS = [
    (
        "approve rejecting one line",
        with_lines(machine()),
        lines_decision("max", (4, "private")),
        None,
        None,
    ),
    (
        "approve rejecting every line (the report is rejected)",
        with_lines(machine()),
        lines_decision("max", *[(n, "no") for n in range(1, 5)]),
        None,
        None,
    ),
    (
        "no such line",
        with_lines(machine()),
        lines_decision("max", (5, "no")),
        Refusal.LINE_UNKNOWN,
        {"line": 5},
    ),
    (
        "line 0",
        with_lines(machine()),
        lines_decision("max", (0, "no")),
        Refusal.LINE_UNKNOWN,
        {"line": 0},
    ),
    (
        "a line rejected at an earlier level",
        with_lines(machine(current=2), 4),
        lines_decision("diana", (4, "again")),
        Refusal.LINE_ALREADY_REJECTED,
        {"line": 4, "level": 1, "by": "max"},
    ),
    (
        "the same line twice",
        with_lines(machine()),
        lines_decision("max", (2, "a"), (2, "b")),
        Refusal.LINE_TWICE,
        {"line": 2},
    ),
    (
        "no reason",
        with_lines(machine()),
        lines_decision("max", (3, "")),
        Refusal.LINE_REASON_REQUIRED,
        {"line": 3},
    ),
    (
        "only spaces",
        with_lines(machine()),
        lines_decision("max", (1, "ok"), (3, "  \n ")),
        Refusal.LINE_REASON_REQUIRED,
        {"line": 3},
    ),
    (
        "a reason too long",
        with_lines(machine()),
        lines_decision("max", (3, "x" * (rules.MAX_LINE_REASON + 1))),
        Refusal.LINE_REASON_TOO_LONG,
        {"line": 3, "max": rules.MAX_LINE_REASON},
    ),
    (
        "lines on a reject",
        with_lines(machine()),
        lines_decision("max", (3, "x"), action=Action.REJECT, comment="no"),
        Refusal.LINES_ONLY_WHEN_APPROVING,
        {},
    ),
    (
        "lines on request changes",
        with_lines(machine()),
        lines_decision("max", (3, "x"), action=Action.REQUEST_CHANGES, comment="fix"),
        Refusal.LINES_ONLY_WHEN_APPROVING,
        {},
    ),
    # Every earlier rule comes first: lines never open a door the rules closed.
    (
        "requester rejecting lines",
        with_lines(machine()),
        lines_decision("emma", (1, "x")),
        Refusal.OWN_REQUEST,
        {},
    ),
    (
        "stranger rejecting lines",
        with_lines(machine()),
        lines_decision("finn", (1, "x")),
        Refusal.NOT_APPROVER,
        {},
    ),
    (
        "approver of level 1 again at level 2",
        with_lines(machine(current=2)),
        lines_decision("max", (1, "x")),
        Refusal.LEVEL_MOVED_ON,
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "m", "d", "code", "params"), LINE_DECISIONS, ids=[row[0] for row in LINE_DECISIONS]
)
def test_line_refusals(case, m, d, code, params):
    expect(rules.decision_refusal(m, d), code, params)


def test_line_rejections_are_not_looked_at_on_the_1_0_branch():
    """lines=False is the replay of a decision recorded without the patch: as 1.0."""
    m = with_lines(machine())
    assert rules.decision_refusal(m, lines_decision("max", (9, "")), lines=False) is None


def test_a_signal_never_rejects_lines():
    m = with_lines(machine())
    d = lines_decision("max", (1, "no"))
    expect(rules.signal_refusal(m, d, lines=True), Refusal.LINES_NOT_BY_SIGNAL, {})
    assert rules.signal_refusal(m, d, lines=False) is None  # 1.0: the lines were ignored


def test_payout_is_the_open_lines_once_a_line_is_rejected():
    m = with_lines(machine())
    m.state.base_amount_cents = 10_000
    assert rules.payout_cents(m) == 10_000  # nothing rejected: the report's own amount
    assert rules.payout_cents(with_lines(machine(), 4)) == 1000 + 2000 + 3000
    assert rules.payout_cents(with_lines(machine(), 1, 2, 3, 4)) == 0


# ----------------------------------------------------------------- labels
REFUSAL_CODES = sorted(Refusal)
SERVICE_CODES = sorted(v for k, v in vars(labels.ServiceCode).items() if k.isupper())
# The parameters each coded refusal is raised with (rules.py, workflow.py, services).
PARAMS = {
    Refusal.ROUND_OVER: {"round": 1},
    Refusal.UNKNOWN_ACTION: {"action": "delete"},
    Refusal.NOT_AWAITING: {"status": Status.APPROVED},
    Refusal.LEVEL_MOVED_ON: {"level": 1, "by": "maria", "on_behalf_of": "max"},
    Refusal.COMMENT_TOO_LONG: {"max": rules.MAX_COMMENT},
    Refusal.PRINCIPAL_ALREADY_APPROVED: {"principal": "max"},
    Refusal.DELEGATE_HOLDS_OTHER_LEVEL: {"principal": "diana"},
    Refusal.CANNOT_WITHDRAW: {"status": Status.CHANGES_REQUESTED},
    Refusal.TITLE_TOO_LONG: {"max": rules.MAX_TITLE},
    Refusal.EXTENSION_OUT_OF_RANGE: {"max_days": 30},
    Refusal.EXTENSIONS_EXHAUSTED: {"max": 5},
    Refusal.EXTENSION_TOTAL_EXCEEDED: {"max_days": 31, "left_days": 1},
    Refusal.DECISION_ID_TAKEN: {},
    Refusal.NOT_PENDING: {"status": Status.WITHDRAWN},
    Refusal.LINE_UNKNOWN: {"line": 5},
    Refusal.LINE_ALREADY_REJECTED: {"line": 4, "level": 1, "by": "max"},
    Refusal.LINE_TWICE: {"line": 2},
    Refusal.LINE_REASON_REQUIRED: {"line": 3},
    Refusal.LINE_REASON_TOO_LONG: {"line": 3, "max": 1000},
    labels.ServiceCode.UNKNOWN: {"detail": "boom"},
}


def test_every_refusal_code_of_the_rules_is_produced_by_a_table_above():
    """Every table and case above, run here again (so this holds wherever the module's
    tests run, one process or several): together they produce every refusal code
    (Unauthenticated is workflow.py's)."""
    tables = 0
    for name, fn in list(globals().items()):
        if (
            not name.startswith("test_")
            or name == "test_every_refusal_code_of_the_rules_is_produced_by_a_table_above"
        ):
            continue
        if not inspect.signature(fn).parameters:  # a test of its own (signals, ids)
            fn()
            continue
        for mark in getattr(fn, "pytestmark", []):
            names = mark.args[0] if mark.name == "parametrize" else ()
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else names
            if "code" not in names:
                continue
            tables += 1
            for values in mark.args[1]:
                values = values.values if hasattr(values, "values") else values
                fn(**dict(zip(names, values if len(names) > 1 else [values], strict=True)))
    assert tables >= 8
    assert set(REFUSAL_CODES) - PRODUCED - {Refusal.UNAUTHENTICATED} == set()


@pytest.mark.parametrize("code", REFUSAL_CODES + SERVICE_CODES)
def test_every_code_has_words_that_take_its_parameters(code):
    assert code in labels.WORDS
    params = PARAMS.get(code, {})
    assert str(labels.WORDS[code]) % params  # a missing parameter raises KeyError
    with translation.override("en"):
        text = labels.refusal_text(code, params)
    assert text and "%(" not in text


def test_refusal_text_in_english():
    with translation.override("en"):
        assert labels.refusal_text(Refusal.LEVEL_MOVED_ON, PARAMS[Refusal.LEVEL_MOVED_ON]) == (
            "Level 1 was already decided by maria for max; the request has moved on."
        )
        assert labels.refusal_text(Refusal.LEVEL_MOVED_ON, {"level": 2, "by": "max"}) == (
            "Level 2 was already decided by max; the request has moved on."
        )
        assert labels.refusal_text(Refusal.NOT_AWAITING, {"status": "changes_requested"}) == (
            "This request is no longer awaiting a decision (it is changes requested)."
        )
        assert labels.refusal_text("NoSuchCode") == ("The request could not be changed: NoSuchCode")
        # Words missing a parameter never raise: the sentence up to the placeholder.
        assert labels.refusal_text(Refusal.COMMENT_TOO_LONG) == ("The comment is too long (at most")


@pytest.mark.parametrize("code", REFUSAL_CODES + SERVICE_CODES)
def test_every_code_has_german_words(code):
    """labels.WORDS in German (locale/de), with the parameters the rules send."""
    params = PARAMS.get(code, {})
    with translation.override("en"):
        english = labels.refusal_text(code, params)
    with translation.override("de"):
        german = labels.refusal_text(code, params)
    assert german and "%(" not in german
    assert german != english, "no German entry in the compiled catalog"
