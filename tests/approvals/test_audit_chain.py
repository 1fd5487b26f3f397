"""The hash-chained audit log: every writer chains, and `audit_verify` and /ops/ catch an
edited row, a deleted middle row and deleted newest rows (changed with raw SQL, past the
model's append-only guard, as someone with database access would).

The rows are written by the real writers (`projection.record`, the payout saga's
`audit`); the end-to-end test lets the real workflow write them on the dev server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from approvals import audit_chain
from approvals.audit_chain import GENESIS, audit_head, verify
from approvals.effects import projection
from approvals.models import AuditEntry, ExpenseRequest
from approvals.workflow.contract import StepEvent
from payouts.steps import audit as payout_audit
from tests.support.requests import decide, submit, wait_audit, wait_pending_level, wait_status
from tests.support.web import client_for

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
TABLE = AuditEntry._meta.db_table


def expense(user) -> ExpenseRequest:
    return ExpenseRequest.objects.create(
        requester=user, title="Hotel", amount=Decimal("120.00"), category="travel"
    )


def step(seq: int, kind: str, **extra) -> StepEvent:
    at = (T0 + timedelta(minutes=seq)).isoformat()
    return StepEvent(kind=kind, level=1, actor="max", detail={"seq": seq, "at": at, **extra})


def chained(user, n: int = 5) -> ExpenseRequest:
    request = expense(user)
    projection.append_audit(
        request.pk, [step(i, "submitted" if i == 1 else "note") for i in range(1, n + 1)]
    )
    return request


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def rows(request) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(request=request).order_by("pk"))


def run_verify(*args) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue() + err.getvalue()


def test_rows_are_chained_and_the_request_keeps_the_newest_hash(demo_org):
    request = chained(demo_org["emma"])
    written = rows(request)
    assert written[0].prev_hash == GENESIS
    for before, after in zip(written, written[1:], strict=False):
        assert after.prev_hash == before.entry_hash and len(after.entry_hash) == 64
    request.refresh_from_db()
    assert request.audit_head == written[-1].entry_hash == audit_head(request.pk)
    assert verify(request.pk, request.audit_head) is None
    assert run_verify("--request", str(request.pk))[0] == 0


def test_a_retry_adds_no_row_and_keeps_the_chain(demo_org):
    request = chained(demo_org["emma"], 3)
    head = audit_head(request.pk)
    projection.append_audit(request.pk, [step(2, "note"), step(3, "note")])
    assert len(rows(request)) == 3 and audit_head(request.pk) == head


def test_a_retried_start_rewrites_its_rows_and_rehashes_the_chain(demo_org):
    request = expense(demo_org["emma"])
    projection.append_audit(request.pk, [step(1, "submitted"), step(2, "assigned")])
    projection.append_audit(request.pk, [step(3, "note")])
    again = step(1, "submitted")
    again.comment = "what the retried task recorded"
    projection.append_audit(request.pk, [again, step(2, "assigned")], replace=True)
    assert rows(request)[0].comment == "what the retried task recorded"
    request.refresh_from_db()
    assert verify(request.pk, request.audit_head) is None


def test_every_writer_chains_the_payout_saga_and_a_plain_save_too(demo_org):
    request = chained(demo_org["emma"], 2)
    payout_audit(request.pk, "payout:1:reserve", "payout_step", {"step": "reserve"})
    payout_audit(request.pk, "payout:1:reserve", "payout_step", {"step": "reserve"})  # retry
    AuditEntry.objects.create(request=request, key="manual", at=T0, kind="note")
    written = rows(request)
    assert [r.key for r in written][-2:] == ["payout:1:reserve", "manual"]
    request.refresh_from_db()
    assert verify(request.pk, request.audit_head) is None


def test_an_edited_row_is_caught_and_named(demo_org):
    request = chained(demo_org["emma"])
    third = rows(request)[2]
    sql(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", "approved, honest", third.pk)
    found = verify(request.pk)
    assert (found.entry_id, found.reason) == (third.pk, "edited")
    code, output = run_verify("--request", str(request.pk))
    assert code == 1 and f"row {third.pk} ({third.key})" in output and "edited" in output


def test_an_edited_time_is_caught_too(demo_org):
    request = chained(demo_org["emma"])
    first = rows(request)[0]
    sql(f"UPDATE {TABLE} SET at = at - interval '1 day' WHERE id = %s", first.pk)
    assert verify(request.pk).entry_id == first.pk


def test_a_deleted_middle_row_is_caught_at_the_row_after_it(demo_org):
    request = chained(demo_org["emma"])
    written = rows(request)
    sql(f"DELETE FROM {TABLE} WHERE id = %s", written[2].pk)
    found = verify(request.pk)
    assert (found.entry_id, found.reason) == (written[3].pk, "missing_before")
    code, output = run_verify()
    assert code == 1 and f"row {written[3].pk}" in output


def test_deleted_newest_rows_are_caught_against_the_head(demo_org):
    request = chained(demo_org["emma"])
    written = rows(request)
    sql(f"DELETE FROM {TABLE} WHERE id IN (%s, %s)", written[3].pk, written[4].pk)
    assert verify(request.pk) is None  # the rows left agree with each other...
    request.refresh_from_db()
    found = verify(request.pk, request.audit_head)  # ...but not with the head held elsewhere
    assert found.reason == "head_mismatch" and found.key == written[2].key
    code, output = run_verify("--request", str(request.pk))
    assert code == 1 and "deleted at the end" in output
    # The head as the workflow holds it, given by hand: the same verdict.
    code, _output = run_verify("--request", str(request.pk), "--head", written[4].entry_hash)
    assert code == 1


def test_a_rechained_forgery_is_caught_by_the_head_held_elsewhere(demo_org):
    # Someone rewrites a row AND re-hashes the chain and the projection's head: only the
    # workflow's copy of the head (given as --head) still tells.
    request = chained(demo_org["emma"], 3)
    true_head = audit_head(request.pk)
    audit_chain.rewrite(request.pk, {rows(request)[1].key: {"comment": "forged"}})
    assert run_verify("--request", str(request.pk))[0] == 0
    assert run_verify("--request", str(request.pk), "--head", true_head)[0] == 1


def test_ops_shows_each_kind_of_broken_chain(demo_org):
    edited, middle, newest, whole = (chained(demo_org["emma"]) for _ in range(4))
    sql(f"UPDATE {TABLE} SET comment = 'x' WHERE id = %s", rows(edited)[1].pk)
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows(middle)[1].pk)
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows(newest)[-1].pk)
    admin = client_for(demo_org["admin"])
    page = admin.get("/ops/").content.decode()
    section = page[page.index('data-testid="ops-broken-chains"') :]
    for request, reason in (
        (edited, "edited"),
        (middle, "missing_before"),
        (newest, "head_mismatch"),
    ):
        assert f'data-request-id="{request.pk}" data-reason="{reason}"' in section
    assert f'data-request-id="{whole.pk}"' not in section
    german = admin.get("/ops/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Audit-Ketten, die gebrochen sind" in german
    assert "wurde nach dem Schreiben geändert" in german


def test_a_clean_database_verifies(demo_org):
    chained(demo_org["emma"])
    code, output = run_verify()
    assert code == 0 and "none broken" in output


@pytest.mark.django_db(transaction=True)
def test_the_workflows_own_rows_verify_and_an_edit_is_caught(demo_org, worker):
    request = submit(demo_org["emma"], "120.00")
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "approve", comment="ok")
    wait_status(request, "approved")
    wait_audit(request, "completed")
    request.refresh_from_db()
    assert verify(request.pk, request.audit_head) is None
    assert run_verify("--request", str(request.pk))[0] == 0
    decided = AuditEntry.objects.get(request=request, kind="decided")
    sql(f"UPDATE {TABLE} SET actor_username = 'diana' WHERE id = %s", decided.pk)
    code, output = run_verify("--request", str(request.pk))
    assert code == 1 and f"row {decided.pk}" in output


@pytest.mark.django_db(transaction=True)
def test_verify_all_on_its_own_snapshot_outside_any_transaction(demo_org):
    # As `manage.py audit_verify` runs in production: its own REPEATABLE READ transaction.
    whole, cut = chained(demo_org["emma"]), chained(demo_org["emma"])
    assert run_verify()[0] == 0
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows(cut)[-1].pk)
    assert [b.request_id for b in audit_chain.verify_all()] == [cut.pk]
    code, output = run_verify()
    assert code == 1 and f"request {cut.pk}:" in output and f"request {whole.pk}:" not in output


def test_rows_appended_after_a_cut_still_show_the_gap(demo_org):
    request = chained(demo_org["emma"])
    cut = rows(request)[-1]
    sql(f"DELETE FROM {TABLE} WHERE id = %s", cut.pk)
    projection.append_audit(request.pk, [step(9, "note")])  # the workflow goes on
    found = verify(request.pk)
    assert found.reason == "missing_before" and found.key == "wf:9:note"
    assert rows(request)[-1].prev_hash == cut.entry_hash  # it names the missing row


@pytest.mark.django_db(transaction=True)
def test_the_head_the_workflow_holds_catches_a_cut_the_database_covered_up(demo_org, worker):
    """Someone deletes the newest rows AND sets the request's head to what is left: the
    chain and the projection agree, but the workflow still holds the true newest hash."""
    from tests.support.requests import state_of
    from tests.support.waiting import wait_for

    request = submit(demo_org["emma"], "120.00")
    wait_pending_level(request, 1)

    def held():
        request.refresh_from_db()
        head = state_of(request).audit_head
        return head if head and head == request.audit_head else None

    true_head = wait_for(held, 30, message="the workflow never held the newest hash")
    assert run_verify("--request", str(request.pk), "--workflow")[0] == 0
    written = rows(request)
    assert written[-1].entry_hash == true_head
    sql(f"DELETE FROM {TABLE} WHERE id = %s", written[-1].pk)
    ExpenseRequest.objects.filter(pk=request.pk).update(audit_head=written[-2].entry_hash)
    assert run_verify("--request", str(request.pk))[0] == 0  # the database agrees with itself
    code, output = run_verify("--request", str(request.pk), "--workflow")
    assert code == 1 and "the workflow holds is not in the chain" in output
    # A request without a workflow: a clear error, not a traceback.
    lone = chained(demo_org["emma"], 2)
    with pytest.raises(Exception, match="did not answer"):
        call_command("audit_verify", "--request", str(lone.pk), "--workflow")
