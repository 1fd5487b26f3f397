"""The report form's helpers for the views (new report, resubmission, request page):
several receipts spread over lines, the submission's refusals at their lines, and what
changed in the lines since the round before."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..forms import report
from ..models import Category, ExpenseRequest
from ..receipt_check import check_receipt
from ..receipt_stash import stash
from ..report_diff import diff


def spread_receipts(request: HttpRequest, data, uploads) -> list[str]:
    """Several receipts chosen at once (without JavaScript, which moves each into its own
    line): each goes to the next line without a receipt, else to a new line. Each is
    kept (receipt_stash) so the form can come back for the amounts. Returns the errors
    of files that are no receipt (named)."""
    errors = []
    if not uploads:
        return errors
    total = report.line_count(data)
    taken = {
        n
        for n in range(total)
        if data.get(f"{report.PREFIX}-{n}-stashed")
        or request.FILES.get(f"{report.PREFIX}-{n}-receipt")
        or request.FILES.get(f"{report.PREFIX}-{n}-photo")
        or data.get(f"{report.PREFIX}-{n}-DELETE")
    }
    free = (n for n in range(report.MAX_LINES) if n not in taken)
    for upload in uploads:
        original = upload.name
        try:
            checked = check_receipt(upload)
        except ValidationError as exc:
            errors.append(f"{original}: {' '.join(exc.messages)}")
            continue
        n = next(free, None)
        if n is None:
            errors.append(_("A report has at most %(num)d lines.") % {"num": report.MAX_LINES})
            break
        data[f"{report.PREFIX}-{n}-stashed"] = stash(checked, user_id=request.user.pk)
        data.setdefault(f"{report.PREFIX}-{n}-currency", "EUR")
        total = max(total, n + 1)
    data[f"{report.PREFIX}-TOTAL_FORMS"] = str(total)
    data.setdefault(f"{report.PREFIX}-INITIAL_FORMS", "0")
    return errors


def errors_at_lines(form, lines, exc: ValidationError) -> None:
    """The submission's refusals at their lines (`lines.<n>.<field>`) or the report."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            kept = [f for f in lines.forms if f.cleaned_data and not lines._should_delete_form(f)]
            index = int(parts[1]) - 1
            if 0 <= index < len(kept):
                kept[index].add_error(parts[2], errors)
                continue
        form.add_error(None, errors)


def line_changes(expense: ExpenseRequest) -> dict | None:
    """For an approver: what changed in the lines since the round before (round > 1)."""
    rounds = list(expense.rounds.order_by("-round")[:2])
    if len(rounds) < 2:
        return None
    new, old = rounds
    changes = diff(old.lines, new.lines)
    labels = dict(Category.choices)
    for change in changes:
        for side in (change.old, change.new):
            side["category_label"] = labels.get(side.get("category"), side.get("category", ""))
    return {"round": new.round, "since": old.round, "changes": changes}
