"""An expense report's lines (see `ExpenseLine`)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import money
from . import CURRENCIES, Category, ExpenseRequest


class LineStatus(models.TextChoices):
    """A line's place in the approval (the workflow's per-line state, projected)."""

    OPEN = "open", _("open")
    REJECTED = "rejected", _("rejected")


class ExpenseLine(models.Model):
    """One line of an expense report: one expense with (usually) its receipt.

    The request's `amount`/`currency`/`category` stay the report's headline: the
    one line's own for a one-line report; for several lines the sum when they share
    a currency (else the EUR total, in EUR) and the largest line's category. Each
    line is converted at the rate of the report's submission day
    (`base_amount_cents`, pinned); routing uses the sum of those.
    A line rejected by an approver (`status` rejected, projected from the workflow's
    per-line state) is out for every later level, the payout and the analytics.
    """

    request = models.ForeignKey(ExpenseRequest, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("line"))  # 1-based, as `data-line`
    date = models.DateField(_("date"), null=True, blank=True)
    merchant = models.CharField(_("merchant"), max_length=200, blank=True)
    # Lower-cased, spaces collapsed: what the duplicate check compares (indexed).
    merchant_key = models.CharField(max_length=200, blank=True, default="")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="EUR")
    vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2, null=True, blank=True)
    description = models.CharField(_("description"), max_length=1000, blank=True)
    attendees = models.CharField(_("attendees"), max_length=500, blank=True)
    receipt = models.FileField(_("receipt"), upload_to="receipts/%Y/%m/", blank=True)
    # SHA-256 of the receipt file's bytes (duplicate check across all employees).
    receipt_sha256 = models.CharField(max_length=64, blank=True, default="")
    # The amount in EUR at the report's pinned rate for this line's currency.
    base_amount_cents = models.BigIntegerField(_("amount in EUR (cents)"), null=True, blank=True)
    # Which fields OCR filled and the person has not changed (to mark for checking).
    ocr_fields = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=LineStatus.choices, default=LineStatus.OPEN)
    rejected_level = models.PositiveSmallIntegerField(null=True, blank=True)
    rejected_by = models.CharField(max_length=150, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="one_line_per_position"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="line_amount_positive"),
        ]
        indexes = [
            models.Index(
                fields=["receipt_sha256"],
                name="line_receipt_hash",
                condition=~models.Q(receipt_sha256=""),
            ),
            models.Index(fields=["merchant_key", "date"], name="line_merchant_date"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.position} {self.merchant}"

    @property
    def amount_cents(self) -> int:
        return money.to_minor(self.amount, self.currency)

    @property
    def rejected(self) -> bool:
        return self.status == LineStatus.REJECTED
