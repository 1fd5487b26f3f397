"""Issue 25: a decision id is the key of one person's decision, not a way in.

On the real dev server and worker, through the API: an id already used by someone else
(read out of a mail, a log or a shared screen) answers the caller nothing — a 404 like a
missing request to whoever may not see the request, the refusal `DecisionIdTaken` to an
approver who may — and applies nothing; the person who used it still gets their own
answer again. Deadline extensions are capped per level by the workflow's validator.
"""

from __future__ import annotations

import pytest

from approvals import services
from approvals.workflow.contract import Refusal
from tests.support.api import api_for
from tests.support.requests import new_id, submit, wait_pending_level, wait_state

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_id_from_someone_elses_signal_shows_nothing_and_applies_nothing(demo_org, worker):
    """maria decides finn's report from her mail (a Signal with the link's id); emma, who
    may not see the report, sends that id through the API: the same 404 as a request that
    does not exist. diana, the next approver, sends it too: refused, nothing applied."""
    finn, maria = demo_org["finn"], demo_org["maria"]
    request = submit(finn, "1500.00")
    wait_pending_level(request, 1)
    link_id = new_id()
    services.decision_signal(
        request=request, actor=maria, action="approve", comment="", decision_id=link_id,
        level=1, round=1,
    )  # fmt: skip
    wait_pending_level(request, 2)

    emma = api_for(demo_org["emma"])
    stolen = emma.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": link_id}
    )
    missing = emma.post(
        f"/requests/{request.pk + 10_000}/decision", {"action": "approve", "decision_id": link_id}
    )
    assert stolen.status_code == missing.status_code == 404
    assert stolen.json() == missing.json()
    for secret in ("finn", "maria", "1500", "pending_approvers"):
        assert secret not in stolen.content.decode()

    diana = api_for(demo_org["diana"])
    taken = diana.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": link_id}
    )
    assert taken.status_code == 409, taken.content
    assert taken.json()["code"] == Refusal.DECISION_ID_TAKEN
    assert "pending_approvers" not in taken.json()
    state = wait_state(request, lambda s: s.status == "pending")
    assert [d.actor for d in state.decisions] == ["maria"]
    assert state.pending_approvers == ["diana"]

    mine = diana.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": new_id()}
    )
    assert mine.status_code == 200 and mine.json()["status"] == "approved"


def test_an_update_id_is_bound_to_its_actor(demo_org, worker):
    """max approves level 1 by API with his own id; finn and diana replaying that id get
    no answer from Temporal's update dedupe or the workflow; max's repeat is answered
    once, as the first time."""
    request = submit(demo_org["emma"], "1500.00")
    wait_pending_level(request, 1)
    max_ = api_for(demo_org["max"])
    decision_id = new_id()
    first = max_.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": decision_id}
    )
    assert first.status_code == 200 and first.json()["pending_approvers"] == ["diana"]

    finn = api_for(demo_org["finn"])
    replay = finn.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": decision_id}
    )
    assert replay.status_code == 404 and "diana" not in replay.content.decode()
    diana = api_for(demo_org["diana"])
    taken = diana.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": decision_id}
    )
    assert taken.status_code == 409 and taken.json()["code"] == Refusal.DECISION_ID_TAKEN

    again = max_.post(
        f"/requests/{request.pk}/decision", {"action": "approve", "decision_id": decision_id}
    )
    assert again.status_code == 200 and again.json()["pending_approvers"] == ["diana"]
    state = wait_state(request, lambda s: s.status == "pending")
    assert [d.actor for d in state.decisions] == ["max"]


def test_extensions_are_capped_per_level_with_words(demo_org, worker):
    """Five extensions of one level at most (and 31 days in all): the sixth is refused
    with its code and words, the deadline does not move, the history stops growing."""
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    max_ = api_for(demo_org["max"])
    max_.headers["Accept-Language"] = "de"
    dues = []
    for _ in range(5):
        done = max_.post(f"/requests/{request.pk}/extend", {"seconds": 86400, "reason": "away"})
        assert done.status_code == 200, done.content
        dues.append(done.json()["due_at"])
    assert dues == sorted(set(dues))
    sixth = max_.post(f"/requests/{request.pk}/extend", {"seconds": 60, "reason": "again"})
    assert sixth.status_code == 409
    assert sixth.json()["code"] == Refusal.EXTENSIONS_EXHAUSTED
    assert "bereits 5-mal verlängert" in sixth.json()["message"], sixth.json()
    state = wait_state(request, lambda s: s.status == "pending")
    assert state.due_at == dues[-1]
    assert state.levels[0].extensions == 5 and state.levels[0].extended_seconds == 5 * 86400

    other = submit(demo_org["emma"], "310.00")
    wait_pending_level(other, 1)
    month = max_.post(f"/requests/{other.pk}/extend", {"seconds": 30 * 86400})
    assert month.status_code == 200
    over = max_.post(f"/requests/{other.pk}/extend", {"seconds": 2 * 86400})
    assert over.status_code == 409 and over.json()["code"] == Refusal.EXTENSION_TOTAL_EXCEEDED
    assert max_.post(f"/requests/{other.pk}/extend", {"seconds": 86400}).status_code == 200
