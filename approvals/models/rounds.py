"""A report's lines per round (what an approver compares with the round they saw)."""

from __future__ import annotations

from django.db import models

from . import ExpenseRequest


class ReportRound(models.Model):
    """A report's lines as they stood in one round (1 = as submitted, then one per
    resubmission): what an approver compares with the round they saw."""

    request = models.ForeignKey(ExpenseRequest, on_delete=models.CASCADE, related_name="rounds")
    round = models.PositiveSmallIntegerField()
    lines = models.JSONField(default=list)  # services.requests.line_snapshot per line
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "round"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round"], name="one_report_round")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} round {self.round}"
