"""Receipts read while the form is open: upload one (POST), then poll its reading.

Polling, not the websocket: the reading is stored on the upload row by the OCR
worker, so a poll is one indexed row read in the web process (no Temporal call, no
channel layer needed between a separate OCR worker and this web process), and it
works the same in `make run`, behind several web containers and without JavaScript
websockets. The form asks every 700 ms and stops when the reading is done.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..amounts import spell
from ..models import CURRENCIES
from ..ocr.models import ReadStatus, ReceiptUpload
from ..receipt_stash import token_for
from ..services.receipts import ReceiptRefused, access_receipt_upload, receipt_upload_create

# How often the form asks (ms), and the message per state, in the reader's language.
POLL_MS = 700


def _message(row: ReceiptUpload) -> str:
    if row.status == ReadStatus.PENDING:
        return _("Reading the receipt…")
    if row.status == ReadStatus.READ:
        return (
            _("Read from the receipt: please check the marked fields.")
            if row.result.get("amount") or row.result.get("date") or row.result.get("merchant")
            else _("Nothing could be read from this receipt; please fill in the line.")
        )
    if row.status == ReadStatus.UNAVAILABLE:
        return _("Reading receipts is not available right now; please fill in the line.")
    return _("This receipt could not be read; please fill in the line.")


def _fields(row: ReceiptUpload) -> dict:
    """What was read, written as the form's fields expect it in the reader's language."""
    if row.status != ReadStatus.READ:
        return {}
    result = row.result or {}
    fields: dict[str, str] = {}
    currency = result.get("currency") or ""
    if currency in dict(CURRENCIES):
        fields["currency"] = currency
    for name in ("amount", "vat"):
        try:
            value = Decimal(result.get(name) or "")
        except InvalidOperation:
            continue
        fields[name] = spell(value, currency or "EUR")
    if result.get("date"):
        day = date.fromisoformat(result["date"])
        fields["date"] = day.isoformat()
        fields["date_local"] = formats.date_format(day, "SHORT_DATE_FORMAT")
    if result.get("merchant"):
        fields["merchant"] = result["merchant"][:200]
    return fields


def _state(row: ReceiptUpload) -> dict:
    return {
        "token": str(row.token),
        "status": row.status,
        "done": row.status != ReadStatus.PENDING,
        "message": _message(row),
        "fields": _fields(row),
        "poll_url": reverse("receipt-read-result", args=[row.token]),
        "poll_ms": POLL_MS,
        # The line's `stashed` token: the uploaded file becomes the line's receipt on
        # submit, so the form need not send it again (approvals/receipt_stash.py).
        "stash": token_for(row.file.name, user_id=row.owner_id) if row.file else "",
    }


@login_required
@require_POST
def receipt_read_start(request: HttpRequest) -> JsonResponse:
    """POST a `receipt` file: 202 with the token and where to ask; 400 with words for a
    file that is no receipt."""
    try:
        row = receipt_upload_create(
            user=request.user,
            upload=request.FILES.get("receipt"),
            language=translation.get_language() or "",
        )
    except ReceiptRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(_state(row), status=202)


@login_required
@require_GET
def receipt_read_result(request: HttpRequest, token: str) -> JsonResponse:
    """The reading of the caller's own upload; 404 for anyone else's or an unknown token."""
    row = access_receipt_upload(user=request.user, token=token)
    return JsonResponse(_state(row), headers={"Cache-Control": "no-store"})
