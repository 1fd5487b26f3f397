"""The workflow's activities are idempotent: Temporal may run any of them again."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from temporalio.testing import ActivityEnvironment

from approvals import links
from approvals.models import ApprovalStep, AuditEntry, ExpenseRequest, Notification
from approvals.worker.activities import (
    record_first_steps,
    record_transition,
    send_notifications,
)
from approvals.workflow.contract import (
    ApprovalState,
    LevelState,
    StepEvent,
    Transition,
)

pytestmark = pytest.mark.django_db(transaction=True)

AT = datetime(2030, 1, 7, 9, 0, tzinfo=UTC).isoformat()


def transition(request: ExpenseRequest, seq: int, events: list[StepEvent], **state) -> Transition:
    fields = {
        "request_id": request.pk,
        "requester": "emma",
        "requester_display": "Emma Engel",
        "title": request.title,
        "amount_cents": request.amount_cents,
        "currency": "EUR",
        "submitted_at": AT,
        "status": "pending",
        "current_level": 1,
        "levels": [LevelState(level=1, approvers=["max"], original_approvers=["max"])],
        "pending_approvers": ["max"],
        "due_at": AT,
        "seq": seq,
    }
    fields.update(state)
    for i, event in enumerate(events):
        event.detail = {**event.detail, "seq": seq - len(events) + i + 1, "at": AT}
    return Transition(state=ApprovalState(**fields), events=events)


@pytest.fixture
def expense(demo_org):
    return ExpenseRequest.objects.create(
        requester=demo_org["emma"],
        title="Train",
        amount=Decimal("500.00"),
        category="travel",
        status="queued",
    )


def test_recording_a_transition_twice_adds_no_duplicate_audit_rows(expense):
    t = transition(
        expense,
        2,
        [
            StepEvent(kind="submitted", actor="emma", actor_role="requester"),
            StepEvent(kind="assigned", level=1, recipients=["max"], channel="timer"),
        ],
    )
    env = ActivityEnvironment()
    env.run(record_transition, t)
    env.run(record_transition, t)  # a retry after a lost acknowledgement
    rows = list(AuditEntry.objects.filter(request=expense).values_list("key", "kind"))
    assert rows == [("wf:1:submitted", "submitted"), ("wf:2:assigned", "assigned")]
    assert ApprovalStep.objects.filter(request=expense).count() == 1
    expense.refresh_from_db()
    assert (expense.status, expense.state_seq, expense.pending_approvers) == ("pending", 2, ["max"])
    # The audit keeps the name as text, looked up from the org chart.
    assert AuditEntry.objects.get(request=expense, kind="submitted").actor_name == "Emma Engel"


def test_a_retried_start_task_records_its_first_steps_again_and_that_wins(expense):
    """local-first-steps: the start's task ran its local record, then the worker died
    before the task completed; the retried task (later clock, a route changed meanwhile)
    records the same seq again. The projection and the audit rows take what the retried
    task did (what the workflow kept), with one row per step and the steps returned."""

    def first_steps(approver: str, at: str) -> Transition:
        t = transition(
            expense,
            2,
            [
                StepEvent(kind="submitted", actor="emma", actor_role="requester"),
                StepEvent(kind="assigned", level=1, recipients=[approver], channel="timer"),
            ],
            levels=[LevelState(level=1, approvers=[approver], original_approvers=[approver])],
            pending_approvers=[approver],
            due_at=at,
        )
        t.local = True
        return t

    env = ActivityEnvironment()
    lost = first_steps("max", AT)
    later = datetime(2030, 1, 7, 9, 0, 12, tzinfo=UTC).isoformat()
    kept = first_steps("diana", later)
    assert [e.kind for e in env.run(record_first_steps, lost)] == ["submitted", "assigned"]
    env.run(record_first_steps, kept)
    expense.refresh_from_db()
    assert (expense.state_seq, expense.pending_approvers) == (2, ["diana"])
    assert expense.due_at.isoformat() == later
    assert ApprovalStep.objects.get(request=expense, level=1).approvers == ["diana"]
    rows = AuditEntry.objects.filter(request=expense).order_by("key")
    assert [(r.key, r.detail["recipients"]) for r in rows] == [
        ("wf:1:submitted", []),
        ("wf:2:assigned", ["diana"]),
    ]
    # A regular record of an equal seq (a retried activity) still changes nothing.
    lost.local = False
    env.run(record_transition, lost)
    expense.refresh_from_db()
    assert expense.pending_approvers == ["diana"]


def test_an_older_transition_never_overwrites_a_newer_projection(expense):
    env = ActivityEnvironment()
    newer = transition(
        expense,
        4,
        [StepEvent(kind="decided", level=1, actor="max", detail={"action": "approve"})],
        status="approved",
        pending_approvers=[],
        due_at="",
    )
    older = transition(expense, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    env.run(record_transition, newer)
    env.run(record_transition, older)  # delivered late
    expense.refresh_from_db()
    assert (expense.status, expense.state_seq, expense.pending_approvers) == ("approved", 4, [])
    # Its audit row still lands: the log is append-only, the projection is newest-wins.
    assert set(AuditEntry.objects.filter(request=expense).values_list("kind", flat=True)) == {
        "decided",
        "assigned",
    }


def test_sending_notifications_twice_mails_each_recipient_once(expense, mailoutbox):
    t = transition(expense, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    env = ActivityEnvironment()
    env.run(send_notifications, t)
    env.run(send_notifications, t)
    assert [m.to for m in mailoutbox] == [["max@example.com"]]
    assert Notification.objects.filter(request=expense, recipient="max").count() == 1
    assert "awaits your decision" in mailoutbox[0].subject


def test_mails_that_ask_to_decide_carry_links_for_their_approvers_only(expense, mailoutbox):
    """A reminder to max and an escalation to diana (which also tells emma): the approvers'
    mails carry approve and reject links for themselves, the requester's carries none."""
    t = transition(
        expense,
        3,
        [
            StepEvent(kind="reminder", level=1, recipients=["max"]),
            StepEvent(kind="escalated", level=1, recipients=["diana"]),
            StepEvent(kind="rerouted", level=1, recipients=["diana"]),
        ],
        round=2,
    )
    ActivityEnvironment().run(send_notifications, t)
    by_person = {m.to[0]: m for m in mailoutbox}
    assert set(by_person) == {"max@example.com", "diana@example.com", "emma@example.com"}
    assert "/links/" not in by_person["emma@example.com"].body
    for who in ("max", "diana"):
        body = by_person[f"{who}@example.com"].body
        tokens = re.findall(r"^(?:Approve|Reject) level 1: \S+/links/([^/\s]+)/$", body, re.M)
        claims = [links.read_token(token)[0] for token in tokens]
        assert [(c.username, c.request_id, c.level, c.round, c.action) for c in claims] == [
            (who, expense.pk, 1, 2, "approve"),
            (who, expense.pk, 1, 2, "reject"),
        ]
        html = by_person[f"{who}@example.com"].alternatives[0][0]
        assert all(f"/links/{token}/" in html for token in tokens)


# ------------------------------------------------- fast transitions: record + push
def _listen(groups: list[str]):
    """A channel on the configured layer, added to `groups`; returns receive(timeout)."""
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)

    async def receive(timeout: float):
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return None

    return lambda timeout=5.0: async_to_sync(receive)(timeout)


def test_a_publishing_record_pushes_the_committed_state_to_the_people_concerned(
    expense, demo_org, redis_layer
):
    receive_max = _listen([f"user.{demo_org['max'].pk}"])
    receive_emma = _listen([f"user.{demo_org['emma'].pk}"])
    t = transition(expense, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    t.publish = True
    ActivityEnvironment().run(record_transition, t)
    for receive in (receive_max, receive_emma):
        message = receive()
        assert message is not None, "no live push after the record"
        assert (message["type"], message["request_id"], message["seq"]) == (
            "request.changed",
            expense.pk,
            2,
        )
        assert message["pending"] == ["max"] and message["kinds"] == ["assigned"]
    # Pushed after the commit: the projection already holds what the message says.
    expense.refresh_from_db()
    assert (expense.state_seq, expense.pending_approvers) == (2, ["max"])


def test_a_record_without_publish_pushes_nothing(expense, demo_org, redis_layer):
    receive = _listen([f"user.{demo_org['max'].pk}"])
    t = transition(expense, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    ActivityEnvironment().run(record_transition, t)
    assert receive(timeout=1.0) is None


def test_a_failed_push_never_fails_the_record(expense, settings, caplog):
    # A real layer that cannot connect (nothing listens on port 1).
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    t = transition(expense, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    t.publish = True
    ActivityEnvironment().run(record_transition, t)  # no exception
    assert f"live push of #{expense.pk} failed" in caplog.text
    expense.refresh_from_db()
    assert (expense.status, expense.state_seq) == ("pending", 2)
    assert AuditEntry.objects.filter(request=expense, kind="assigned").count() == 1
