"""Everything needed to decide, on one screen (issue 26): a report's lines on the request
page and the mail link page, with receipt previews, the approved total, the per-line
reject controls for the approver who decides now, rejected lines with who and why; the
receipt and preview views with today's access rule; the mails list the lines."""

from __future__ import annotations

import io
import re
import shutil
import sys
import warnings
from datetime import date

import pytest
from asgiref.sync import async_to_sync
from django.core import mail
from django.core.files.base import ContentFile
from django.test import AsyncClient, Client
from django.urls import reverse
from PIL import Image

from accounts.models import Delegation
from approvals.effects import notifications
from approvals.links import LinkClaim, make_token
from approvals.models import ExpenseLine
from approvals.receipt_preview import MAX_SIDE, render_preview
from approvals.workflow.contract import StepEvent
from tests.approvals.temporal.test_activities import transition
from tests.support.lines import add_line, make_report, receipt_pdf, receipt_png
from tests.support.web import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def page(user, pk, language="en") -> str:
    client = client_for(user)
    response = client.get(f"/requests/{pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def line_html(html: str, n: int) -> str:
    start = html.index(f'data-testid="line" data-line="{n}"')
    return html[start : html.index("</li>", start)]


def decision_form(html: str) -> str:
    start = html.rindex("<form", 0, html.index('data-testid="decision-form"'))
    return html[start : html.index("</form>", start)]


# ---------------------------------------------------------------- the request page
def test_the_approver_sees_every_line_with_its_receipt_and_the_totals(demo_org):
    report = make_report(demo_org["emma"])
    html = page(demo_org["max"], report.pk)
    assert html.count('data-testid="line"') == 4
    taxi, dinner = line_html(html, 1), line_html(html, 4)
    assert "Taxi Berlin" in taxi and "38.50 EUR" in taxi and "VAT 2.52 EUR" in taxi
    assert 'datetime="2026-12-01"' in taxi
    assert "124.00 GBP" in dinner and "≈ 145.88 EUR" in dinner
    assert "Jane Client, Emma Engel" in dinner and "Dinner with the client" in dinner
    for n in (1, 2, 3, 4):
        preview = f"/requests/{report.pk}/lines/{n}/receipt/preview.png"
        assert f'data-testid="receipt-preview" src="{preview}"' in line_html(html, n)
        assert f'href="/requests/{report.pk}/lines/{n}/receipt/"' in line_html(html, n)
    approved = html.split('data-testid="approved-total"', 1)[1].split("</dd>", 1)[0]
    # 38.50 + 312.00 + 89.90 EUR + 145.88 EUR (124.00 GBP at the pinned rate)
    assert "586.28 EUR" in approved and "440.40 EUR + 124.00 GBP" in approved


def test_the_page_reads_in_german(demo_org):
    report = make_report(demo_org["emma"])
    html = page(demo_org["max"], report.pk, "de")
    assert "312,00 EUR" in line_html(html, 2) and "USt. 20,41 EUR" in line_html(html, 2)
    assert "01.12.2026" in line_html(html, 1)
    assert "Genehmigter Gesamtbetrag" in html and "586,28 EUR" in html
    assert "Diese Position ablehnen" in line_html(html, 1)
    assert "Beleg zu Position 1" in line_html(html, 1)


def test_reject_line_controls_belong_to_the_decision_form_of_the_approver_only(demo_org):
    report = make_report(demo_org["emma"])
    html = page(demo_org["max"], report.pk)
    form_id = f"decide-{report.pk}-1"
    assert f'id="{form_id}"' in decision_form(html)
    for n in (1, 2, 3, 4):
        line = line_html(html, n)
        assert re.search(
            rf'<input type="checkbox" name="reject_line" value="{n}"[^>]*data-testid="reject-line"'
            rf' form="{form_id}">',
            line,
        ), line
        assert f'name="line_reason_{n}"' in line and f'form="{form_id}"' in line
    # The requester, another employee's view (admin) and a closed report: no controls.
    assert 'data-testid="reject-line"' not in page(demo_org["emma"], report.pk)
    assert 'data-testid="reject-line"' not in page(demo_org["admin"], report.pk)
    assert "Taxi Berlin" in page(demo_org["emma"], report.pk)


def test_a_rejected_line_is_struck_through_with_who_level_and_reason_and_out_of_the_total(
    demo_org,
):
    report = make_report(demo_org["emma"])
    ExpenseLine.objects.filter(request=report, position=4).update(
        status="rejected", rejected_level=1, rejected_by="max", rejection_reason="No client dinners"
    )
    html = page(demo_org["emma"], report.pk)
    dinner = html.split('data-testid="line" data-line="4"', 1)[1].split("</li>", 1)[0]
    assert 'data-status="rejected"' in html.split('data-line="4"', 1)[1][:40]
    assert "Rejected by max at level 1" in dinner and "No client dinners" in dinner
    assert 'class="line rejected"' in html
    approved = html.split('data-testid="approved-total"', 1)[1].split("</dd>", 1)[0]
    assert "440.40 EUR" in approved and "GBP" not in approved and "3 lines" in approved
    total = html.split('data-testid="lines-total"', 1)[1].split("</dd>", 1)[0]
    assert "586.28 EUR" in total
    # The approver of a later level gets no control for the rejected line.
    ExpenseLine.objects.filter(request=report).update()
    report.pending_approvers, report.current_level = ["diana"], 2
    report.chain_usernames = ["max", "diana"]
    report.save()
    later = page(demo_org["diana"], report.pk)
    assert 'name="reject_line" value="4"' not in later
    assert 'name="reject_line" value="1"' in later


def test_the_budget_left_after_the_report_is_shown_while_it_waits(demo_org):
    from payouts.selectors import budgets_left

    report = make_report(demo_org["emma"])
    left = budgets_left(["emma"])
    html = page(demo_org["max"], report.pk)
    if "emma" not in left:
        assert 'data-testid="budget-left"' not in html
        pytest.skip("emma has no cost centre in this demo organisation")
    from approvals.templatetags.amounts import eur_cents

    words = html.split('data-testid="budget-left">', 1)[1].split("</p>", 1)[0]
    assert eur_cents(left["emma"] - 58628) in words


# ---------------------------------------------------------------- receipts and previews
def test_receipt_and_preview_follow_the_request_pages_access_rule(demo_org):
    report = make_report(demo_org["emma"])
    url = f"/requests/{report.pk}/lines/2/receipt/preview.png"
    full = f"/requests/{report.pk}/lines/2/receipt/"
    for who in ("emma", "max", "admin"):
        assert client_for(demo_org[who]).get(url).status_code == 200, who
        assert client_for(demo_org[who]).get(full).status_code == 200, who
    for who in ("finn", "maria", "fiona"):
        assert client_for(demo_org[who]).get(url).status_code == 404, who
        assert client_for(demo_org[who]).get(full).status_code == 404, who
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Client().get(full).status_code == 302
    # A delegate of the approver, while the level waits on the principal.
    Delegation.objects.create(
        user=demo_org["max"],
        delegate=demo_org["maria"],
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
    )
    assert client_for(demo_org["maria"]).get(url).status_code == 200
    # A line without receipt, a line that does not exist.
    add_line(report, 5, None)
    assert (
        client_for(demo_org["emma"])
        .get(f"/requests/{report.pk}/lines/5/receipt/preview.png")
        .status_code
        == 404
    )
    assert (
        client_for(demo_org["emma"]).get(f"/requests/{report.pk}/lines/9/receipt/").status_code
        == 404
    )


def test_under_asgi_a_receipt_streams_through_an_async_iterator(demo_org):
    """Served by ASGI (AsyncClient: an ASGIRequest, as under uvicorn) the receipt is read a
    block at a time by an async iterator: no "must consume synchronous iterators" warning
    (Django would read the whole file into memory first), the same headers and bytes."""
    report = make_report(demo_org["emma"])
    client = AsyncClient()
    client.force_login(demo_org["max"])

    async def download(url: str):
        response = await client.get(url)
        return response, b"".join([part async for part in response.streaming_content])

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="StreamingHttpResponse must consume")
        for url, name in (
            (f"/requests/{report.pk}/lines/2/receipt/", f"receipt-{report.pk}-2"),
            (f"/requests/{report.pk}/receipt/?line=2", f"receipt-{report.pk}-2"),
        ):
            response, body = async_to_sync(download)(url)
            assert response.status_code == 200 and response.is_async, url
            line = ExpenseLine.objects.get(request=report, position=2)
            with line.receipt.open("rb") as handle:
                assert body == handle.read()
            assert response["Content-Length"] == str(len(body))
            assert name in response["Content-Disposition"]


def test_the_preview_is_a_private_png_of_at_most_600_px_cached_by_hash(demo_org, media):
    report = make_report(demo_org["emma"])
    response = client_for(demo_org["max"]).get(f"/requests/{report.pk}/lines/1/receipt/preview.png")
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and max(image.size) <= MAX_SIDE
    # 301x400 is kept as it is: a preview never enlarges.
    assert image.size == (301, 400)
    line = ExpenseLine.objects.get(request=report, position=1)
    cached = list((media / "thumbs").rglob(f"{line.receipt_sha256}*.png"))
    assert len(cached) == 1 and cached[0].read_bytes() == response.content
    # The original receipt is served whole, as what its bytes are.
    full = client_for(demo_org["max"]).get(f"/requests/{report.pk}/lines/1/receipt/")
    assert full["Content-Type"] == "image/png" and full["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in full["Content-Security-Policy"]
    assert full["Cache-Control"].startswith("private")
    with line.receipt.open("rb") as handle:
        assert b"".join(full.streaming_content) == handle.read()


def test_a_large_photo_is_scaled_to_600_px():
    png = render_preview(receipt_png(size=(2400, 3200)))
    image = Image.open(io.BytesIO(png))
    assert image.size == (450, 600)


def test_a_pdf_receipt_shows_its_first_page(demo_org):
    report = make_report(demo_org["emma"], lines=[{"merchant": "Hotel"}])
    ExpenseLine.objects.filter(request=report).delete()
    add_line(report, 1, receipt_pdf(pages=2), suffix=".pdf")
    client = client_for(demo_org["max"])
    response = client.get(f"/requests/{report.pk}/lines/1/receipt/preview.png")
    assert response.status_code == 200 and "X-Receipt-Preview" not in response
    image = Image.open(io.BytesIO(response.content)).convert("L")
    assert max(image.size) == MAX_SIDE and image.size[1] > image.size[0]  # A4, upright
    # The first page is black; the second (white) would give a light image.
    assert image.getpixel((image.size[0] // 2, image.size[1] // 2)) < 40
    full = client.get(f"/requests/{report.pk}/lines/1/receipt/")
    assert full["Content-Type"] == "application/pdf"


def test_without_the_pypdfium2_wheel_poppler_renders_the_first_page(monkeypatch):
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed (make poppler)")
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # import fails
    image = Image.open(io.BytesIO(render_preview(receipt_pdf(pages=2)))).convert("L")
    assert max(image.size) == MAX_SIDE and image.size[1] > image.size[0]
    assert image.getpixel((image.size[0] // 2, image.size[1] // 2)) < 40


@pytest.mark.parametrize(
    "content",
    [b"not an image at all", b"%PDF-1.4 truncated", receipt_png()[:200], b""],
    ids=["garbage", "broken-pdf", "truncated-png", "empty"],
)
def test_a_corrupt_receipt_gets_a_placeholder_never_a_500(demo_org, content):
    report = make_report(demo_org["emma"], lines=[{"merchant": "Kiosk"}])
    line = ExpenseLine.objects.get(request=report)
    line.receipt_sha256 = ""
    line.receipt.save("bad.png", ContentFile(content), save=True)
    response = client_for(demo_org["emma"]).get(
        f"/requests/{report.pk}/lines/1/receipt/preview.png"
    )
    assert response.status_code == 200
    assert response["X-Receipt-Preview"] == "placeholder"
    assert Image.open(io.BytesIO(response.content)).format == "PNG"
    html = page(demo_org["emma"], report.pk)
    assert 'data-testid="receipt-preview"' in html


def test_a_receipt_whose_file_is_gone_gets_a_placeholder(demo_org, media):
    report = make_report(demo_org["emma"], lines=[{"merchant": "Kiosk"}])
    line = ExpenseLine.objects.get(request=report)
    (media / line.receipt.name).unlink()
    response = client_for(demo_org["emma"]).get(
        f"/requests/{report.pk}/lines/1/receipt/preview.png"
    )
    assert response.status_code == 200 and response["X-Receipt-Preview"] == "placeholder"
    assert (
        client_for(demo_org["emma"]).get(f"/requests/{report.pk}/lines/1/receipt/").status_code
        == 404
    )


def test_media_is_never_served_directly(demo_org, settings):
    report = make_report(demo_org["emma"], lines=[{"merchant": "Kiosk"}])
    line = ExpenseLine.objects.get(request=report)
    assert settings.MEDIA_URL == "/media/"
    for client in (Client(), client_for(demo_org["finn"]), client_for(demo_org["emma"])):
        assert client.get(f"/media/{line.receipt.name}").status_code == 404


# ---------------------------------------------------------------- mail link page and mails
def test_the_mail_links_confirmation_page_lists_the_lines_with_previews(demo_org):
    report = make_report(demo_org["emma"])
    claim = LinkClaim(
        username="max", request_id=report.pk, level=1, round=1, action="approve", decision_id="d1"
    )
    response = client_for(demo_org["max"]).get(reverse("decision-link", args=[make_token(claim)]))
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    assert html.count('data-testid="line"') == 4
    assert html.count('data-testid="receipt-preview"') == 4
    assert 'data-testid="approved-total"' in html and 'data-testid="reject-line"' not in html


def _assignment_mail(report, language):
    mail.outbox.clear()
    t = transition(report, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    return notifications.compose(t.events[0], t, "max", "", language)


def test_the_mail_lists_every_line_and_the_total_in_english_and_german(demo_org):
    report = make_report(demo_org["emma"])
    ExpenseLine.objects.filter(request=report, position=4).update(
        status="rejected", rejected_level=1, rejected_by="max", rejection_reason="No dinners"
    )
    english = _assignment_mail(report, "en")
    assert "1. 01/12/2026 Taxi Berlin: 38.50 EUR" in english.body
    assert "4. 04/12/2026 The Ivy: 124.00 GBP (rejected: No dinners)" in english.body
    assert "Total: 586.28 EUR" in english.body and "Approved total: 440.40 EUR" in english.body
    assert "Taxi Berlin" in english.html and "<s>124.00 GBP</s>" in english.html
    german = _assignment_mail(report, "de")
    assert "1. 01.12.2026 Taxi Berlin: 38,50 EUR" in german.body
    assert "(abgelehnt: No dinners)" in german.body
    assert "Summe: 586,28 EUR" in german.body
    assert "Genehmigter Gesamtbetrag: 440,40 EUR" in german.body
