"""The payout run: one batch per period, a SEPA file valid against sepaxml's pain.001 XSD."""

from __future__ import annotations

import os

import pytest
import sepaxml
import xmlschema
from django.test import override_settings

from payouts.models import Batch, Payment
from tests.support.payouts import approved, payout_result, run_payout, wait_payment

pytestmark = pytest.mark.django_db(transaction=True)
XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")


def test_run_pays_the_batch_into_a_schema_valid_sepa_file(demo_org, worker):
    requests = [
        approved(demo_org, "120.50", requester="emma", title="Taxi"),
        approved(demo_org, "80.00", requester="finn", title="Lunch"),
    ]
    for request in requests:
        wait_payment(request, "scheduled")
    result = run_payout("2026-W49")
    assert sorted(result.paid) == sorted(r.pk for r in requests)
    batch = Batch.objects.get(pk=result.batch_id)
    schema = xmlschema.XMLSchema(XSD)
    schema.validate(batch.sepa_xml)  # raises when not valid
    doc = schema.to_dict(batch.sepa_xml)
    info = doc["CstmrCdtTrfInitn"]["PmtInf"][0]
    assert info["DbtrAcct"]["Id"]["IBAN"] == "DE89370400440532013000"
    credited = {t["CdtrAcct"]["Id"]["IBAN"]: t["Amt"]["InstdAmt"]["$"] for t in info["CdtTrfTxInf"]}
    emma, finn = demo_org["emma"], demo_org["finn"]
    assert {k: float(v) for k, v in credited.items()} == {emma.iban: 120.5, finn.iban: 80.0}
    for request in requests:
        wait_payment(request, "paid")
        assert payout_result(request).status.name == "COMPLETED"


def test_a_second_run_of_the_same_period_pays_nothing_twice(demo_org, worker):
    request = approved(demo_org, "50.00")
    wait_payment(request, "scheduled")
    first = run_payout("2026-W50")
    xml = Batch.objects.get(pk=first.batch_id).sepa_xml
    later = approved(demo_org, "70.00", title="Later")
    wait_payment(later, "scheduled")
    again = run_payout("2026-W50")
    assert again.batch_id == first.batch_id and again.paid == [request.pk]
    assert Batch.objects.get(pk=first.batch_id).sepa_xml == xml
    assert Payment.objects.get(request_id=later.pk).status == "scheduled"  # next period's
    assert Batch.objects.filter(period="2026-W50").count() == 1


def test_run_with_nothing_to_pay_writes_no_batch(demo_org, worker):
    result = run_payout("2026-W51")
    assert result.batch_id is None and not Batch.objects.filter(period="2026-W51").exists()


@override_settings(PAYOUT_COMPANY_NAME="Ünïcödé & Söhne <GmbH>")
def test_company_names_are_cleaned_into_the_sepa_character_set(demo_org, worker):
    request = approved(demo_org, "10.00")
    wait_payment(request, "scheduled")
    result = run_payout("2026-W52")
    xmlschema.XMLSchema(XSD).validate(Batch.objects.get(pk=result.batch_id).sepa_xml)
