"""Drive approved requests into their payout and count what the saga wrote."""

from __future__ import annotations

import contextlib
import uuid

from approvals.temporal.client import call
from payouts.models import LedgerLine, Payment, Reservation
from payouts.services import payout_run
from payouts.workflow.contract import payout_id

from .requests import decide, submit, wait_closed
from .waiting import wait_for


def approved(org, amount="500.00", requester="emma", title="Train tickets"):
    """A one-level request of `requester`, approved by their manager (its payout starts)."""
    user = org[requester]
    request = submit(user, amount, title=title)
    wait_for(lambda: _pending(request), message="never pending")
    decide(request, user.reports_to)
    wait_closed(request, "approved")
    return request


def _pending(request):
    from tests.support.requests import state_of

    state = state_of(request)
    return state.status == "pending" and bool(state.pending_approvers)


def wait_payment(request, status: str, timeout: float = 30) -> Payment:
    def check():
        payment = Payment.objects.filter(request_id=request.pk).first()
        return payment if payment is not None and payment.status == status else None

    return wait_for(check, timeout, message=f"payment of {request.pk} never {status}")


def payout_result(request, timeout: float = 30):
    """Wait for the Payout workflow to close; its description (status COMPLETED/FAILED)."""

    async def run(client):
        handle = client.get_workflow_handle(payout_id(request.pk))
        with contextlib.suppress(Exception):  # a failed payout is an answer too
            await handle.result()
        return await handle.describe()

    return call(run, timeout=timeout)


def run_payout(period: str | None = None):
    return payout_run(period=period or f"test-{uuid.uuid4().hex[:8]}")


def counts(request) -> dict:
    """Rows the saga wrote for `request`: what nothing-lost-nothing-doubled is checked on."""
    lines = LedgerLine.objects.filter(request_id=request.pk)
    return {
        "reservations": Reservation.objects.filter(request_id=request.pk).count(),
        "held": Reservation.objects.filter(request_id=request.pk, released_at__isnull=True).count(),
        "posted": lines.filter(kind="post").count(),
        "reversed": lines.filter(kind="reversal").count(),
        "payments": Payment.objects.filter(request_id=request.pk).count(),
    }


def balance(request) -> int:
    """Debits minus credits of the request's lines: 0 for a double entry (and its reversal)."""
    lines = LedgerLine.objects.filter(request_id=request.pk)
    return sum(x.debit_cents - x.credit_cents for x in lines)
