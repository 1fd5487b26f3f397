"""Receipts kept across a re-rendered form: a browser never re-sends a chosen file.

When the report form comes back (an error, "add line", several receipts chosen at
once without JavaScript), each receipt already checked is saved under
`receipts/pending/` and the line carries a signed token naming it, bound to the
person; the next post takes the file from there. Nothing chosen is lost.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

SALT = "approvals.receipt-stash"
MAX_AGE = 24 * 3600  # a form left open overnight is chosen again


def stash(upload, *, user_id: int) -> str:
    """Save a checked upload; the token that names it (for this person only)."""
    suffix = PurePosixPath(upload.name).suffix.lower()
    upload.seek(0)
    name = default_storage.save(f"receipts/pending/{uuid.uuid4().hex}{suffix}", upload)
    upload.seek(0)
    return token_for(name, user_id=user_id)


def token_for(name: str, *, user_id: int) -> str:
    """The token for a file already under `receipts/pending/` (a receipt uploaded to be
    read by OCR becomes the line's receipt with it: no second upload)."""
    return signing.dumps({"name": name, "user": user_id}, salt=SALT, compress=True)


def unstash(token: str, *, user_id: int) -> File | None:
    """The stashed file a token names, if it is this person's and still there."""
    if not token:
        return None
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    name = value.get("name", "") if isinstance(value, dict) else ""
    if value.get("user") != user_id or not name.startswith("receipts/pending/"):
        return None
    if not default_storage.exists(name):
        return None
    # Read whole (a receipt is at most 10 MB, checked when it was stashed): an open handle
    # handed on would stay open after the line's copy is saved (a ResourceWarning per file).
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    return ContentFile(data, name=f"{uuid.uuid4().hex}{PurePosixPath(name).suffix}")
