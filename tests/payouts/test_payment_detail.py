"""Payment shown (issue 26): once paid, when and to which account (IBAN masked to its last
four) in the reader's language; scheduled: the expected day; one mail to the requester
(EN/DE), never two; the transfer's remittance text names the report."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime

import pytest
import sepaxml
import xmlschema
from django.core import mail
from django.test import Client
from django.utils import formats, timezone, translation

from approvals.models import Notification
from payouts.notify import tell_paid
from payouts.remittance import MAX_LENGTH, remittance, sepa_text
from payouts.selectors import last_four, next_payout_run
from tests.support.payouts import approved, run_payout, wait_payment

XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")
SEPA_SET = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]*$")


def client_for(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def detail(client, request) -> str:
    html = client.get(f"/requests/{request.pk}/").content.decode()
    found = re.search(r'data-testid="payment-detail">([^<]*)<', html)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("request_id", "title", "expected"),
    [
        (123, "Trip to Berlin", "Expense report 123 Trip to Berlin"),
        (7, "Müller & Söhne: Straße #5", "Expense report 7 Mueller + Soehne: Strasse 5"),
        (8, "Café Zürich — £12 <b>", "Expense report 8 Cafe Zuerich - GBP12 b"),
        (9, "   ", "Expense report 9"),
        (10, "日本 出張", "Expense report 10"),
        (11, "line\nbreak\ttab", "Expense report 11 line break tab"),
    ],
)
def test_the_remittance_names_the_report_in_the_sepa_character_set(request_id, title, expected):
    text = remittance(request_id, title)
    assert text == expected
    assert SEPA_SET.match(text) and len(text) <= MAX_LENGTH


def test_a_long_title_is_cut_to_140_on_a_word():
    text = remittance(123456, "Conference " * 30)
    assert len(text) <= MAX_LENGTH and text.endswith("Conference")
    assert text.startswith("Expense report 123456 Conference")
    assert len(remittance(1, "x" * 500)) == MAX_LENGTH
    assert sepa_text("a\u0301b") == "ab"


def test_the_iban_shows_its_last_four_only():
    assert last_four("DE89 3704 0044 0532 0130 00") == "••3000"
    assert last_four("") == "••"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 7, 4, 0, tzinfo=UTC), date(2026, 12, 7)),  # Monday, 05:00 Berlin
        (datetime(2026, 12, 7, 6, 0, tzinfo=UTC), date(2026, 12, 14)),  # Monday after the run
        (datetime(2026, 12, 9, 12, 0, tzinfo=UTC), date(2026, 12, 14)),  # Wednesday
        (datetime(2026, 12, 13, 22, 0, tzinfo=UTC), date(2026, 12, 14)),  # Sunday night
    ],
)
def test_the_next_payout_run_is_the_schedules_next_monday(settings, now, expected):
    settings.TIME_ZONE = "Europe/Berlin"
    assert next_payout_run(now) == expected


@pytest.mark.django_db(transaction=True)
def test_paid_shows_when_and_where_mails_once_and_names_the_report(demo_org, worker, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = approved(demo_org, "500.00", title="Reise nach Köln #3")
    wait_payment(request, "scheduled")
    emma = client_for(demo_org["emma"])
    html = emma.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="payment-detail"' not in html
    expected = re.search(r'data-testid="payment-expected">([^<]*)<', html).group(1)
    assert expected.startswith("Expected with the payout run on ")

    mail.outbox.clear()
    result = run_payout()
    assert request.pk in result.paid
    payment = wait_payment(request, "paid")
    iban = demo_org["emma"].iban.replace(" ", "")
    with translation.override("en"):
        when_en = formats.date_format(timezone.localtime(payment.paid_at), "DATE_FORMAT")
    with translation.override("de"):
        when_de = formats.date_format(timezone.localtime(payment.paid_at), "DATE_FORMAT")
    assert detail(emma, request) == f"Paid on {when_en} to IBAN ••{iban[-4:]}."
    german = detail(client_for(demo_org["emma"], "de"), request)
    assert german == f"Am {when_de} auf IBAN ••{iban[-4:]} gezahlt."

    # One mail to emma, naming the report and the masked account; a second pass sends none.
    to_emma = [m for m in mail.outbox if demo_org["emma"].email in m.to]
    assert len(to_emma) == 1, [m.subject for m in mail.outbox]
    assert f"#{request.pk}" in to_emma[0].subject
    assert f"IBAN ••{iban[-4:]}" in to_emma[0].body and "Reise nach Köln #3" in to_emma[0].body
    assert iban[:-4] not in to_emma[0].body
    assert tell_paid([request.pk]) == 0
    assert len([m for m in mail.outbox if demo_org["emma"].email in m.to]) == 1
    # In German for a German reader (here: the site's language), again once.
    Notification.objects.filter(request_id=request.pk, key__startswith="payout:").delete()
    settings.LANGUAGE_CODE = "de"
    assert tell_paid([request.pk]) == 1 and tell_paid([request.pk]) == 0
    assert f"auf Ihr Konto IBAN ••{iban[-4:]} gezahlt" in mail.outbox[-1].body

    # The written pain.001: valid, and the transfer's Ustrd names the report.
    from payouts.models import Batch

    batch = Batch.objects.get(pk=result.batch_id)
    schema = xmlschema.XMLSchema(XSD)
    schema.validate(batch.sepa_xml)
    info = schema.to_dict(batch.sepa_xml)["CstmrCdtTrfInitn"]["PmtInf"][0]
    texts = [t["RmtInf"]["Ustrd"] for t in info["CdtTrfTxInf"]]
    texts = [t[0] if isinstance(t, list) else t for t in texts]
    assert f"Expense report {request.pk} Reise nach Koeln 3" in texts
