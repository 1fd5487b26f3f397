"""Employee pages: /requests/, /requests/new/, /requests/<pk>/ with withdraw and resubmit.

Each view is checked as a full page and as an htmx partial (HX-Request: true),
every form field with bad input, and who may see or change a request.
"""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Delegation
from approvals import services
from approvals.models import ExpenseRequest, PolicyVersion
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for
from tests.support.web import client_for

HTMX = {"HX-Request": "true"}
NEW = "/requests/new/"
VALID = {
    "title": "Conference ticket",
    "amount": "120.50",
    "currency": "EUR",
    "category": "training",
    "description": "PyCon",
}


def real_pdf() -> bytes:
    """A minimal but well-formed one-page PDF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def real_png() -> bytes:
    """A valid 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def emma_client(demo_org):
    return client_for(demo_org["emma"])


def post_new(client: Client, htmx: bool = False, **changes):
    data = {**VALID, **changes}
    return client.post(NEW, data, headers=HTMX if htmx else {})


def error_of(response, field: str) -> str:
    html = response.content.decode()
    marker = f'data-testid="error-{field}">'
    assert marker in html, f"no inline error for {field}"
    return html.split(marker, 1)[1].split("</p>", 1)[0]


# ------------------------------------------------------------------ the form page
@pytest.mark.django_db
def test_new_request_page_offers_the_contract_fields_with_eur_default(emma_client):
    response = emma_client.get(NEW)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    # DESIGN §2 Expense reports: title and description, the lines as a formset `lines`.
    for name in ("title", "description", "lines-TOTAL_FORMS", "lines-INITIAL_FORMS"):
        assert f'name="{name}"' in html
    for name in ("date", "merchant", "category", "amount", "currency", "vat", "description"):
        assert f'name="lines-0-{name}"' in html
    assert 'name="lines-0-receipt"' in html and 'name="lines-0-attendees"' in html
    assert '<option value="EUR" selected>' in html
    assert 'enctype="multipart/form-data"' in html


@pytest.mark.django_db
def test_new_request_htmx_get_returns_the_empty_form_partial(emma_client):
    response = emma_client.get(NEW, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<form id="expense-form"')
    assert 'name="lines-0-amount"' in html and 'data-testid="error-' not in html


@pytest.mark.django_db
def test_new_request_page_needs_login(client, demo_org):
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_invalid_htmx_post_returns_form_partial_with_errors_and_typed_values(emma_client):
    response = post_new(emma_client, htmx=True, amount="-5", title="Hotel in Lyon")
    html = response.content.decode()
    assert response.status_code == 200  # htmx 2 swaps only 2xx answers
    assert "<html" not in html and 'id="expense-form"' in html
    assert "greater than zero" in error_of(response, "amount")
    assert 'value="Hotel in Lyon"' in html
    assert 'value="-5"' in html
    assert "PyCon</textarea>" in html
    assert '<option value="training" selected>' in html
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_invalid_plain_post_returns_400_full_page_with_typed_values(emma_client):
    response = post_new(emma_client, amount="abc", title="Hotel in Lyon")
    html = response.content.decode()
    assert response.status_code == 400
    assert "<html" in html
    assert "such as 1,450.00" in error_of(response, "amount")
    assert 'value="Hotel in Lyon"' in html and 'value="abc"' in html
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "such as 1,450.00"),  # wrong type
        ("12,50", "Write 12.50"),  # written the German way: shown the English way
        ("1.234", "can be read two ways"),  # 1234 or 1.234?
        ("NaN", "such as 1,450.00"),
        ("Infinity", "such as 1,450.00"),
        ("1e30", "such as 1,450.00"),  # no exponents
        ("-5", "greater than zero"),  # negative
        ("0", "greater than zero"),  # zero
        ("0.00", "greater than zero"),
        ("0.001", "at most two decimals"),
        ("1.2345", "at most two decimals"),  # too many decimals
        ("1000000.01", "at most 1,000,000.00"),  # too large
        ("99999999999999999999", "at most 1,000,000.00"),
        ("", "required"),
    ],
)
def test_bad_amount_is_refused_inline(emma_client, amount, message):
    response = post_new(emma_client, htmx=True, amount=amount)
    assert response.status_code == 200
    assert message in error_of(response, "amount")
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_amount_bounds_accept_one_cent_the_maximum_and_trailing_zeros(emma_client):
    for amount in ("0.01", "1000000.00", "12.5000"):
        response = post_new(emma_client, amount=amount)
        assert response.status_code == 302, amount
    assert sorted(ExpenseRequest.objects.values_list("amount", flat=True)) == [
        Decimal("0.01"),
        Decimal("12.50"),
        Decimal("1000000.00"),
    ]


@pytest.mark.django_db
def test_amount_maximum_follows_the_policy(emma_client):
    version = PolicyVersion.objects.get(number=1)  # the published version in force
    PolicyVersion.objects.filter(pk=version.pk).update(
        rules={**version.rules, "max_amount_cents": 500_000}
    )
    response = post_new(emma_client, htmx=True, amount="5000.01")
    assert "at most 5,000.00" in error_of(response, "amount")
    assert post_new(emma_client, amount="5000.00").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "message"),
    [("", "required"), ("   ", "required"), ("x" * 201, "at most 200 characters")],
)
def test_bad_title_is_refused_inline(emma_client, title, message):
    response = post_new(emma_client, htmx=True, title=title)
    assert message in error_of(response, "title")
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("currency", ["XXX", "eur", "", "EURO"])
def test_unknown_currency_is_refused_inline(emma_client, currency):
    response = post_new(emma_client, htmx=True, currency=currency)
    assert error_of(response, "currency")
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("category", ["bogus", "", "Travel"])
def test_unknown_category_is_refused_inline(emma_client, category):
    response = post_new(emma_client, htmx=True, category=category)
    assert error_of(response, "category")
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_overlong_description_is_refused_and_kept(emma_client):
    text = "y" * 2001
    response = post_new(emma_client, htmx=True, description=text)
    assert "at most 2000" in error_of(response, "description")
    assert f"{text}</textarea>" in response.content.decode()
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_description_of_2000_characters_with_browser_line_breaks_is_accepted(emma_client):
    text = ("a" * 99 + "\r\n") * 19 + "a" * 100  # 2000 characters as a browser counts them
    assert post_new(emma_client, description=text).status_code == 302
    saved = ExpenseRequest.objects.get()
    assert len(saved.description) == 2000 and "\r" not in saved.description


@pytest.mark.django_db
def test_markup_in_typed_values_and_errors_comes_back_escaped(emma_client):
    evil = '<script>alert("x")</script>'
    response = post_new(
        emma_client, htmx=True, title=evil, description=evil, currency=evil, amount="abc"
    )
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;script&gt;" in error_of(response, "currency")  # the choice error quotes it


@pytest.mark.django_db
def test_markup_in_a_saved_request_is_escaped_on_list_and_detail(emma_client):
    evil = "<img src=x onerror=alert(1)>"
    response = post_new(emma_client, title=evil, description=evil)
    assert response.status_code == 302
    pk = ExpenseRequest.objects.get().pk
    for url in ("/requests/", f"/requests/{pk}/"):
        html = emma_client.get(url).content.decode()
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


# ------------------------------------------------------------------ receipts
@pytest.mark.django_db
def test_real_pdf_named_png_is_accepted_and_stored_as_pdf(emma_client, media):
    pdf = real_pdf()
    response = post_new(emma_client, receipt=upload("scan.png", pdf, "image/png"))
    assert response.status_code == 302
    saved = ExpenseRequest.objects.get()
    assert saved.receipt.name.startswith("receipts/") and saved.receipt.name.endswith(".pdf")
    assert "scan" not in saved.receipt.name  # the typed name never reaches the disk
    with default_storage.open(saved.receipt.name) as stored:
        assert stored.read() == pdf
    assert (media / saved.receipt.name).is_file()


@pytest.mark.django_db
def test_real_png_receipt_is_accepted(emma_client, media):
    response = post_new(emma_client, receipt=upload("photo.png", real_png(), "image/png"))
    assert response.status_code == 302
    assert ExpenseRequest.objects.get().receipt.name.endswith(".png")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"just some text, not a document\n"),
        ("invoice.pdf", b"<html><script>alert(1)</script></html>"),
        ("invoice.pdf", b"%PDF-1.7\nthis header is followed by nothing a reader accepts"),
        ("invoice.pdf", real_png()),  # a PNG pretending to be a PDF
        ("invoice.png", b"\x89PNG\r\n\x1a\n but no header chunk"),
        ("invoice.exe", b"MZ\x90\x00"),
        ("empty.pdf", b""),
    ],
)
def test_fake_receipt_is_refused_and_other_values_are_kept(emma_client, media, name, content):
    response = post_new(emma_client, htmx=True, receipt=upload(name, content), title="Taxi")
    assert response.status_code == 200
    assert error_of(response, "receipt")
    assert 'value="Taxi"' in response.content.decode()
    assert not ExpenseRequest.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.django_db
def test_receipt_over_10_mb_is_refused(emma_client, media):
    body = real_pdf()
    big = body[:-6] + b" " * (10 * 1024 * 1024 - len(body) + 1) + body[-6:]
    response = post_new(emma_client, htmx=True, receipt=upload("big.pdf", big))
    assert "larger than 10 MB" in error_of(response, "receipt")
    assert not ExpenseRequest.objects.exists()


@pytest.mark.django_db
def test_form_error_asks_to_choose_the_valid_receipt_again(emma_client, media):
    response = post_new(emma_client, htmx=True, amount="0", receipt=upload("ok.pdf", real_pdf()))
    assert 'data-testid="reattach"' in response.content.decode()


# ------------------------------------------------------------------ my requests
@pytest.mark.django_db
def test_my_requests_lists_only_my_own_with_status_badges(demo_org, emma_client):
    mine = submit(demo_org["emma"], "80.00", title="Emma lunch")
    submit(demo_org["finn"], "90.00", title="Finn lunch")
    response = emma_client.get("/requests/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "Emma lunch" in html and "Finn lunch" not in html
    assert f'id="status-{mine.pk}"' in html
    assert 'data-testid="status" data-status="queued">queued<' in html


@pytest.mark.django_db
def test_my_requests_htmx_returns_the_table_partial(demo_org, emma_client):
    submit(demo_org["emma"], "80.00", title="Emma lunch")
    response = emma_client.get("/requests/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="request-table"')
    assert "Emma lunch" in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_my_requests_history_restore_gets_the_full_page(emma_client):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    assert "<html" in emma_client.get("/requests/", headers=headers).content.decode()


@pytest.mark.django_db
def test_status_filter_shows_only_that_status(demo_org, emma_client):
    queued = submit(demo_org["emma"], "80.00", title="Queued one")
    other = submit(demo_org["emma"], "70.00", title="Withdrawn one")
    ExpenseRequest.objects.filter(pk=other.pk).update(status="withdrawn")
    html = emma_client.get("/requests/?status=withdrawn", headers=HTMX).content.decode()
    assert "Withdrawn one" in html and "Queued one" not in html
    html = emma_client.get("/requests/?status=approved").content.decode()
    assert "No requests with this status." in html
    html = emma_client.get("/requests/?status=queued").content.decode()
    assert f'data-request-id="{queued.pk}"' in html


@pytest.mark.django_db
def test_unknown_status_filter_shows_everything_instead_of_failing(demo_org, emma_client):
    submit(demo_org["emma"], "80.00", title="Visible")
    response = emma_client.get("/requests/?status=%3Cscript%3E")
    assert response.status_code == 200
    assert "Visible" in response.content.decode()
    assert "<script>" not in response.content.decode().split("<body", 1)[1]


# ------------------------------------------------------- with the real workflow
def pending_request(demo_org, amount="5000.00"):
    """A request whose chain the projection already shows (level 1 awaits max)."""
    request = submit(demo_org["emma"], amount, title="Team offsite")
    wait_for(
        lambda: ExpenseRequest.objects.filter(
            pk=request.pk, status="pending", pending_approvers=["max"]
        ).exists()
    )
    request.refresh_from_db()
    return request


@pytest.mark.django_db(transaction=True)
def test_submit_starts_the_workflow_and_redirects_to_the_detail(demo_org, worker, emma_client):
    response = post_new(emma_client, amount="5000.00")
    expense = ExpenseRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{expense.pk}/"
    expense.refresh_from_db()
    assert expense.workflow_started_at is not None
    page = emma_client.get(response["Location"]).content.decode()
    assert f"Your request #{expense.pk} was submitted." in page


@pytest.mark.django_db(transaction=True)
def test_htmx_submit_answers_with_hx_redirect(demo_org, worker, emma_client):
    response = post_new(emma_client, htmx=True)
    expense = ExpenseRequest.objects.get()
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("request-detail", args=[expense.pk])


@pytest.mark.django_db(transaction=True)
def test_detail_shows_chain_with_approver_decision_comment_deadline(demo_org, worker, emma_client):
    request = pending_request(demo_org)
    services.decision_record(
        request=request, actor=demo_org["max"], action="approve", comment="Fine by me"
    )
    wait_pending_level(request, 2)
    wait_for(lambda: request.audit.filter(kind="assigned", level=2).exists())
    response = emma_client.get(f"/requests/{request.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    level1 = html.split('data-level="1"', 1)[1].split("</li>", 1)[0]
    level2 = html.split('data-level="2"', 1)[1].split("</li>", 1)[0]
    assert 'data-status="approved"' in level1 and "Max Müller" in level1  # display names
    assert "Fine by me" in level1
    assert 'data-status="pending"' in level2 and "Diana Dietrich" in level2
    assert "<time datetime=" in level2  # the deadline of the level awaiting a decision
    history = html.split('data-testid="history"', 1)[1]
    assert 'data-kind="submitted"' in history and 'data-kind="decided"' in history
    assert 'data-testid="withdraw"' in html


@pytest.mark.django_db(transaction=True)
def test_detail_htmx_returns_the_body_partial(demo_org, worker, emma_client):
    request = pending_request(demo_org)
    response = emma_client.get(f"/requests/{request.pk}/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="request-body"')
    assert f'id="status-{request.pk}"' in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("username", "delegated_by", "expected"),
    [
        ("emma", None, 200),  # requester
        ("max", None, 200),  # level 1 approver
        ("diana", None, 200),  # level 2 approver
        ("admin", None, 200),
        ("maria", "max", 200),  # max's delegate while he is away
        ("maria", None, 404),  # another manager
        ("finn", None, 404),  # another employee
        ("victor", None, 404),  # above the chain of a two-level request
    ],
)
def test_who_may_see_a_request(demo_org, worker, username, delegated_by, expected):
    request = pending_request(demo_org)
    if delegated_by:
        today = timezone.localdate()
        Delegation.objects.create(
            user=demo_org[delegated_by],
            delegate=demo_org[username],
            starts_on=today,
            ends_on=today + timedelta(days=3),
        )
    client = client_for(demo_org[username])
    assert client.get(f"/requests/{request.pk}/").status_code == expected
    assert client.get(f"/requests/{request.pk}/", headers=HTMX).status_code == expected


@pytest.mark.django_db
def test_anonymous_and_missing_requests(client, demo_org, emma_client):
    request = submit(demo_org["emma"], "10.00")
    response = client.get(f"/requests/{request.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert emma_client.get("/requests/999999/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_only_the_requester_may_withdraw_or_resubmit(demo_org, worker):
    request = pending_request(demo_org)
    for username, expected in [("max", 403), ("diana", 403), ("admin", 403), ("finn", 404)]:
        client = client_for(demo_org[username])
        for action, data in [("withdraw", {}), ("resubmit", {"title": "x", "amount": "1"})]:
            response = client.post(f"/requests/{request.pk}/{action}/", data)
            assert response.status_code == expected, (username, action)
    assert Client().post(f"/requests/{request.pk}/withdraw/").status_code == 302
    request.refresh_from_db()
    assert request.status == "pending"
    assert services.status_query(request).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_withdraw_while_pending_as_htmx_returns_the_updated_body(demo_org, worker, emma_client):
    request = pending_request(demo_org)
    response = emma_client.post(f"/requests/{request.pk}/withdraw/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert (
        f'id="status-{request.pk}" class="badge s-withdrawn" data-testid="status" '
        'data-status="withdrawn">withdrawn<' in html
    )
    assert 'data-testid="withdraw"' not in html
    assert "Your request was withdrawn." in html  # out-of-band into #messages
    wait_status(request, "withdrawn")


@pytest.mark.django_db(transaction=True)
def test_withdraw_while_pending_as_plain_post_redirects_to_the_detail(
    demo_org, worker, emma_client
):
    request = pending_request(demo_org)
    response = emma_client.post(f"/requests/{request.pk}/withdraw/")
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    wait_status(request, "withdrawn")
    html = emma_client.get(response["Location"]).content.decode()
    assert "Your request was withdrawn." in html
    assert 'data-testid="status" data-status="withdrawn">withdrawn<' in html


@pytest.mark.django_db(transaction=True)
def test_withdraw_after_approval_is_refused_with_a_message(demo_org, worker, emma_client):
    request = submit(demo_org["emma"], "50.00")
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=demo_org["max"], action="approve")
    wait_status(request, "approved")
    response = emma_client.post(f"/requests/{request.pk}/withdraw/", follow=True)
    assert "can no longer be withdrawn" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "approved"


@pytest.mark.django_db(transaction=True)
def test_resubmit_after_changes_requested(demo_org, worker, emma_client):
    request = pending_request(demo_org, "1500.00")
    services.decision_record(
        request=request, actor=demo_org["max"], action="request_changes", comment="Split it"
    )
    wait_status(request, "changes_requested")
    url = f"/requests/{request.pk}/"
    assert 'data-testid="resubmit-form"' in emma_client.get(url).content.decode()

    # A bad amount is refused by the form, inline, keeping the typed title.
    response = emma_client.post(
        f"{url}resubmit/", {"title": "Offsite, part 1", "amount": "0"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "greater than zero" in html and 'value="Offsite, part 1"' in html

    response = emma_client.post(
        f"{url}resubmit/", {"title": "Offsite, part 1", "amount": "750.00", "comment": "Split"}
    )
    assert response.status_code == 302
    request = wait_status(request, "pending")
    assert request.amount == Decimal("750.00") and request.title == "Offsite, part 1"
    state = wait_pending_level(request, 1)
    assert state.round == 2 and state.pending_approvers == ["max"]


@pytest.mark.django_db(transaction=True)
def test_workflow_validator_refusal_is_shown_inline_on_resubmit(demo_org, worker, emma_client):
    request = pending_request(demo_org, "1500.00")
    services.decision_record(
        request=request, actor=demo_org["max"], action="request_changes", comment="Why?"
    )
    wait_status(request, "changes_requested")
    url = f"/requests/{request.pk}/resubmit/"
    data = {"title": "Offsite", "amount": "900.00"}
    assert emma_client.post(url, data).status_code == 302
    # A second tab still shows the form: the workflow, not the page, says no.
    response = emma_client.post(url, data)
    assert response.status_code == 400
    errors = response.content.decode().split('data-testid="resubmit-errors"', 1)[1]
    assert "Changes were not requested on this request." in errors.split("</div>", 1)[0]
    response = emma_client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert "Changes were not requested on this request." in response.content.decode()


# ------------------------------------------------------- receipt download, paging
@pytest.mark.django_db
def test_receipt_downloads_for_who_may_see_the_request_and_404_for_others(demo_org, media):
    emma = client_for(demo_org["emma"])
    pdf = real_pdf()
    assert post_new(emma, receipt=upload("scan.pdf", pdf, "application/pdf")).status_code == 302
    expense = ExpenseRequest.objects.get()
    response = emma.get(f"/requests/{expense.pk}/receipt/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf
    assert f'filename="receipt-{expense.pk}.pdf"' in response["Content-Disposition"]
    assert client_for(demo_org["finn"]).get(f"/requests/{expense.pk}/receipt/").status_code == 404
    assert client_for(demo_org["admin"]).get(f"/requests/{expense.pk}/receipt/").status_code == 200
    assert post_new(emma).status_code == 302
    without = ExpenseRequest.objects.exclude(pk=expense.pk).get()
    assert emma.get(f"/requests/{without.pk}/receipt/").status_code == 404


@pytest.mark.django_db
def test_my_requests_are_paginated_with_the_filter_kept(demo_org, emma_client):
    for n in range(55):
        ExpenseRequest.objects.create(
            requester=demo_org["emma"],
            title=f"r{n}",
            amount=Decimal("10.00"),
            category="travel",
            status="pending",
        )
    first = emma_client.get("/requests/?status=pending")
    assert first.content.decode().count('data-testid="request-row"') == 50
    assert 'href="?status=pending&amp;page=2"' in first.content.decode()
    second = emma_client.get("/requests/?status=pending&page=2")
    assert second.content.decode().count('data-testid="request-row"') == 5
    assert emma_client.get("/requests/?page=abc").status_code == 200
