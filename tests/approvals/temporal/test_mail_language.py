"""Every mail in its reader's language, on the real worker: max has German on his
profile and gets German mails (decision links included); emma set nothing and gets
English, with the status as a word in either language, never the code."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone, translation

from accounts.models import User
from approvals.effects import digest
from approvals.workflow.periodic import MailKind
from tests.support import mail as test_mail
from tests.support.requests import decide, submit, wait_closed, wait_pending_level
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.recipients()]


def in_language(code: str, msgid: str, **values) -> str:
    with translation.override(code):
        return translation.gettext(msgid) % values


def test_max_reads_german_mails_and_emma_english_ones(demo_org, worker, settings):
    settings.EMAIL_BACKEND = test_mail.LOCMEM
    User.objects.filter(username="max").update(language="de")
    request = submit(demo_org["emma"], "500.00", title="Hotel Hamburg")
    wait_pending_level(request, 1)
    wait_for(lambda: mails_to("max@example.com") or None, timeout=30, message="max not mailed")
    (to_max,) = mails_to("max@example.com")
    values = {"id": request.pk, "title": "Hotel Hamburg"}
    expected = "Expense request #%(id)s awaits your decision: %(title)s"
    assert to_max.subject == in_language("de", expected, **values)
    assert to_max.subject != expected % values  # the catalogue really has it in German
    confirm_first = "Each link asks you to confirm first; nothing is decided by opening it."
    assert in_language("de", confirm_first) in to_max.body
    assert confirm_first not in to_max.body
    assert to_max.body.count("/links/") == 2  # approve and reject, his own
    assert "500,00 EUR" in to_max.body  # German separators
    assert '<html lang="de">' in to_max.alternatives[0][0]

    decide(request, demo_org["max"], "reject", comment="Not this month")
    wait_closed(request, "rejected")
    wait_for(lambda: mails_to("emma@example.com") or None, timeout=30, message="emma not mailed")
    (to_emma,) = mails_to("emma@example.com")
    # English, with the status as a word (the same word as her pages show).
    assert to_emma.subject == f"Expense request #{request.pk} is rejected: Hotel Hamburg"
    assert '<html lang="en">' in to_emma.alternatives[0][0]
    assert "500.00 EUR" in to_emma.body


def test_the_digest_is_in_the_readers_language_date_style_and_time_zone(demo_org, worker, settings):
    User.objects.filter(username="max").update(language="de", time_zone="Europe/Lisbon")
    request = submit(demo_org["emma"], "1234.50", title="Hotel Hamburg")
    wait_pending_level(request, 1)
    request.refresh_from_db()
    max_ = User.objects.get(username="max")
    german = digest.compose(MailKind.DIGEST, max_, "2026-12-07T07:00:00+00:00")
    english = digest.compose(
        MailKind.DIGEST, User.objects.get(username="diana"), "2026-12-07T07:00:00+00:00"
    )
    subject = "Your approvals digest for %(day)s: %(count)s waiting, %(overdue)s overdue"
    assert german is not None
    assert german.subject == in_language("de", subject, day="07.12.2026", count=1, overdue=0)
    with timezone.override("Europe/Lisbon"):
        due = timezone.localtime(request.due_at).strftime("%d.%m.%Y, %H:%M")
    assert due in german.body  # German style, in his own time zone
    assert "1.234,50 EUR" in german.body and "1,234.50" not in german.body  # his separators
    # Decision links, as in the assignment mail: his own, for this level and round.
    links = re.findall(r"https?://\S+/links/\S+/", german.body)
    assert len(links) == 2 and all(link in german.html for link in links)
    path = urlsplit(links[0]).path
    confirm = client_for(max_).get(path)
    assert confirm.status_code == 200 and 'data-testid="confirm"' in confirm.content.decode()
    # Bound to max: diana opening it gets no button.
    assert 'data-testid="confirm"' not in client_for(demo_org["diana"]).get(path).content.decode()
    assert english is None  # diana has nothing waiting (level 1 is max's)
