"""Payout bounded context: cost-centre budgets, the ledger, payout batches and payments.

Written only by the Payout saga's activities (payouts/steps.py) and the payout
run (payouts/run.py); every row a step writes is keyed by (request, round,
step) with a unique constraint, so a retried activity finds its own row
instead of adding a second one. `round` is the payout attempt: /ops/ "retry
payout" starts a fresh saga with round + 1 after the last one failed and was
compensated.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CostCentre(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    year = models.PositiveSmallIntegerField(_("budget year"))
    budget_cents = models.BigIntegerField(_("yearly budget (EUR cents)"))
    closed = models.BooleanField(_("closed"), default=False)

    class Meta:
        verbose_name = _("cost centre")
        verbose_name_plural = _("cost centres")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(budget_cents__gte=0), name="budget_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Reservation(models.Model):
    """The EUR amount a payout holds on a cost centre's budget (released = compensated)."""

    request_id = models.BigIntegerField()
    round = models.PositiveSmallIntegerField(default=1)
    cost_centre = models.ForeignKey(CostCentre, on_delete=models.PROTECT, related_name="holds")
    amount_cents = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request_id", "round"], name="reservation_once")
        ]

    def __str__(self) -> str:
        return f"#{self.request_id}/{self.round} {self.amount_cents} on {self.cost_centre_id}"


class LedgerAccount(models.Model):
    """A ledger account; a closed one takes no postings (the ledger refuses them)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    closed = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class LedgerLine(models.Model):
    """One side of a double-entry posting; a reversal is a posting of its own (never deleted)."""

    class Kind(models.TextChoices):
        POST = "post", _("posting")
        REVERSAL = "reversal", _("reversal")

    request_id = models.BigIntegerField()
    round = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    debit_cents = models.BigIntegerField(default=0)
    credit_cents = models.BigIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request_id", "round", "kind", "account"], name="ledger_line_once"
            ),
            models.CheckConstraint(
                condition=(
                    Q(debit_cents__gt=0, credit_cents=0) | Q(debit_cents=0, credit_cents__gt=0)
                ),
                name="ledger_one_side",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.request_id}/{self.round} {self.kind} {self.account_id}"


class Batch(models.Model):
    """The payments one payout run pays; at most one is open at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    period = models.CharField(max_length=40, null=True, blank=True, unique=True)
    run_id = models.CharField(max_length=200, blank=True)
    sepa_xml = models.TextField(blank=True)
    message_id = models.CharField(max_length=35, blank=True)
    # What the file step decided (request ids paid, [id, reason] failed): a retry reads it.
    outcome = models.JSONField(default=dict, blank=True)
    # Why the last attempt to write the file failed (a RunFailure code and the error's
    # words): /ops/ lists a closed batch without a file with it, and retries that batch.
    error = models.CharField(max_length=40, blank=True)
    error_detail = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="open"), name="one_open_batch"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.period or self.status}"


class Payment(models.Model):
    """One approved request's payout: its state as people see it (the saga writes it)."""

    class Status(models.TextChoices):
        PROCESSING = "processing", _("processing")
        SCHEDULED = "scheduled", _("scheduled")
        ON_HOLD = "on_hold", _("on hold")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    request_id = models.BigIntegerField(unique=True)
    round = models.PositiveSmallIntegerField(default=1)
    requester = models.CharField(max_length=150)
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    reason = models.CharField(max_length=40, blank=True)  # a code; words in payouts/labels.py
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    iban = models.CharField(max_length=34, blank=True)  # as written to the file
    bic = models.CharField(max_length=11, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.status}"
