"""The form's receipt reading over HTTP: upload (login, CSRF, size and type checked,
words for a bad file, never a 500), poll the reading (the uploader's alone), German and
English messages, and the full round trip with the OCR worker."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from approvals.ocr.models import ReadStatus, ReceiptUpload
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/requests/receipts/read/"


def _post(client, data: bytes, name: str = "receipt.png", **extra):
    return client.post(URL, {"receipt": SimpleUploadedFile(name, data)}, **extra)


def _poll_until_done(client, url):
    def done():
        body = client.get(url).json()
        return body if body["done"] else None

    return wait_for(done, timeout=90, interval=0.7)


def test_a_chosen_receipt_is_read_and_filled_in_the_readers_language(demo_org, ocr_worker, drawn):
    sample = next(s for s, _ in drawn if s.language == "de")
    data = dict(drawn)[sample]
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE="de")
    response = _post(client, data)
    assert response.status_code == 202
    started = response.json()
    assert started["status"] == "pending" and started["poll_ms"] == 700
    assert started["message"] == "Beleg wird gelesen …"
    body = _poll_until_done(client, started["poll_url"])
    assert body["status"] == "read"
    german = f"{sample.amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    assert body["fields"]["amount"] == german
    assert body["fields"]["currency"] == sample.currency
    assert body["fields"]["date"] == sample.date.isoformat()
    assert body["fields"]["date_local"] == f"{sample.date:%d.%m.%Y}"
    assert body["fields"]["merchant"] == sample.merchant
    assert "prüfen" in body["message"]
    upload = ReceiptUpload.objects.get(token=started["token"])
    assert upload.owner == demo_org["emma"] and upload.kind == "png"
    name = upload.file.name
    assert name.startswith("receipts/pending/") and not name.endswith("/receipt.png")
    assert started["stash"]  # the line takes this file as its receipt: no second upload


def test_someone_elses_reading_is_a_404_like_a_missing_one(demo_org):
    upload = ReceiptUpload.objects.create(
        owner=demo_org["emma"], kind="png", size=1, sha256="0" * 64, status=ReadStatus.READ
    )
    url = f"{URL}{upload.token}/"
    assert client_for(demo_org["emma"]).get(url).status_code == 200
    for other in ("finn", "max", "admin"):
        assert client_for(demo_org[other]).get(url).status_code == 404
    assert client_for(demo_org["emma"]).get(f"{URL}not-a-token/").status_code == 404
    assert client_for(demo_org["emma"]).get(f"{URL}{'0' * 32}/").status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "data,name,words",
    [
        (b"MZ\x90\x00 not a receipt", "receipt.png", "must be a PDF, JPEG, PNG or WebP"),
        (b"", "empty.png", "The receipt file is empty."),
        (b"%PDF-1.4 no end marker", "r.pdf", "must be a PDF, JPEG, PNG or WebP"),
        (b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), "big.jpg", "larger than 10 MB"),
    ],
    ids=["exe", "empty", "fake-pdf", "too-big"],
)
def test_a_bad_file_gets_words_not_a_500(demo_org, data, name, words, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    response = _post(client_for(demo_org["emma"]), data, name)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert not ReceiptUpload.objects.exists()


def test_no_file_and_german_words(demo_org):
    client = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE="de")
    response = client.post(URL, {})
    assert response.status_code == 400
    assert response.json()["error"] == "Wählen Sie eine Belegdatei (PDF, JPEG oder PNG)."


def test_the_upload_needs_the_csrf_token(demo_org, drawn):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_org["emma"])
    assert _post(client, drawn[0][1]).status_code == 403
    assert not ReceiptUpload.objects.exists()


def test_without_tesseract_the_form_is_told_to_fill_by_hand(demo_org, drawn, monkeypatch):
    from approvals.ocr import engine

    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    response = _post(client_for(demo_org["emma"]), drawn[0][1])
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["done"]) == ("unavailable", True)
    assert body["message"].startswith("Reading receipts is not available")


def test_with_temporal_away_the_upload_is_kept_and_says_so(demo_org, drawn, settings):
    from approvals.temporal import client as temporal_client

    settings.TEMPORAL_ADDRESS = "127.0.0.1:1"
    settings.TEMPORAL_CALL_TIMEOUT = 2
    temporal_client.reset_client()
    try:
        response = _post(client_for(demo_org["emma"]), drawn[0][1])
    finally:
        temporal_client.reset_client()
    assert response.status_code == 202
    assert response.json()["status"] == "unavailable"
    assert ReceiptUpload.objects.get().status == ReadStatus.UNAVAILABLE
