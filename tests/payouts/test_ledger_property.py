"""The ledger balances over random payout runs with failures and holds (hypothesis, on
the real dev server): every euro paid traces back to an approved request and forward to
exactly one bank file; failed and on-hold amounts are in no file; each request's
postings balance, and what the payable account still owes is what is not paid yet."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import sepaxml
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as people
from accounts.bank import make_iban
from accounts.models import User
from accounts.selectors import bank_change_pending
from approvals.models import ExpenseRequest
from payouts.models import Batch, LedgerLine, Payment, Reservation
from payouts.steps import PAYABLE_ACCOUNT
from tests.support.payouts import approved, run_payout, wait_payment

pytestmark = pytest.mark.django_db(transaction=True)
XSD = xmlschema.XMLSchema(
    os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")
)
POOL = ("emma", "finn", "max", "maria")
KINDS = ("ok", "ok", "bad_bic", "bad_iban", "hold")  # "ok" twice: most payees are fine
OUTCOME = {"ok": "paid", "bad_bic": "failed", "bad_iban": "failed", "hold": "on_hold"}
counter = Counter()

payees = st.lists(
    st.tuples(st.sampled_from(POOL), st.sampled_from(KINDS), st.integers(100, 99_999)),
    min_size=1,
    max_size=3,
    unique_by=lambda p: p[0],
)


def _fresh_details(org) -> None:
    """Each example starts from valid, distinct, confirmed details for the pool."""
    counter["example"] += 1
    for index, name in enumerate(POOL):
        user = User.objects.get(username=name)
        pending = bank_change_pending(user=user)
        if pending is not None:  # an earlier example's hold: released into the open batch
            people.bank_change_confirm(change_id=pending.pk, by=org["fiona"])
        iban = make_iban("DE", f"3704004405{counter['example']:04d}{index:04d}")
        User.objects.filter(pk=user.pk).update(iban=iban, bic="COBADEFFXXX")


def _break(name: str, kind: str, org) -> None:
    user = User.objects.get(username=name)
    if kind == "bad_bic":
        User.objects.filter(pk=user.pk).update(bic="COBADE00")
    elif kind == "bad_iban":
        User.objects.filter(pk=user.pk).update(
            iban=user.iban[:-1] + str((int(user.iban[-1]) + 1) % 10)
        )
    elif kind == "hold":
        iban = make_iban("DE", f"3704004406{counter['example']:04d}{POOL.index(name):04d}")
        people.bank_details_change(user=user, iban=iban, bic="COBADEFFXXX", step_up="demo")


def _files() -> dict[int, dict[str, int]]:
    """Per written batch: end-to-end id -> cents, read back from the SEPA file."""
    files = {}
    for batch in Batch.objects.exclude(sepa_xml=""):
        doc = XSD.to_dict(batch.sepa_xml)
        txs = [t for info in doc["CstmrCdtTrfInitn"]["PmtInf"] for t in info["CdtTrfTxInf"]]
        files[batch.pk] = {
            t["PmtId"]["EndToEndId"]: round(float(t["Amt"]["InstdAmt"]["$"]) * 100) for t in txs
        }
    return files


def _check_books() -> None:
    files = _files()
    in_files = Counter(e2e for transfers in files.values() for e2e in transfers)
    assert all(n == 1 for n in in_files.values()), "a transfer in two files"
    lines = list(LedgerLine.objects.all())
    for payment in Payment.objects.all():
        e2e = f"EXP{payment.request_id}R{payment.round}"
        mine = [x for x in lines if x.request_id == payment.request_id and x.round == payment.round]
        posted = sum(x.debit_cents for x in mine if x.kind == "post")
        reversed_ = sum(x.credit_cents for x in mine if x.kind == "reversal")
        assert sum(x.debit_cents - x.credit_cents for x in mine) == 0  # each posting balances
        held = Reservation.objects.filter(
            request_id=payment.request_id, round=payment.round, released_at__isnull=True
        ).exists()
        if payment.status == "paid":
            request = ExpenseRequest.objects.get(pk=payment.request_id)
            assert request.status == "approved"
            assert payment.amount_cents == (request.base_amount_cents or int(request.amount * 100))
            assert files[payment.batch_id][e2e] == payment.amount_cents
            assert posted == payment.amount_cents and reversed_ == 0 and held
        else:
            assert e2e not in in_files, f"{payment.status} payment {e2e} in a file"
        if payment.status == "failed":
            assert posted == reversed_ and not held  # compensated: nothing owed, budget free
        if payment.status == "on_hold":
            assert payment.batch_id is None and posted == payment.amount_cents and held
    for batch_id, transfers in files.items():
        paid = Payment.objects.filter(batch_id=batch_id, status="paid")
        assert sum(transfers.values()) == sum(p.amount_cents for p in paid)
    payable = [x for x in lines if x.account.code == PAYABLE_ACCOUNT[0]]
    owed = sum(x.credit_cents - x.debit_cents for x in payable)
    open_ = Payment.objects.exclude(status="failed")
    assert owed == sum(p.amount_cents for p in open_)  # paid or still to pay, all booked


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payees)
def test_books_balance_over_random_runs_with_failures_and_holds(demo_org, worker, case):
    _fresh_details(demo_org)
    requests = {}
    for name, kind, cents in case:
        amount = f"{cents // 100}.{cents % 100:02d}"
        requests[name] = (approved(demo_org, amount, requester=name, title=f"P{cents}"), kind)
    for request, _kind in requests.values():
        wait_payment(request, "scheduled")
    for name, (_request, kind) in requests.items():
        _break(name, kind, demo_org)
    result = run_payout()
    for request, kind in requests.values():
        wait_payment(request, OUTCOME[kind])
        assert (request.pk in result.paid) is (kind == "ok")
    _check_books()
