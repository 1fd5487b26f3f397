"""Scenarios of the Payout saga and the PayoutRun for scripts/make_histories.py
(`--workflow payout`, written to tests/histories/payout/<version>/).

Each scenario drives an approved request into its payout on the throw-away
stack and returns {file name: workflow id} of the histories to save.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def _wait(predicate: Callable[[], object], timeout: float = 60, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def scenarios() -> dict[str, Callable[[dict], dict[str, str]]]:
    from accounts.models import User
    from approvals import services
    from payouts.models import CostCentre, Payment
    from payouts.services import payout_retry, payout_run
    from payouts.workflow.contract import PAYOUT_RUN_SCHEDULE_ID, payout_id
    from scripts.drive import submit, wait_pending_level, wait_state

    def approved(org, amount: str, title: str):
        request = submit(org["emma"], amount, title=title)
        wait_pending_level(request, 1)
        services.decision_record(request=request, actor=org["max"], action="approve")
        wait_state(request, lambda s: s.status == "approved")
        return request

    def payment(request, status: str):
        return _wait(
            lambda: Payment.objects.filter(request_id=request.pk, status=status).first(),
            what=f"payment {request.pk} {status}",
        )

    def run(period: str) -> str:
        payout_run(period=period)
        return f"{PAYOUT_RUN_SCHEDULE_ID}-manual-{period}"

    def emma_iban(value: str) -> None:
        User.objects.filter(username="emma").update(iban=value)

    def paid(org):
        request = approved(org, "300.00", "Paid payout")
        payment(request, "scheduled")
        run_id = run("histories-paid")
        payment(request, "paid")
        return {"paid": payout_id(request.pk), "run_paid": run_id}

    def failed_at_budget(org):
        CostCentre.objects.filter(code="CC-ENG").update(closed=True)
        try:
            request = approved(org, "300.00", "Closed cost centre")
            payment(request, "failed")
        finally:
            CostCentre.objects.filter(code="CC-ENG").update(closed=False)
        return {"failed_at_budget": payout_id(request.pk)}

    def failed_at_batch(org):
        iban = User.objects.get(username="emma").iban
        emma_iban("")
        try:
            request = approved(org, "300.00", "No IBAN")
            payment(request, "failed")
        finally:
            emma_iban(iban)
        return {"failed_at_batch": payout_id(request.pk)}

    def failed_at_file(org):
        iban = User.objects.get(username="emma").iban
        request = approved(org, "300.00", "IBAN gone bad")
        payment(request, "scheduled")
        emma_iban("DE00370400440532013000")
        try:
            run_id = run("histories-file")
            payment(request, "failed")
        finally:
            emma_iban(iban)
        return {"failed_at_file": payout_id(request.pk), "run_with_failure": run_id}

    def retried_then_paid(org):
        CostCentre.objects.filter(code="CC-ENG").update(closed=True)
        request = approved(org, "300.00", "Retried")
        payment(request, "failed")
        CostCentre.objects.filter(code="CC-ENG").update(closed=False)
        _wait(lambda: _closed(payout_id(request.pk)), what="failed run closed")
        payout_retry(request_id=request.pk)
        payment(request, "scheduled")
        run("histories-retry")
        payment(request, "paid")
        return {"retried_then_paid": payout_id(request.pk)}

    return {
        fn.__name__: fn
        for fn in [paid, failed_at_budget, failed_at_batch, failed_at_file, retried_then_paid]
    }


def _closed(workflow_id: str) -> bool:
    from approvals.temporal.client import call

    async def describe(client):
        desc = await client.get_workflow_handle(workflow_id).describe()
        return desc.status is not None and desc.status.name != "RUNNING"

    return call(describe)


NAMES = ["paid", "failed_at_budget", "failed_at_batch", "failed_at_file", "retried_then_paid"]
