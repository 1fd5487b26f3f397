"""Closing the open payout batch from /payouts/ (issue 30: no dead end): its payout run
writes the SEPA file and pays, on the real worker; any other batch is refused in words."""

from __future__ import annotations

import pytest

from payouts.models import Batch
from tests.support.payouts import approved, wait_payment
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_open_batch_is_closed_and_paid_from_the_payouts_page(demo_org, worker):
    request = approved(demo_org, "500.00")
    payment = wait_payment(request, "scheduled")
    batch = payment.batch
    admin = client_for(demo_org["admin"])
    page = admin.get("/payouts/").content.decode()
    assert f'action="/payouts/{batch.pk}/close/"' in page and 'data-testid="close-batch"' in page

    response = admin.post(f"/payouts/{batch.pk}/close/", follow=True)
    assert response.status_code == 200
    assert f"Batch #{batch.pk} is being closed" in response.content.decode()
    wait_payment(request, "paid")
    wait_for(
        lambda: Batch.objects.filter(pk=batch.pk, status="closed").exclude(sepa_xml="").exists(),
        timeout=30,
        message="the batch was never closed with its file",
    )
    page = admin.get("/payouts/").content.decode()
    assert f'href="/payouts/{batch.pk}/sepa.xml"' in page
    # Closed now: a second close is refused in words, nothing runs again.
    again = admin.post(f"/payouts/{batch.pk}/close/", follow=True).content.decode()
    assert f"Batch #{batch.pk} is not the open batch; nothing to close." in again


def test_only_admins_close_batches(demo_org):
    batch = Batch.objects.create(status="open")
    for name in ("emma", "max", "fiona"):
        assert client_for(demo_org[name]).post(f"/payouts/{batch.pk}/close/").status_code == 403
    response = client_for(demo_org["admin"]).post(f"/payouts/{batch.pk}/close/", follow=True)
    assert f"Batch #{batch.pk} has no payment yet; nothing to close." in response.content.decode()
