"""Expense reports with lines made straight through the ORM (the submit form's formset and
service are another part of issue 26), with receipts the suite renders itself."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from approvals.models import ExpenseLine, ExpenseRequest

# emma's trip (issue 26): three EUR receipts and a dinner in GBP (1 EUR = 0.85 GBP).
TRIP = [
    {"merchant": "Taxi Berlin", "amount": "38.50", "category": "travel", "vat": "2.52"},
    {"merchant": "Hotel Adlon", "amount": "312.00", "category": "travel", "vat": "20.41"},
    {"merchant": "Deutsche Bahn", "amount": "89.90", "category": "travel"},
    {
        "merchant": "The Ivy",
        "amount": "124.00",
        "currency": "GBP",
        "base_amount_cents": 14588,
        "category": "meals",
        "attendees": "Jane Client, Emma Engel",
        "description": "Dinner with the client",
    },
]


def receipt_png(colour=(20, 20, 20), size=(900, 1400)) -> bytes:
    """A receipt-like image: white paper with a dark block where the total is."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 4, size[1] // 3, size[0] * 3 // 4, size[1] * 2 // 3), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def receipt_pdf(pages: int = 2) -> bytes:
    """A PDF whose first page is mostly black and whose later pages are white."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    for page in range(pages):
        if page == 0:
            pdf.setFillColorRGB(0, 0, 0)
            pdf.rect(0, 0, width, height, fill=1, stroke=0)
        else:
            pdf.drawString(72, 72, f"page {page + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def add_line(request: ExpenseRequest, n: int, receipt: bytes | None = None, suffix=".png", **f):
    currency = f.pop("currency", "EUR")
    amount = Decimal(f.pop("amount", "10.00"))
    vat = f.pop("vat", None)
    line = ExpenseLine(
        request=request,
        position=n,
        date=f.pop("date", date(2026, 12, n)),
        merchant=f.pop("merchant", f"Merchant {n}"),
        category=f.pop("category", "travel"),
        amount=amount,
        currency=currency,
        vat=Decimal(vat) if vat is not None else None,
        base_amount_cents=f.pop(
            "base_amount_cents", int(amount * 100) if currency == "EUR" else None
        ),
        **f,
    )
    if receipt is not None:
        line.receipt_sha256 = hashlib.sha256(receipt).hexdigest()
        line.receipt.save(f"r{suffix}", ContentFile(receipt), save=False)
    line.save()
    return line


def make_report(
    requester, lines=TRIP, *, approver="max", status="pending", title="Trip to Berlin"
) -> ExpenseRequest:
    """A report pending at level 1 with `approver` (nothing runs: a page's view of it)."""
    request = ExpenseRequest.objects.create(
        requester=requester,
        title=title,
        amount=Decimal("564.40"),
        currency="EUR",
        category="travel",
        status=status,
        current_level=1,
        levels=1,
        pending_approvers=[approver] if status == "pending" else [],
        chain_usernames=[approver],
        base_amount_cents=56440,
    )
    set_lines(request, lines)
    return request


def set_lines(request: ExpenseRequest, lines=TRIP, receipts: bool = True) -> list[ExpenseLine]:
    """Replace the request's lines (whatever a submit made) with `lines`, each with a receipt."""
    ExpenseLine.objects.filter(request=request).delete()
    shades = [(20, 20, 20), (200, 30, 30), (30, 160, 30), (30, 30, 200)]
    return [
        add_line(
            request,
            n,
            receipt_png(shades[(n - 1) % 4], size=(300 + n, 400)) if receipts else None,
            **dict(spec),
        )
        for n, spec in enumerate(lines, start=1)
    ]
