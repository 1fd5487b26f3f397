"""A receipt upload checked for what it is: size, its real type read from its bytes
(never from its name), renamed to a name of our own.

One rule for every way a receipt arrives: a report line's form (forms/report.py,
forms/requests.py), the server spreading several files over lines (views/reports.py)
and a receipt read by OCR while the form is open (services/receipts.py).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_RECEIPT_BYTES = 10 * 1024 * 1024
# Leading bytes of each accepted receipt type, with the extension it is stored under.
MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"RIFF", "webp"),  # RIFF....WEBP (checked below)
)
# HEIC/HEIF (an iPhone's own format): an ISO box "ftyp" with one of these brands.
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# Readers accept a PDF whose end-of-file marker sits within the last KiB.
PDF_TAIL = 1024


def sniff(upload) -> str | None:
    """The receipt's type (an extension) from its bytes, never from its name."""
    upload.seek(0)
    head = upload.read(32)
    kind = next((ext for magic, ext in MAGIC if head.startswith(magic)), None)
    if kind == "png" and head[12:16] != b"IHDR":
        kind = None  # a PNG always opens with its header chunk
    elif kind == "webp" and head[8:12] != b"WEBP":
        kind = None  # another RIFF file (a WAV, an AVI)
    elif kind is None and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        kind = "heic"
    elif kind == "pdf":
        size = upload.size or 0
        upload.seek(max(size - PDF_TAIL, 0))
        if b"%%EOF" not in upload.read(PDF_TAIL):
            kind = None  # "%PDF-" in front of anything else is not a document
    upload.seek(0)
    return kind


def check_receipt(upload):
    """A receipt upload, checked (size, real type from its bytes) and renamed; None if none.

    Raises ValidationError in words for what cannot be a receipt."""
    if not upload:
        return None
    if upload.size > MAX_RECEIPT_BYTES:
        raise ValidationError(_("The receipt is larger than 10 MB."))
    kind = sniff(upload)
    if kind == "heic":
        raise ValidationError(
            _(
                "HEIC photos cannot be shown to approvers. Choose the photo as JPEG (the "
                "camera setting “Most compatible”) or take it with “Take photo”."
            )
        )
    if kind is None:
        raise ValidationError(_("The receipt must be a PDF, JPEG, PNG or WebP file."))
    # The name is only a claim: a file called ".pdf" must really be a PDF (reviewers
    # open it expecting the document), while any real PDF/JPEG/PNG is accepted.
    if upload.name.lower().endswith(".pdf") and kind != "pdf":
        raise ValidationError(
            _("This file is called .pdf but is not a PDF. Attach the PDF itself.")
        )
    # Stored under a name of our own with the extension of what it really is: the
    # typed name never reaches the file system.
    upload.name = f"{uuid.uuid4().hex}.{kind}"
    return upload
