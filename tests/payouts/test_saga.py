"""The Payout saga end to end: real Temporal dev server, worker, activities and PostgreSQL.

Failures are injected through real data (a closed cost centre, an exhausted
budget, a closed ledger account, a missing or invalid IBAN); each test checks
exactly the compensations of the steps that ran (audit rows and the rows the
steps wrote), and that nothing is lost or doubled.
"""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import User
from approvals.models import AuditEntry
from payouts.models import Batch, CostCentre, LedgerAccount
from tests.support.payouts import approved, balance, counts, payout_result, run_payout, wait_payment

pytestmark = pytest.mark.django_db(transaction=True)


def saga_audit(request) -> list[tuple[str, str]]:
    rows = AuditEntry.objects.filter(request_id=request.pk, source="payout").order_by("at", "pk")
    return [(row.kind, row.detail.get("step", row.detail.get("reason", ""))) for row in rows]


def test_approved_request_is_scheduled_then_paid_by_the_run(demo_org, worker):
    request = approved(demo_org, "500.00")
    payment = wait_payment(request, "scheduled")
    assert payment.amount_cents == 50000 and payment.batch.status == "open"
    assert counts(request) == {
        "reservations": 1,
        "held": 1,
        "posted": 2,
        "reversed": 0,
        "payments": 1,
    }
    result = run_payout()
    assert result.paid == [request.pk] and result.failed == []
    wait_payment(request, "paid")
    assert payout_result(request).status.name == "COMPLETED"
    batch = Batch.objects.get(pk=result.batch_id)
    assert batch.status == "closed" and "<NbOfTxs>1</NbOfTxs>" in batch.sepa_xml
    assert saga_audit(request) == [
        ("payout_step", "budget"),
        ("payout_step", "ledger"),
        ("payout_step", "batch"),
        ("payout_paid", ""),
    ]
    assert balance(request) == 0


def test_closed_cost_centre_fails_at_the_budget_with_nothing_to_undo(demo_org, worker):
    CostCentre.objects.filter(code="CC-ENG").update(closed=True)
    request = approved(demo_org, "500.00")
    payment = wait_payment(request, "failed")
    assert payment.reason == "cost_centre_closed"
    assert payout_result(request).status.name == "FAILED"
    assert counts(request) == {
        "reservations": 0,
        "held": 0,
        "posted": 0,
        "reversed": 0,
        "payments": 1,
    }
    assert saga_audit(request) == [("payout_failed", "cost_centre_closed")]
    told = {m.to[0] for m in mail.outbox if "payout" in m.subject.lower()}
    assert told == {"emma@example.com", "admin@example.com"}


def test_exceeded_budget_fails_at_the_budget_and_keeps_the_other_holds(demo_org, worker):
    first = approved(demo_org, "900.00", title="First")
    wait_payment(first, "scheduled")
    CostCentre.objects.filter(code="CC-ENG").update(budget_cents=100000)  # 1,000 EUR a year
    second = approved(demo_org, "200.00", title="Second")
    assert wait_payment(second, "failed").reason == "budget_exceeded"
    assert counts(second)["reservations"] == 0
    assert saga_audit(second) == [("payout_failed", "budget_exceeded")]
    assert counts(first) == {
        "reservations": 1,
        "held": 1,
        "posted": 2,
        "reversed": 0,
        "payments": 1,
    }


def test_closed_ledger_account_fails_at_the_ledger_and_releases_the_budget(demo_org, worker):
    LedgerAccount.objects.create(code="6000", name="Travel and expenses", closed=True)
    request = approved(demo_org, "500.00")
    assert wait_payment(request, "failed").reason == "ledger_account_closed"
    payout_result(request)
    assert counts(request) == {
        "reservations": 1,
        "held": 0,
        "posted": 0,
        "reversed": 0,
        "payments": 1,
    }
    assert saga_audit(request) == [
        ("payout_step", "budget"),
        ("payout_compensated", "budget"),
        ("payout_failed", "ledger_account_closed"),
    ]


def test_missing_iban_fails_at_the_batch_and_undoes_ledger_then_budget(demo_org, worker):
    User.objects.filter(username="emma").update(iban="")
    request = approved(demo_org, "500.00")
    assert wait_payment(request, "failed").reason == "no_iban"
    payout_result(request)
    assert counts(request) == {
        "reservations": 1,
        "held": 0,
        "posted": 2,
        "reversed": 2,
        "payments": 1,
    }
    assert balance(request) == 0
    assert saga_audit(request) == [
        ("payout_step", "budget"),
        ("payout_step", "ledger"),
        ("payout_compensated", "ledger"),
        ("payout_compensated", "budget"),
        ("payout_failed", "no_iban"),
    ]
    assert not Batch.objects.filter(payments__request_id=request.pk).exists()


def test_invalid_iban_at_file_time_fails_the_payment_and_undoes_every_step(demo_org, worker):
    paid = approved(demo_org, "300.00", requester="finn", title="Paid one")
    request = approved(demo_org, "500.00")
    wait_payment(paid, "scheduled")
    wait_payment(request, "scheduled")
    # Written behind the form's back (the form refuses it): found when the file is written.
    User.objects.filter(username="emma").update(iban="DE00370400440532013000")
    result = run_payout()
    assert result.paid == [paid.pk]
    assert [(f.request_id, f.reason) for f in result.failed] == [(request.pk, "invalid_iban")]
    assert wait_payment(request, "failed").reason == "invalid_iban"
    assert payout_result(request).status.name == "FAILED"
    wait_payment(paid, "paid")
    assert counts(request) == {
        "reservations": 1,
        "held": 0,
        "posted": 2,
        "reversed": 2,
        "payments": 1,
    }
    assert saga_audit(request) == [
        ("payout_step", "budget"),
        ("payout_step", "ledger"),
        ("payout_step", "batch"),
        ("payout_compensated", "batch"),
        ("payout_compensated", "ledger"),
        ("payout_compensated", "budget"),
        ("payout_failed", "invalid_iban"),
    ]
    xml = Batch.objects.get(pk=result.batch_id).sepa_xml
    assert "<NbOfTxs>1</NbOfTxs>" in xml and f"EXP{paid.pk}R1" in xml
    assert f"EXP{request.pk}R1" not in xml
