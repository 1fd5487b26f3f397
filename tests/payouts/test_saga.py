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
        "reservations": 1, "held": 1, "posted": 2, "reversed": 0, "payments": 1,
    }
    result = run_payout()
    assert result.paid == [request.pk] and result.failed == []
    wait_payment(request, "paid")
    assert payout_result(request).status.name == "COMPLETED"
    batch = Batch.objects.get(pk=result.batch_id)
    assert batch.status == "closed" and "<NbOfTxs>1</NbOfTxs>" in batch.sepa_xml
    assert saga_audit(request) == [
        ("payout_step", "budget"), ("payout_step", "ledger"), ("payout_step", "batch"),
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
        "reservations": 0, "held": 0, "posted": 0, "reversed": 0, "payments": 1,
    }
    assert saga_audit(request) == [("payout_failed", "cost_centre_closed")]
    told = {m.to[0] for m in mail.outbox if "payout" in m.subject.lower()}
    assert told == {"emma@example.com", "admin@example.com"}
