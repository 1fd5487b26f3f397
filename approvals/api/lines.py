"""The API's report lines: in through the web form's line validation (422 at the line, in
the form's words), out with their EUR and receipt link."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from ninja import Status

from .. import money
from ..amounts import plain_refusal_text
from ..forms.report import LineForm, too_few_lines
from ..lines import LineData
from ..models import ExpenseRequest


def lines_in(items, *, max_amount) -> tuple[list[LineData], Status | None]:
    """The API's lines through the web form's line validation: the lines, or a 422 whose
    `loc` names the line (0-based, as in the body) and the field, in the form's words."""
    if not items:
        return [], Status(422, {"detail": [_error(["lines"], too_few_lines(), "min_lines")]})
    lines, errors = [], []
    for index, item in enumerate(items):
        for name in ("amount", "vat"):
            value = getattr(item, name)
            if value is None or (name == "amount" and value == ""):
                continue
            try:
                money.read_plain(value)
            except money.AmountRefused:
                errors.append(_error(["lines", index, name], plain_refusal_text(), "plain"))
        if errors:
            continue
        form = LineForm(
            {
                "date": item.date.isoformat() if item.date else "",
                "merchant": item.merchant,
                "category": item.category,
                "amount": "" if item.amount is None else money.read_plain(item.amount),
                "currency": item.currency,
                "vat": "" if item.vat is None else money.read_plain(item.vat),
                "description": item.description,
                "attendees": item.attendees,
                "keep": getattr(item, "origin", None) or "",
            },
            max_amount=max_amount,
        )
        if not form.is_valid():
            errors += [
                _error(["lines", index, field], str(message), error.code or "invalid")
                for field, field_errors in form.errors.as_data().items()
                for error in field_errors
                for message in error.messages
            ]
            continue
        lines.append(form.line())
    return lines, (Status(422, {"detail": errors}) if errors else None)


def _error(loc: list, msg: str, kind: str) -> dict:
    return {"loc": ["body", "payload", *loc], "msg": msg, "type": kind}


def submission_errors(form, exc: ValidationError) -> Status:
    """The service's refusals: a line's (`lines.<n>.<field>`, n 1-based) at its line."""
    if hasattr(exc, "error_dict"):
        detail = []
        for key, errors in exc.error_dict.items():
            parts = key.split(".")
            for error in errors:
                for message in error.messages:
                    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
                        loc = ["lines", int(parts[1]) - 1, parts[2]]
                    else:
                        loc = [key if key != "__all__" else "lines"]
                    detail.append(_error(loc, message, error.code or "invalid"))
        return Status(422, {"detail": detail})
    return Status(
        422, {"detail": [_error(["lines"], m, exc.code or "invalid") for m in exc.messages]}
    )


def line_out(expense: ExpenseRequest, line) -> dict:
    base = line.base_amount_cents
    return {
        "position": line.position,
        "date": line.date,
        "merchant": line.merchant,
        "category": line.category,
        "amount": f"{line.amount:.{money.exponent(line.currency)}f}",
        "currency": line.currency,
        "vat": None if line.vat is None else f"{line.vat:.2f}",
        "description": line.description,
        "attendees": line.attendees,
        "amount_eur": None if base is None else f"{money.from_minor(base, 'EUR'):.2f}",
        "status": line.status,
        "rejection_reason": line.rejection_reason,
        "receipt_url": (
            f"{reverse('request-receipt', args=[expense.pk])}?line={line.position}"
            if line.receipt
            else None
        ),
    }
