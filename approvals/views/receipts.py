"""A line's receipt and its preview: /requests/<pk>/lines/<n>/receipt/ and .../preview.png.

The same rule as the report's page and its receipt download decides who may see
them (`selectors.access_request`: 404 for everyone else, login first for the
anonymous); nothing of a receipt is ever served from /media/. Answers are private
to the reader (`Cache-Control: private`) and never sniffed into another type.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.static_files import stream_blocks

from .. import receipt_preview, selectors
from ..models import ExpenseLine

# Shown in the browser rather than downloaded: types whose bytes were checked.
INLINE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf"}
PRIVATE = "private, max-age=300"


def file_response(request: HttpRequest, handle, **options) -> FileResponse:
    """A FileResponse (its length, type and file name from `handle`) that ASGI streams a
    block at a time (core/static_files.py); under WSGI the file as it is."""
    return stream_blocks(request, FileResponse(handle, **options))


def _line(request: HttpRequest, pk: int, n: int) -> ExpenseLine:
    expense = selectors.access_request(user=request.user, pk=pk)
    line = ExpenseLine.objects.filter(request=expense, position=n).first()
    if line is None or not line.receipt:
        raise Http404("No receipt")
    return line


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = PRIVATE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def line_receipt(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    """The line's receipt file: images and PDFs shown in the browser (sandboxed), any
    other bytes downloaded."""
    line = _line(request, pk, n)
    try:
        handle = line.receipt.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("No receipt") from exc
    head = handle.read(16)
    handle.seek(0)
    kind = receipt_preview.sniff(head)
    suffix = Path(line.receipt.name).suffix.lower()
    response = file_response(
        request,
        handle,
        as_attachment=kind not in INLINE_TYPES,
        filename=f"receipt-{pk}-{n}{suffix}",
        content_type=kind,
    )
    # A receipt is a document, never a page of this site: no scripts, no forms.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return _private(response)


@login_required
@require_GET
def line_receipt_preview(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    """A PNG of the receipt (a PDF's first page) of at most ~600 px; a placeholder
    when the file cannot be read."""
    line = _line(request, pk, n)
    png = receipt_preview.preview_of(line.receipt, line.receipt_sha256)
    response = HttpResponse(png or receipt_preview.placeholder(), content_type="image/png")
    if png is None:
        response["X-Receipt-Preview"] = "placeholder"
    return _private(response)
