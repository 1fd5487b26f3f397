"""A failed payout is retried (from /ops/ or the service) once its cause is mended."""

from __future__ import annotations

import pytest

from payouts.models import CostCentre
from payouts.services import PayoutError, payout_retry
from tests.support.payouts import approved, counts, payout_result, run_payout, wait_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_retry_after_reopening_the_cost_centre_pays_once(demo_org, worker):
    CostCentre.objects.filter(code="CC-ENG").update(closed=True)
    request = approved(demo_org, "500.00")
    wait_payment(request, "failed")
    payout_result(request)
    CostCentre.objects.filter(code="CC-ENG").update(closed=False)
    assert payout_retry(request_id=request.pk) == 2
    payment = wait_payment(request, "scheduled")
    assert payment.round == 2 and payment.reason == ""
    with pytest.raises(PayoutError):
        payout_retry(request_id=request.pk)  # not failed (any more): nothing started
    run_payout()
    wait_payment(request, "paid")
    assert payout_result(request).status.name == "COMPLETED"
    assert counts(request) == {
        "reservations": 1,
        "held": 1,
        "posted": 2,
        "reversed": 0,
        "payments": 1,
    }


def test_a_retry_after_compensation_keeps_one_round_held(demo_org, worker):
    from accounts.models import User

    User.objects.filter(username="emma").update(iban="")
    request = approved(demo_org, "500.00")
    wait_payment(request, "failed")
    payout_result(request)
    User.objects.filter(username="emma").update(iban="DE89370400440532013000")
    payout_retry(request_id=request.pk)
    wait_payment(request, "scheduled")
    # Round 1 was compensated (reversed, released); round 2 holds and posts once.
    assert counts(request) == {
        "reservations": 2,
        "held": 1,
        "posted": 4,
        "reversed": 2,
        "payments": 1,
    }


def test_retry_of_a_payment_that_did_not_fail_is_refused(demo_org, worker):
    request = approved(demo_org, "500.00")
    wait_payment(request, "scheduled")
    with pytest.raises(PayoutError) as refused:
        payout_retry(request_id=request.pk)
    assert refused.value.code == "not_failed"
    with pytest.raises(PayoutError):
        payout_retry(request_id=999999)
