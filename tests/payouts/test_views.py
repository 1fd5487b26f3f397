"""What people see of a payout: the request page, /accounts/bank/, batches, /ops/, inbox."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import User
from payouts.models import Batch, CostCentre
from tests.support.payouts import approved, payout_result, run_payout, wait_payment
from tests.support.requests import submit, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def payment_status(client, request) -> str:
    html = client.get(f"/requests/{request.pk}/").content.decode()
    found = re.search(r'data-testid="payment-status"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def test_request_page_shows_scheduled_then_paid(demo_org, worker):
    request = approved(demo_org, "500.00")
    emma = client_for(demo_org["emma"])
    wait_payment(request, "scheduled")
    assert payment_status(emma, request) == "scheduled"
    run_payout()
    wait_payment(request, "paid")
    assert payment_status(emma, request) == "paid"
    timeline = client_for(demo_org["admin"]).get(f"/audit/{request.pk}/").content.decode()
    assert "budget reserved on the cost centre" in timeline
    assert "Paid by SEPA credit transfer in payout batch" in timeline


def test_failed_payout_shows_its_reason_in_english_and_german(demo_org, worker):
    User.objects.filter(username="emma").update(iban="")
    request = approved(demo_org, "500.00")
    wait_payment(request, "failed")
    english = client_for(demo_org["emma"]).get(f"/requests/{request.pk}/").content.decode()
    german = client_for(demo_org["emma"], "de").get(f"/requests/{request.pk}/").content.decode()
    assert payment_status(client_for(demo_org["emma"]), request) == "failed"
    assert 'data-reason="no_iban"' in english and "has no IBAN" in english
    with translation.override("de"):
        from payouts.labels import failure_text

        words = failure_text("no_iban")
    assert words != "The requester has no IBAN on their bank details." and words in german


def test_ops_lists_a_failed_payout_and_retries_it_once_mended(demo_org, worker):
    CostCentre.objects.filter(code="CC-ENG").update(closed=True)
    request = approved(demo_org, "500.00")
    wait_payment(request, "failed")
    payout_result(request)
    admin = client_for(demo_org["admin"])
    page = admin.get("/ops/").content.decode()
    assert f'data-kind="failed_payout" data-request-id="{request.pk}"' in page
    assert 'data-reason="cost_centre_closed"' in page
    CostCentre.objects.filter(code="CC-ENG").update(closed=False)
    response = admin.post(f"/ops/payouts/{request.pk}/retry/", follow=True)
    assert "started again" in response.content.decode()
    wait_payment(request, "scheduled")
    again = admin.post(f"/ops/payouts/{request.pk}/retry/", follow=True)
    assert "has not failed" in again.content.decode()


def test_admin_sees_batches_payments_and_downloads_the_sepa_file(demo_org, worker):
    request = approved(demo_org, "500.00")
    wait_payment(request, "scheduled")
    result = run_payout()
    admin = client_for(demo_org["admin"])
    listing = admin.get("/payouts/").content.decode()
    assert f'data-batch-id="{result.batch_id}"' in listing
    detail = admin.get(f"/payouts/{result.batch_id}/").content.decode()
    assert f'data-testid="batch-payment" data-request-id="{request.pk}"' in detail
    download = admin.get(f"/payouts/{result.batch_id}/sepa.xml")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/xml")
    assert download.content.decode() == Batch.objects.get(pk=result.batch_id).sepa_xml
    emma = client_for(demo_org["emma"])
    assert emma.get(f"/payouts/{result.batch_id}/sepa.xml").status_code == 403
    open_batch = Batch.objects.create()
    assert admin.get(f"/payouts/{open_batch.pk}/sepa.xml").status_code == 404
    assert admin.get("/payouts/999999/").status_code == 404


def test_bank_page_saves_a_valid_iban_and_refuses_a_bad_one(demo_org):
    emma = demo_org["emma"]
    client = client_for(emma)
    page = client.get("/accounts/bank/")
    assert page.status_code == 200 and "CC-ENG" in page.content.decode()
    form = {"password": "demo"}
    bad = client.post("/accounts/bank/", {**form, "iban": "DE89 3704 0044 0532 0130 01", "bic": ""})
    assert bad.status_code == 400 and 'data-testid="error-iban"' in bad.content.decode()
    new_iban = "DE35370400440532013099"
    bad_bic = client.post("/accounts/bank/", {**form, "iban": new_iban, "bic": "XX"})
    assert bad_bic.status_code == 400 and 'data-testid="error-bic"' in bad_bic.content.decode()
    ok = client.post(
        "/accounts/bank/", {**form, "iban": "DE35 3704 0044 0532 0130 99", "bic": "cobadeff"}
    )
    assert ok.status_code == 302
    emma.refresh_from_db()
    assert (emma.iban, emma.bic) == ("DE35370400440532013099", "COBADEFF")
    finn = User.objects.get(username="finn")
    before = finn.iban
    # There is no way to name someone else: a user field in the POST is ignored.
    client.post("/accounts/bank/", {**form, "iban": "GB82WEST12345698765432", "user": finn.pk})
    finn.refresh_from_db()
    assert finn.iban == before


def test_inbox_row_shows_the_budget_left_after_the_request(demo_org, worker):
    CostCentre.objects.filter(code="CC-ENG").update(budget_cents=100_000_00)
    held = approved(demo_org, "900.00", title="Held")
    wait_payment(held, "scheduled")  # 900.00 held on CC-ENG
    request = submit(demo_org["emma"], "250.00", title="Pending one")
    wait_pending_level(request, 1)
    from tests.support.waiting import wait_for

    def row():
        html = client_for(demo_org["max"]).get("/inbox/").content.decode()
        return html if f'data-request-id="{request.pk}"' in html else None

    html = wait_for(row, 20)
    assert "budget left after this: 98,850.00 EUR" in html
