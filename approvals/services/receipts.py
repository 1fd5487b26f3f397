"""Receipts chosen in the new-request form, read by OCR before the report exists.

`receipt_upload_create` checks and stores the file for its owner and starts its
reading; `access_receipt_upload` is the one place that decides who may see one (its
owner; anyone else gets a 404, as for requests)."""

from __future__ import annotations

import hashlib
import logging
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from ..ocr import engine
from ..ocr.models import ReadStatus, ReceiptUpload
from ..receipt_check import check_receipt
from ..temporal.client import TemporalUnavailable
from ..temporal.ocr import receipt_read_start

log = logging.getLogger(__name__)


class ReceiptRefused(ValueError):
    """The file cannot be taken: the message says why, in the reader's language."""


def check_receipt_file(upload) -> str:
    """The file's kind (pdf/jpg/png/webp) from its bytes, or ReceiptRefused with words
    (the same checks as a line's receipt: receipt_check.check_receipt)."""
    if upload is None:
        raise ReceiptRefused(_("Choose a receipt file (PDF, JPEG or PNG)."))
    if upload.size == 0:
        raise ReceiptRefused(_("The receipt file is empty."))
    try:
        checked = check_receipt(upload)
    except ValidationError as exc:
        raise ReceiptRefused(" ".join(exc.messages)) from exc
    return checked.name.rsplit(".", 1)[-1]


def receipt_upload_create(*, user, upload, language: str) -> ReceiptUpload:
    """Store the receipt for `user` and start reading it (after commit). When reading is
    not possible here (no Tesseract, Temporal away) the upload says so and the person
    fills the line by hand."""
    kind = check_receipt_file(upload)
    upload.seek(0)
    data = upload.read()
    row = ReceiptUpload(
        owner=user,
        kind=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        language=(language or "")[:5],
    )
    if not engine.available():
        row.status = ReadStatus.UNAVAILABLE
    # Our own name with the real type's extension: the typed name never reaches the disk.
    row.file.save(f"{uuid.uuid4().hex}.{kind}", ContentFile(data), save=False)
    with transaction.atomic():
        row.save()
        if row.status == ReadStatus.PENDING:
            transaction.on_commit(lambda: _start(row))
    return row


def _start(row: ReceiptUpload) -> None:
    try:
        receipt_read_start(upload_id=row.pk, token=str(row.token), language=row.language)
    except TemporalUnavailable:
        log.warning("receipt %s not read: Temporal unavailable", row.token)
        ReceiptUpload.objects.filter(pk=row.pk, status=ReadStatus.PENDING).update(
            status=ReadStatus.UNAVAILABLE
        )
        row.status = ReadStatus.UNAVAILABLE


def access_receipt_upload(*, user, token) -> ReceiptUpload:
    """The user's own upload with this token, else Http404 (whoever else asks)."""
    try:
        key = uuid.UUID(str(token))
    except ValueError:
        raise Http404 from None
    row = ReceiptUpload.objects.filter(token=key, owner=user).first()
    if row is None:
        raise Http404
    return row
