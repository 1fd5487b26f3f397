"""A receipt uploaded from the new-request form to be read, before the report exists."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadStatus(models.TextChoices):
    PENDING = "pending", _("being read")
    READ = "read", _("read")
    FAILED = "failed", _("could not be read")
    UNAVAILABLE = "unavailable", _("reading is not available")


class ReceiptUpload(models.Model):
    """One receipt file chosen in the form: stored (never under a public URL), read by
    the ReadReceipt workflow (`receipt-read-<token>`), visible to its owner only.

    The token is the public handle (unguessable); `result` holds what was read, in the
    form's field names (ReceiptReading.as_json)."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="receipt_uploads"
    )
    file = models.FileField(upload_to="receipts/pending/%Y/%m/")
    kind = models.CharField(max_length=4)  # pdf / jpg / png (sniffed from the bytes)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=5, blank=True)  # the reader's, a hint
    status = models.CharField(max_length=12, choices=ReadStatus.choices, default=ReadStatus.PENDING)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)  # how long the reading took

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "created_at"])]

    def __str__(self) -> str:
        return f"{self.token} {self.status}"
