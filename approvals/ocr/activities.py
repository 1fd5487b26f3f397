"""The OCR worker's activities: plain `def` (threads of the OCR worker's own small
pool), fresh database connections around each. Idempotent: a retry reads the file
again and overwrites the same row."""

from __future__ import annotations

import logging
import time
from functools import wraps

from django.db import close_old_connections
from django.utils import timezone
from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import engine
from .models import ReadStatus, ReceiptUpload
from .parse import parse_receipt
from .workflow import UNREADABLE, ReadReceiptInput

log = logging.getLogger(__name__)


def with_db(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


@activity.defn(name="read_receipt")
@with_db
def read_receipt(params: ReadReceiptInput) -> list[str]:
    """Run Tesseract on the upload, parse the text, store the reading; the fields read."""
    upload = ReceiptUpload.objects.filter(pk=params.upload_id).first()
    if upload is None:  # deleted meanwhile: nothing to read, nothing to retry
        raise ApplicationError("the upload is gone", type=UNREADABLE, non_retryable=True)
    if upload.status == ReadStatus.READ:
        return [name for name, value in upload.result.items() if value and name != "language"]
    started = time.perf_counter()
    try:
        with upload.file.open("rb") as handle:
            data = handle.read()
        text = engine.ocr_bytes(data)
    except engine.Unreadable as exc:
        raise ApplicationError(
            f"unreadable receipt: {exc}", type=UNREADABLE, non_retryable=True
        ) from exc
    except engine.EngineMissing as exc:
        raise ApplicationError(
            f"{exc} is not installed", type=UNREADABLE, non_retryable=True
        ) from exc
    reading = parse_receipt(text, params.language or upload.language)
    upload.result = reading.as_json()
    upload.status = ReadStatus.READ
    upload.read_at = timezone.now()
    upload.seconds = round(time.perf_counter() - started, 3)
    upload.save(update_fields=["result", "status", "read_at", "seconds"])
    log.info("receipt %s read in %.2f s: %s", upload.token, upload.seconds, reading.fields)
    return list(reading.fields)


@activity.defn(name="mark_receipt_unread")
@with_db
def mark_receipt_unread(upload_id: int, reason: str) -> None:
    ReceiptUpload.objects.filter(pk=upload_id).exclude(status=ReadStatus.READ).update(
        status=ReadStatus.FAILED, error=reason[:300], read_at=timezone.now()
    )


OCR_ACTIVITIES = [read_receipt, mark_receipt_unread]
