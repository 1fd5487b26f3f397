"""A bank change cannot divert a payment: what was approved before it waits `on_hold`
until a finance member confirms on /payouts/, no payout run takes it meanwhile, and after
the confirmation it is paid (to the confirmed account) by the next run. Real Temporal dev
server, worker and PostgreSQL."""

from __future__ import annotations

import pytest
import sepaxml  # noqa: F401 - the XSD the file is checked against comes with it
from django.core import mail
from django.test import Client

from accounts.bank import make_iban
from accounts.models import AccountAuditEntry, AccountEvent
from approvals.models import AuditEntry
from payouts.models import Batch, Payment
from tests.support.payouts import approved, run_payout, wait_payment

pytestmark = pytest.mark.django_db(transaction=True)

NEW_IBAN = make_iban("DE", "370400440532017777")


def signed_in(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def change_bank(user, iban=NEW_IBAN):
    response = signed_in(user).post(
        "/accounts/bank/", {"iban": iban, "bic": "COBADEFFXXX", "password": "demo"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def status_on_page(client, request) -> str:
    html = client.get(f"/requests/{request.pk}/").content.decode()
    marker = 'data-testid="payment-status"'
    assert marker in html
    return html.split(marker, 1)[0].rsplit('data-status="', 1)[1].split('"', 1)[0]


def test_payments_approved_before_a_change_wait_for_finance_then_go_to_the_new_account(
    demo_org, worker
):
    emma, fiona = demo_org["emma"], demo_org["fiona"]
    first = approved(demo_org, "120.00", title="Before one")
    second = approved(demo_org, "80.00", title="Before two")
    for request in (first, second):
        wait_payment(request, "scheduled")
    change_bank(emma)
    for request in (first, second):
        payment = Payment.objects.get(request_id=request.pk)
        assert payment.status == "on_hold" and payment.batch_id is None
        assert status_on_page(signed_in(emma), request) == "on_hold"
    german = signed_in(emma, "de").get(f"/requests/{first.pk}/").content.decode()
    assert 'data-status="on_hold" data-testid="payment-status">angehalten<' in german

    # A payout run meanwhile pays nothing of emma's (and writes no file for nothing).
    result = run_payout()
    assert first.pk not in result.paid and second.pk not in result.paid
    assert all(Payment.objects.get(request_id=r.pk).status == "on_hold" for r in (first, second))

    # A payment approved while the change waits is held too (it would go to the same account).
    later = approved(demo_org, "30.00", title="During the wait")
    assert wait_payment(later, "on_hold").batch_id is None

    # Finance sees the change, with what it holds; emma cannot confirm, an admin neither.
    page = signed_in(fiona).get("/payouts/").content.decode()
    change = AccountAuditEntry.objects.get(kind=AccountEvent.BANK_CHANGED, subject=emma)
    assert f'data-testid="bank-change" data-change-id="{change.pk}"' in page
    assert NEW_IBAN in page and 'data-testid="confirm-bank-change"' in page
    assert "3 payments, 230.00 EUR" in page
    url = f"/payouts/bank-changes/{change.pk}/confirm/"
    assert signed_in(emma).post(url).status_code == 403
    assert signed_in(demo_org["admin"]).post(url).status_code == 403
    assert signed_in(emma).get("/payouts/").status_code == 403

    confirmed = signed_in(fiona).post(url, follow=True)
    assert "3 payments are scheduled again" in confirmed.content.decode()
    for request in (first, second, later):
        payment = Payment.objects.get(request_id=request.pk)
        assert payment.status == "scheduled" and payment.batch.status == "open"
    again = signed_in(fiona).post(url, follow=True).content.decode()
    assert "confirmed already" in again

    result = run_payout()
    assert sorted(result.paid) == sorted([first.pk, second.pk, later.pk])
    xml = Batch.objects.get(pk=result.batch_id).sepa_xml
    assert xml.count(NEW_IBAN) == 3
    for request in (first, second, later):
        wait_payment(request, "paid")
    kinds = list(
        AuditEntry.objects.filter(request_id=first.pk, source="payout").values_list(
            "kind", flat=True
        )
    )
    assert "payout_on_hold" in kinds and "payout_released" in kinds
    timeline = signed_in(demo_org["admin"]).get(f"/audit/{first.pk}/").content.decode()
    assert "confirmed the new bank details" in timeline
    # Paid: the page says when and to which account (masked), and emma got a mail.
    html = signed_in(emma).get(f"/requests/{first.pk}/").content.decode()
    detail = html.split('data-testid="payment-detail">', 1)[1].split("</span>", 1)[0]
    assert detail.startswith("Paid on ") and f"IBAN ••{NEW_IBAN[-4:]}" in detail
    assert NEW_IBAN not in html
    paid_mails = [
        m for m in mail.outbox if m.to == ["emma@example.com"] and "was paid" in m.subject
    ]
    assert len(paid_mails) == 3 and "120.00 EUR" in " ".join(m.body for m in paid_mails)


def test_a_finance_member_cannot_confirm_their_own_change(demo_org, worker):
    fiona, felix = demo_org["fiona"], demo_org["felix"]
    change_bank(fiona)
    change = AccountAuditEntry.objects.get(kind=AccountEvent.BANK_CHANGED, subject=fiona)
    url = f"/payouts/bank-changes/{change.pk}/confirm/"
    own = signed_in(fiona).post(url, follow=True).content.decode()
    assert "cannot confirm a change of your own" in own
    assert 'data-testid="confirm-bank-change"' not in own
    ok = signed_in(felix).post(url, follow=True).content.decode()
    assert "The change is confirmed" in ok
    assert AccountAuditEntry.objects.filter(kind=AccountEvent.BANK_CONFIRMED).count() == 1


def test_a_paid_payment_stays_paid_and_only_open_ones_are_held(demo_org, worker):
    emma = demo_org["emma"]
    paid = approved(demo_org, "40.00", title="Paid already")
    wait_payment(paid, "scheduled")
    run_payout()
    wait_payment(paid, "paid")
    open_one = approved(demo_org, "50.00", title="Not paid yet")
    wait_payment(open_one, "scheduled")
    change_bank(emma)
    assert Payment.objects.get(request_id=paid.pk).status == "paid"
    assert Payment.objects.get(request_id=open_one.pk).status == "on_hold"
