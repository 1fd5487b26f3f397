"""The spend checks' flags of a request, stored at submission (`services.flags`).

Its own module of the models package (re-exported by `approvals.models`). A row
is one flag of one line (`position`, 1-based; 0 = the report as a whole) with the
check's code, its severity under the request's pinned policy and its parameters
(plain JSON; `approvals.flag_labels` words them). The approver's "why this is
fine" note is stored on the row with who wrote it and when (and in the audit).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LineFlag(models.Model):
    request = models.ForeignKey(
        "approvals.ExpenseRequest", on_delete=models.CASCADE, related_name="flags"
    )
    position = models.PositiveSmallIntegerField(_("line"))  # 0: the report
    code = models.CharField(max_length=30)
    severity = models.CharField(max_length=10, default="warn")
    params = models.JSONField(default=dict, blank=True)
    note = models.TextField(_("why this is fine"), blank=True)
    noted_by = models.CharField(max_length=150, blank=True)
    noted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "approvals"
        ordering = ["request", "position", "pk"]
        indexes = [models.Index(fields=["request", "position"], name="flag_request_line")]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.position} {self.code}"
