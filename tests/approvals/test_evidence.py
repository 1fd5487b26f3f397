"""/audit/<pk>/evidence.pdf and .zip: a real request, decided through the real workflow on
the dev server, with an image receipt and a PDF receipt; the PDF is read back with
poppler's `pdftotext` (and `pdfimages` for the embedded image), in English and German.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from reportlab.pdfgen import canvas

from approvals import services
from approvals.models import AuditEntry, ExpenseRequest
from tests.support.payouts import wait_payment
from tests.support.requests import decide, wait_audit, wait_pending_level, wait_status
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (make poppler)"),
]


def png_receipt() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 120), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("taxi.png", buffer.getvalue(), content_type="image/png")


def pdf_receipt() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 700, "HOTEL ADLON INVOICE 4711")
    page.showPage()
    page.drawString(100, 700, "second page, not in the evidence")
    page.showPage()
    page.save()
    return SimpleUploadedFile("hotel.pdf", buffer.getvalue(), content_type="application/pdf")


def decided_request(demo_org, receipt, title="Taxi to the airport"):
    request = services.expense_submit(
        requester=demo_org["emma"],
        title=title,
        amount=Decimal("84.50"),
        currency="EUR",
        category="travel",
        description="Late flight",
        receipt=receipt,
    )
    request.refresh_from_db()  # the start after commit stamps workflow_started_at on the row
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "approve", comment="Fine, the receipt matches")
    wait_status(request, "approved")
    wait_audit(request, "completed")
    wait_payment(request, "scheduled")  # the payout saga appends its own rows: let it finish
    quiet_audit(request)
    return request


def quiet_audit(request) -> None:
    """Until no audit row was added for a second (the chain is read as a whole)."""
    seen = {"count": -1, "since": time.monotonic()}

    def settled() -> bool:
        count = AuditEntry.objects.filter(request=request).count()
        if count != seen["count"]:
            seen.update(count=count, since=time.monotonic())
        return time.monotonic() - seen["since"] > 1.0

    wait_for(settled, timeout=20)


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "evidence.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def image_count(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "images.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return len(listing.strip().splitlines()) - 2  # two header lines


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_the_pdf_holds_the_request_receipt_decision_timeline_and_hashes(
    demo_org, worker, media, tmp_path
):
    request = decided_request(demo_org, png_receipt())
    response = client_for(demo_org["admin"]).get(f"/audit/{request.pk}/evidence.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"expense-{request.pk}-evidence.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content, tmp_path)
    flat = " ".join(text.split())
    assert f"Evidence file: request #{request.pk}" in flat
    assert "Taxi to the airport" in flat and "84.50 EUR" in flat and "Late flight" in flat
    # The decision: who, in which role, through which channel, with the comment.
    decided = AuditEntry.objects.get(request=request, kind="decided")
    assert "Decisions" in flat and "approved" in flat
    assert decided.actor_name in flat and decided.channel in flat
    assert "Fine, the receipt matches" in flat
    # The timeline and the chain with every row's hashes (monospaced, read back whole).
    assert "Timeline" in flat and "Submitted by" in flat
    assert "The audit chain is whole" in flat
    for row in AuditEntry.objects.filter(request=request):
        assert row.entry_hash in text
    request.refresh_from_db()
    assert request.audit_head in text
    # The receipt image is embedded.
    assert f"receipt-{request.pk}.png" in flat
    assert image_count(response.content, tmp_path) == 1


def test_a_pdf_receipt_is_appended_as_its_first_page_and_the_file_is_in_german_too(
    demo_org, worker, media, tmp_path
):
    request = decided_request(demo_org, pdf_receipt(), title="Hotel")
    admin = client_for(demo_org["admin"])
    english = pdf_text(admin.get(f"/audit/{request.pk}/evidence.pdf").content, tmp_path)
    assert "HOTEL ADLON INVOICE 4711" in english
    assert "second page, not in the evidence" not in english
    assert "its first page is appended as page" in " ".join(english.split())
    german = admin.get(f"/audit/{request.pk}/evidence.pdf", HTTP_ACCEPT_LANGUAGE="de")
    flat = " ".join(pdf_text(german.content, tmp_path).split())
    assert f"Beweisakte: Antrag #{request.pk}" in flat
    assert "Entscheidungen" in flat and "genehmigt" in flat and "Zeitleiste" in flat
    assert "Die Audit-Kette ist vollständig" in flat
    assert "84,50 EUR" in flat  # the German number format
    assert "HOTEL ADLON INVOICE 4711" in flat


def test_a_broken_chain_is_said_in_the_evidence_file(demo_org, worker, media, tmp_path):
    request = decided_request(demo_org, png_receipt())
    decided = AuditEntry.objects.get(request=request, kind="decided")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET comment = 'no' WHERE id = %s", [decided.pk]
        )
    response = client_for(demo_org["admin"]).get(f"/audit/{request.pk}/evidence.pdf")
    flat = " ".join(pdf_text(response.content, tmp_path).split())
    assert "The audit chain is BROKEN" in flat and f"row {decided.pk}" in flat


def test_the_zip_holds_the_receipt_the_json_timeline_and_the_chain(demo_org, worker, media):
    request = decided_request(demo_org, png_receipt())
    response = client_for(demo_org["admin"]).get(f"/audit/{request.pk}/evidence.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    receipt = f"receipts/receipt-{request.pk}.png"
    assert receipt in names
    request.refresh_from_db()
    with request.receipt.open("rb") as original:
        assert archive.read(receipt) == original.read()
    timeline = json.loads(archive.read(f"expense-{request.pk}-timeline.json"))
    kinds = {entry["kind"] for entry in timeline["entries"]}
    assert {"submitted", "decided"} <= kinds
    assert timeline["history_available"] is True, timeline["notice"]
    chain = json.loads(archive.read(f"expense-{request.pk}-audit-chain.json"))
    assert chain["verified"] is True and chain["head"] == request.audit_head
    stored = list(AuditEntry.objects.filter(request=request).order_by("pk"))
    assert [r["entry_hash"] for r in chain["rows"]] == [r.entry_hash for r in stored]
    assert chain["rows"][-1]["entry_hash"] == request.audit_head


def test_a_request_without_a_receipt_still_has_its_evidence(demo_org, media, tmp_path):
    request = ExpenseRequest.objects.create(
        requester=demo_org["emma"], title="Pens", amount=Decimal("3.00"), category="other"
    )
    # Queued, no workflow: the timeline says so, the PDF is still made.
    response = client_for(demo_org["admin"]).get(f"/audit/{request.pk}/evidence.pdf")
    flat = " ".join(pdf_text(response.content, tmp_path).split())
    assert "No receipt was attached." in flat and "No decision was made." in flat


@pytest.mark.parametrize("username", ["emma", "max", "victor", "fiona"])
def test_only_admins_get_evidence(demo_org, username, media):
    request = ExpenseRequest.objects.create(
        requester=demo_org["emma"], title="Pens", amount=Decimal("3.00"), category="other"
    )
    for suffix in ("pdf", "zip"):
        response = client_for(demo_org[username]).get(f"/audit/{request.pk}/evidence.{suffix}")
        assert response.status_code == 403
