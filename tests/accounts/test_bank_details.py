"""/accounts/bank/: the step-up (password), the account audit, the mails, the refusals
(company account, another active person's account) and that nobody changes anyone else's
details (no user parameter; the admin shows them read-only)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts import bank_stepup as stepup
from accounts.bank import make_iban
from accounts.models import AccountAuditEntry, AccountEvent, User

pytestmark = pytest.mark.django_db(transaction=True)  # mails go after commit

NEW_IBAN = make_iban("DE", "370400440532019999")


def signed_in(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def post(client, **data):
    return client.post("/accounts/bank/", {"bic": "COBADEFFXXX", "password": "demo", **data})


def test_the_page_asks_for_the_password_in_the_step_up_prompt(demo_org):
    html = signed_in(demo_org["emma"]).get("/accounts/bank/").content.decode()
    prompt = html.split('data-testid="step-up"', 1)[1].split("</div>", 1)[0]
    assert 'name="password"' in prompt and 'type="password"' in prompt
    german = signed_in(demo_org["emma"], "de").get("/accounts/bank/").content.decode()
    assert "Passwort" in german


@pytest.mark.parametrize("password", ["", "wrong"])
def test_without_the_right_password_nothing_changes(demo_org, password):
    emma = demo_org["emma"]
    before = emma.iban
    response = post(signed_in(emma), iban=NEW_IBAN, password=password)
    assert response.status_code == 400
    assert 'data-testid="error-password"' in response.content.decode()
    emma.refresh_from_db()
    assert emma.iban == before
    assert not AccountAuditEntry.objects.filter(kind=AccountEvent.BANK_CHANGED).exists()
    assert not mail.outbox
    failures = AccountAuditEntry.objects.filter(kind=AccountEvent.STEP_UP_FAILED, subject=emma)
    assert failures.count() == (1 if password else 0)


def test_five_wrong_passwords_lock_the_change_even_for_the_right_one(demo_org):
    emma = demo_org["emma"]
    client = signed_in(emma)
    for _ in range(stepup.MAX_FAILURES):
        assert post(client, iban=NEW_IBAN, password="guess").status_code == 400
    locked = post(client, iban=NEW_IBAN, password="demo")
    assert locked.status_code == 400 and "Too many wrong passwords" in locked.content.decode()
    emma.refresh_from_db()
    assert emma.iban != NEW_IBAN


def test_a_change_is_audited_and_mailed_to_the_person_and_finance(demo_org):
    emma = demo_org["emma"]
    old = emma.iban
    response = post(signed_in(emma), iban=NEW_IBAN, bic="COBADEFF")
    assert response.status_code == 302
    emma.refresh_from_db()
    assert (emma.iban, emma.bic) == (NEW_IBAN, "COBADEFF")
    row = AccountAuditEntry.objects.get(kind=AccountEvent.BANK_CHANGED)
    assert row.subject == emma and row.actor_username == "emma" and row.needs_confirmation
    assert row.detail["old_iban"] == old and row.detail["new_iban"] == NEW_IBAN
    assert row.detail["step_up"] == "password" and row.ip == "127.0.0.1"
    told = {m.to[0]: m for m in mail.outbox}
    assert set(told) == {"emma@example.com", "fiona@example.com", "felix@example.com"}
    assert "Your bank details were changed" in told["emma@example.com"].subject
    assert NEW_IBAN not in told["emma@example.com"].body  # masked: last four only
    assert NEW_IBAN[-4:] in told["emma@example.com"].body
    base = settings.APP_BASE_URL.rstrip("/")
    assert f"{base}/payouts/\n" in told["fiona@example.com"].body  # where finance confirms
    assert f"{base}/accounts/bank/\n" in told["emma@example.com"].body  # her own page
    # The audit log is append-only.
    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()


def test_mails_are_in_german_for_a_german_reader(demo_org, settings):
    settings.LANGUAGE_CODE = "de"
    assert post(signed_in(demo_org["emma"]), iban=NEW_IBAN).status_code == 302
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["emma@example.com"] == "Ihre Bankverbindung wurde geändert"
    assert subjects["fiona@example.com"].startswith("Bankverbindung von Emma Engel")


def test_the_company_account_is_refused(demo_org, settings):
    response = post(signed_in(demo_org["emma"]), iban=settings.PAYOUT_COMPANY_IBAN)
    assert response.status_code == 400
    assert "the company&#x27;s own account" in response.content.decode()


def test_another_active_persons_account_is_refused_an_inactive_ones_is_not(demo_org):
    finn = demo_org["finn"]
    response = post(signed_in(demo_org["emma"]), iban=finn.iban)
    assert response.status_code == 400
    assert "on another person&#x27;s bank details" in response.content.decode()
    User.objects.filter(pk=finn.pk).update(is_active=False)
    assert post(signed_in(demo_org["emma"]), iban=finn.iban).status_code == 302


def test_nobody_changes_someone_elses_details(demo_org):
    finn, emma = demo_org["finn"], demo_org["emma"]
    before = finn.iban
    for field in ("user", "username", "subject", "pk"):
        post(signed_in(emma), iban=NEW_IBAN, **{field: finn.pk if field != "username" else "finn"})
    finn.refresh_from_db()
    assert finn.iban == before
    # The admin shows bank details read-only: an admin cannot bypass the step-up and hold.
    admin = signed_in(demo_org["admin"])
    page = admin.get(f"/admin/accounts/user/{finn.pk}/change/").content.decode()
    assert 'name="iban"' not in page and 'name="bic"' not in page
    assert before in page


def test_the_first_details_need_no_confirmation(demo_org):
    emma = demo_org["emma"]
    User.objects.filter(pk=emma.pk).update(iban="", bic="")
    assert post(signed_in(emma), iban=NEW_IBAN).status_code == 302
    row = AccountAuditEntry.objects.get(kind=AccountEvent.BANK_CHANGED)
    assert not row.needs_confirmation


def test_the_same_details_again_change_nothing(demo_org):
    emma = demo_org["emma"]
    response = post(signed_in(emma), iban=emma.iban, bic=emma.bic)
    assert response.status_code == 302
    assert not AccountAuditEntry.objects.filter(kind=AccountEvent.BANK_CHANGED).exists()


def test_the_bic_the_issue_found_is_refused_at_the_form(demo_org):
    response = post(signed_in(demo_org["emma"]), iban=NEW_IBAN, bic="COBADE00")
    assert response.status_code == 400 and 'data-testid="error-bic"' in response.content.decode()
