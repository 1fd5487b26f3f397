"""One payee who cannot be paid never stops a payout run; a run that could write no file
is on /ops/ with its cause and is retried for THAT batch. Real Temporal dev server,
worker, PostgreSQL; the file is checked against sepaxml's pain.001.001.03 XSD."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import sepaxml
import xmlschema
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from approvals.temporal.client import call
from payouts.models import Batch, Payment
from payouts.services import PayoutError, batch_retry
from tests.support.payouts import approved, payout_result, run_payout, wait_payment
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")


def admin_client(org) -> Client:
    client = Client()
    client.force_login(org["admin"])
    return client


def three_scheduled(org):
    requests = {
        name: approved(org, amount, requester=name, title=f"{name}'s trip")
        for name, amount in (("emma", "101.00"), ("finn", "202.00"), ("max", "303.00"))
    }
    for request in requests.values():
        wait_payment(request, "scheduled")
    return requests


def credited(xml: str) -> dict[str, str]:
    doc = xmlschema.XMLSchema(XSD).to_dict(xml)
    txs = doc["CstmrCdtTrfInitn"]["PmtInf"][0]["CdtTrfTxInf"]
    return {t["CdtrAcct"]["Id"]["IBAN"]: str(t["Amt"]["InstdAmt"]["$"]) for t in txs}


def test_one_bad_bic_among_three_payees_pays_the_other_two_and_lists_the_third_on_ops(
    demo_org, worker
):
    requests = three_scheduled(demo_org)
    # The BIC, saved before the form validated it (straight into the database).
    User.objects.filter(username="finn").update(bic="COBADE00")
    started = time.monotonic()
    result = run_payout()
    assert time.monotonic() - started < 30  # no 8 attempts of a doomed file step
    assert sorted(result.paid) == sorted([requests["emma"].pk, requests["max"].pk])
    assert [(f.request_id, f.reason) for f in result.failed] == [
        (requests["finn"].pk, "invalid_bic")
    ]
    batch = Batch.objects.get(pk=result.batch_id)
    xmlschema.XMLSchema(XSD).validate(batch.sepa_xml)
    emma, max_ = User.objects.get(username="emma"), User.objects.get(username="max")
    assert {k: float(v) for k, v in credited(batch.sepa_xml).items()} == {
        emma.iban: 101.0,
        max_.iban: 303.0,
    }
    for name in ("emma", "max"):
        wait_payment(requests[name], "paid")
    failed = wait_payment(requests["finn"], "failed")
    assert failed.reason == "invalid_bic"
    assert payout_result(requests["finn"]).status.name == "FAILED"
    told = [m for m in mail.outbox if m.to == ["finn@example.com"] and "payout" in m.subject]
    assert told and "BIC is not valid" in told[0].body
    page = admin_client(demo_org).get("/ops/").content.decode()
    row = page.split(f'data-kind="failed_payout" data-request-id="{requests["finn"].pk}"', 1)
    assert len(row) == 2 and 'data-reason="invalid_bic"' in row[1].split("</tr>", 1)[0]
    # Mended (finn saves a valid BIC), the failed payout is retried from /ops/ and paid.
    User.objects.filter(username="finn").update(bic="COBADEFFXXX")
    admin_client(demo_org).post(f"/ops/payouts/{requests['finn'].pk}/retry/")
    wait_payment(requests["finn"], "scheduled")
    assert run_payout().paid == [requests["finn"].pk]


def test_a_transfer_the_schema_refuses_is_left_out_and_the_rest_is_paid(demo_org, worker):
    requests = three_scheduled(demo_org)
    # A name that the SEPA character set cannot hold (nothing left after transliteration).
    User.objects.filter(username="max").update(first_name="\U0001f600", last_name="")
    result = run_payout()
    assert sorted(result.paid) == sorted([requests["emma"].pk, requests["finn"].pk])
    assert [(f.request_id, f.reason) for f in result.failed] == [
        (requests["max"].pk, "sepa_refused")
    ]
    xmlschema.XMLSchema(XSD).validate(Batch.objects.get(pk=result.batch_id).sepa_xml)
    assert wait_payment(requests["max"], "failed").reason == "sepa_refused"


def _run_status(run_id: str) -> str:
    async def describe(client):
        return (await client.get_workflow_handle(run_id).describe()).status.name

    return call(describe)


def test_a_run_without_a_file_is_on_ops_with_its_cause_and_retried_for_that_batch(
    demo_org, worker, settings
):
    requests = three_scheduled(demo_org)
    settings.PAYOUT_COMPANY_BIC = "COBADE00"  # the company's own account, mistyped
    with pytest.raises(Exception):  # noqa: B017 - the run fails (a WorkflowFailureError)
        run_payout("2026-W10")
    batch = Batch.objects.get(period="2026-W10")
    assert batch.status == "closed" and not batch.sepa_xml and batch.outcome == {}
    assert batch.error == "company_account_invalid"
    assert _run_status(batch.run_id) == "FAILED"
    assert all(
        Payment.objects.get(request_id=r.pk).status == "scheduled" for r in requests.values()
    )
    page = admin_client(demo_org).get("/ops/").content.decode()
    row = page.split(f'data-kind="stuck_batch" data-batch-id="{batch.pk}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    assert 'data-reason="company_account_invalid"' in row and "PAYOUT_COMPANY_BIC" in row
    assert 'data-testid="ops-batch-retry"' in row
    # A newer period's run does not pick the stuck batch up ...
    assert run_payout("2026-W11").batch_id is None
    # ... the retry on /ops/ does, once the setting is mended.
    settings.PAYOUT_COMPANY_BIC = "COBADEFFXXX"
    response = admin_client(demo_org).post(f"/ops/payouts/batches/{batch.pk}/retry/", follow=True)
    assert "was started again" in response.content.decode()
    for request in requests.values():
        wait_payment(request, "paid")
    batch.refresh_from_db()
    assert batch.error == "" and sorted(batch.outcome["paid"]) == sorted(
        r.pk for r in requests.values()
    )
    assert Batch.objects.filter(period="2026-W10").count() == 1
    assert "retry-batch" in batch.run_id
    wait_for(lambda: _run_status(batch.run_id) == "COMPLETED", 30)
    with pytest.raises(PayoutError) as done:
        batch_retry(batch_id=batch.pk)
    assert done.value.code == "written"
    page = admin_client(demo_org).get("/ops/").content.decode()
    assert f'data-kind="stuck_batch" data-batch-id="{batch.pk}"' not in page


def test_a_batch_closed_long_ago_without_a_file_is_listed_as_stuck(demo_org):
    old = timezone.now() - timedelta(hours=1)
    stuck = Batch.objects.create(status="closed", period="stopped", closed_at=old)
    fresh = Batch.objects.create(status="closed", period="writing", closed_at=timezone.now())
    page = admin_client(demo_org).get("/ops/").content.decode()
    assert f'data-kind="stuck_batch" data-batch-id="{stuck.pk}"' in page
    assert "The run stopped before it wrote the file." in page
    assert f'data-kind="stuck_batch" data-batch-id="{fresh.pk}"' not in page
    employee = Client()
    employee.force_login(demo_org["emma"])
    assert employee.post(f"/ops/payouts/batches/{stuck.pk}/retry/").status_code == 403
