"""Flags in the inbox (rows from Temporal visibility, a real worker): the row shows them,
"flagged only" keeps just the flagged rows, and the approver's note on a flagged line
is stored with the decision (on the flag and in the audit timeline)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from approvals.models import AuditEntry, LineFlag
from tests.support.requests import wait_pending_level, wait_status
from tests.support.web import client_for, wait_inbox

pytestmark = pytest.mark.django_db(transaction=True)

ROW_FLAGS = re.compile(r'data-testid="flag" data-code="(\w+)"')


def submit(user, amount, title, receipt=b""):
    upload = (
        SimpleUploadedFile("r.pdf", receipt, content_type="application/pdf") if receipt else None
    )
    return services.expense_submit(
        requester=user,
        title=title,
        amount=Decimal(amount),
        currency="EUR",
        category="other",
        receipt=upload,
    )


def row_html(html: str, pk: int) -> str:
    return html.split(f'id="inbox-row-{pk}"', 1)[1].split('class="row-msg"', 1)[0]


def test_flagged_rows_filter_and_the_note_goes_with_the_decision(
    demo_org, worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    emma = demo_org["emma"]
    clean = submit(emma, "20.00", "Coffee")  # under 25 EUR: no receipt needed
    flagged = submit(emma, "80.00", "Lunch")  # no receipt from 25 EUR
    for request in (clean, flagged):
        wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    wait_inbox(max_, {clean.pk, flagged.pk}, exact=False)
    html = max_.get("/inbox/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert ROW_FLAGS.findall(row_html(html, flagged.pk)) == ["receipt_missing"]
    assert "Beleg fehlt" in row_html(html, flagged.pk)
    assert ROW_FLAGS.findall(row_html(html, clean.pk)) == []
    only = max_.get("/inbox/?flagged=on").content.decode()
    assert f'id="inbox-row-{flagged.pk}"' in only and f'id="inbox-row-{clean.pk}"' not in only

    too_long = max_.post(
        f"/requests/{flagged.pk}/decide/", {"action": "approve", "flag_note_1": "x" * 2001}
    )
    assert too_long.status_code == 302
    assert LineFlag.objects.get(request=flagged).note == ""  # refused before deciding

    response = max_.post(
        f"/requests/{flagged.pk}/decide/",
        {
            "action": "approve",
            "flag_note_1": "  Receipt lost;  card statement attached ",
            "level": 1,
        },
    )
    assert response.status_code == 302
    wait_status(flagged, "approved")
    flag = LineFlag.objects.get(request=flagged)
    assert (flag.note, flag.noted_by) == ("Receipt lost; card statement attached", "max")
    audit = AuditEntry.objects.get(request=flagged, kind="flag_note")
    assert audit.detail == {"notes": {"1": "Receipt lost; card statement attached"}}
    assert audit.actor_username == "max"
    page = client_for(emma).get(f"/requests/{flagged.pk}/").content.decode()
    assert 'data-testid="flag-note"' in page and "card statement attached" in page
