"""Writes about a request's content: submitting a report and its lines (the workflow
starts after commit), and replacing the lines on a resubmission.

Submission pins the exchange rates: for each currency of the report's lines, the
newest rate on or before the submission day converts the line to EUR, the base
currency the policy's thresholds are in (`ExpenseLine.base_amount_cents`). The
request keeps its headline (`lines.headline`: one line's own amount, currency and
category; for several the sum in their one currency, else the EUR total in EUR,
and the largest line's category), the rate of the headline currency
(`fx_rate`, 1 for EUR) and the EUR total of its lines (`base_amount_cents`,
what routing and the maximum use). Rates never change afterwards: a
resubmission converts its lines at the same day's rates. Each round's lines are
kept (`ReportRound`) for "what changed since".
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import flag_labels, money
from ..amounts import amount_text, decimals_error, minor_text
from ..lines import Headline, LineData, headline, merchant_key
from ..models import ExpenseLine, ExpenseRequest, PolicyVersion, ReportRound, RequestStatus
from ..policy.versions import effective_version, rules_of
from ..selectors.fx import rate_on
from ..temporal.starter import policy_snapshot, workflow_start_quietly
from ..workflow.contract import PolicySnapshot
from . import flags as spend_flags


def check_base_amount(
    *, amount: Decimal, currency: str, base_cents: int, policy: PolicySnapshot
) -> None:
    """Refuse an amount above the policy's maximum, which is in EUR."""
    if base_cents <= policy.max_amount_cents:
        return
    limit_text = minor_text(policy.max_amount_cents)
    if currency == money.BASE_CURRENCY:
        message = _("The amount must be at most %(limit_value)s.") % {"limit_value": limit_text}
    else:
        message = _(
            "The amount must be at most %(limit)s EUR; %(amount)s %(currency)s is %(base)s EUR."
        ) % {
            "limit": limit_text,
            "amount": amount_text(amount, currency),
            "currency": currency,
            "base": minor_text(base_cents),
        }
    raise ValidationError({"amount": [message]})


def max_amount_of(request: ExpenseRequest) -> Decimal | None:
    """The maximum of the policy the request was submitted under (the workflow's bound),
    in the request's currency at its pinned rate; None for a request without one."""
    if not (request.policy_snapshot or {}).get("max_amount_cents"):
        return None
    return max_amount_in(
        currency=request.currency,
        rate=request.fx_rate,
        policy=PolicySnapshot(**request.policy_snapshot),
    )


def max_amount_in(*, currency: str, rate: Decimal | None, policy: PolicySnapshot) -> Decimal:
    """The policy's maximum (EUR) expressed in `currency` at `rate`, rounded down."""
    limit = money.from_minor(policy.max_amount_cents, money.BASE_CURRENCY)
    if currency == money.BASE_CURRENCY or not rate:
        return limit
    return (limit * rate).quantize(money.quantum(currency), rounding=ROUND_DOWN)


@transaction.atomic
def expense_submit(
    *,
    requester: User,
    title: str,
    amount: Decimal | None = None,
    currency: str = money.BASE_CURRENCY,
    category: str = "",
    description: str = "",
    receipt=None,
    submit_token: uuid.UUID | None = None,
    lines: Sequence[LineData] | None = None,
) -> ExpenseRequest:
    """Save the report and its lines with their pinned rates; its workflow starts after
    commit (or later, by the reconciler).

    `lines` is the report's lines; without them the flat `amount`, `currency`,
    `category` (and `receipt`) are a one-line report.

    With a `submit_token` (the form's one-time token) the same token from the same
    requester yields the request it first created, however often and however
    concurrently it is posted: the unique constraint decides the race.

    Raises ValidationError for a currency without a rate, decimals the currency does
    not have, or a total above the policy's maximum in EUR. A one-line (flat) report's
    errors are keyed by field (`amount`, `currency`); a report's by `lines.<n>.<field>`
    (n 1-based), its total's under NON_FIELD_ERRORS.
    """
    if submit_token is not None:
        existing = _submitted_with(requester, submit_token)
        if existing is not None:
            return existing
    flat = lines is None
    if flat:
        if amount is None:
            raise ValueError("a flat submission needs an amount")
        # A flat report names its expense in the title ("Hotel Adlon"): the line says both.
        joined = " — ".join(part for part in (title, description) if part)[:1000]
        lines = [
            LineData(
                amount=amount,
                currency=currency,
                category=category,
                receipt=receipt,
                description=joined,
            )
        ]
    if not lines:
        raise ValueError("a report has at least one line")
    day = timezone.localdate()
    rates = pinned_rates(lines, day=day, flat=flat)
    version = effective_version(day)  # pinned: in-flight requests keep theirs
    policy = policy_snapshot(version)
    base_cents = [
        money.to_base_cents(ln.amount, ln.currency, rates[ln.currency][0]) for ln in lines
    ]
    head = headline(lines, base_cents)
    if flat:
        check_base_amount(
            amount=head.amount,
            currency=head.currency,
            base_cents=head.base_amount_cents,
            policy=policy,
        )
    else:
        check_report_total(base_cents=head.base_amount_cents, policy=policy)
    rate, rate_date = rates.get(head.currency, (Decimal(1), day))
    # The spend checks run on the report's lines before anything is saved, so a blocking
    # check refuses with nothing half-written (services/flags.py).
    flags = []
    if version is not None:
        flags = spend_flags.flags_for(
            lines=[
                unsaved_line(n, line, cents, day=day)
                for n, (line, cents) in enumerate(zip(lines, base_cents, strict=True), start=1)
            ],
            requester=requester,
            rules=rules_of(version),
            day=day,
            total_cents=head.base_amount_cents,
        )
        refuse_blocking(flags, flat=flat)
    request = ExpenseRequest(
        requester=requester,
        title=title,
        amount=head.amount,
        currency=head.currency,
        category=head.category,
        description=description,
        status=RequestStatus.QUEUED,
        policy_snapshot=dataclasses.asdict(policy),
        policy_version=version.number if version is not None else None,
        submit_token=submit_token,
        base_amount_cents=head.base_amount_cents,
        fx_rate=rate,
        fx_rate_date=rate_date,
    )
    if len(lines) == 1 and lines[0].receipt is not None:
        request.receipt = lines[0].receipt  # a one-line report's receipt, as before lines
    # The token's uniqueness is the database's to decide (a check here would race).
    request.full_clean(exclude=["receipt", "submit_token"])
    try:
        with transaction.atomic():
            request.save()
            rows = save_lines(request, lines, base_cents, day=day)
    except IntegrityError:
        if submit_token is None:
            raise
        if request.receipt:
            request.receipt.delete(save=False)  # the loser's copy of the file
        winner = _submitted_with(requester, submit_token)
        if winner is None:
            raise
        return winner
    record_round(request, rows, round_number=1)
    spend_flags.store(request=request, flags=flags)
    transaction.on_commit(lambda: workflow_start_quietly(request_id=request.pk))
    return request


def unsaved_line(n: int, line: LineData, cents: int, *, day: date) -> ExpenseLine:
    """The line as it will be saved, for the spend checks (nothing written)."""
    return ExpenseLine(
        position=n,
        date=line.date or day,
        merchant=line.merchant,
        merchant_key=merchant_key(line.merchant),
        category=line.category,
        amount=line.amount,
        currency=line.currency,
        vat=line.vat,
        description=line.description,
        attendees=line.attendees,
        base_amount_cents=cents,
        receipt_sha256=sha256_of(line.receipt) if line.receipt is not None else "",
    )


def refuse_blocking(flags, *, flat: bool) -> None:
    """A blocking check refuses: at the one-line form's fields, or at `lines.<n>.<field>`."""
    try:
        spend_flags.refuse_blocking(flags)
    except spend_flags.FlagsBlocked as blocked:
        if flat:
            raise
        errors: dict[str, list[str]] = {}
        for flag in blocked.flags:
            field = spend_flags.one_line_field(flag)
            key = f"lines.{flag.line}.{field}" if flag.line and field != "__all__" else "__all__"
            errors.setdefault(key, []).append(flag_labels.text(flag.code, flag.params))
        raise ValidationError(errors) from None


def to_base(line: LineData, rates: dict[str, tuple[Decimal, date]]) -> int:
    """The line's amount in EUR cents at its currency's pinned rate."""
    return money.to_base_cents(line.amount, line.currency, rates[line.currency][0])


def pinned_rates(
    lines: Sequence[LineData], *, day: date, flat: bool = False
) -> dict[str, tuple[Decimal, date]]:
    """Each line currency's rate (units per 1 EUR) and its date: the newest on or before
    `day`. Raises ValidationError at the lines whose currency has none."""
    rates: dict[str, tuple[Decimal, date]] = {money.BASE_CURRENCY: (Decimal(1), day)}
    errors: dict[str, list[str]] = {}
    for n, line in enumerate(lines, start=1):
        if line.currency in rates:
            continue
        found = rate_on(currency=line.currency, day=day)
        if found is not None:
            rates[line.currency] = (found.rate, found.rate_date)
            continue
        message = _(
            "There is no exchange rate for %(currency)s, so the amount cannot "
            "be converted to EUR. Choose another currency, or ask an "
            "administrator to load the exchange rates."
        ) % {"currency": line.currency}
        errors["currency" if flat else f"lines.{n}.currency"] = [message]
    for n, line in enumerate(lines, start=1):
        if money.has_too_many_decimals(line.amount, line.currency):
            errors["amount" if flat else f"lines.{n}.amount"] = [decimals_error(line.currency)]
    if errors:
        raise ValidationError(errors)
    return rates


def check_report_total(*, base_cents: int, policy: PolicySnapshot) -> None:
    """Refuse a report whose lines add up to more than the policy's maximum (EUR)."""
    if base_cents <= policy.max_amount_cents:
        return
    raise ValidationError(
        _("The report's total must be at most %(limit)s EUR; its lines add up to %(total)s EUR.")
        % {"limit": minor_text(policy.max_amount_cents), "total": minor_text(base_cents)}
    )


def save_lines(
    request: ExpenseRequest,
    lines: Sequence[LineData],
    base_cents: Sequence[int],
    *,
    day: date,
    kept_receipts: dict[int, tuple[str, str]] | None = None,
) -> list[ExpenseLine]:
    """Write the report's lines (positions 1..n) with their EUR cents and receipt hashes.

    `kept_receipts`: on a resubmission, an old line's (file name, sha256) by position,
    for a line that keeps the receipt it had."""
    rows = []
    for n, (line, cents) in enumerate(zip(lines, base_cents, strict=True), start=1):
        row = unsaved_line(n, line, cents, day=day)
        row.request = request
        row.ocr_fields = list(line.ocr_fields)
        if line.receipt is not None:
            row.receipt = line.receipt
        elif kept_receipts and line.origin in kept_receipts:
            row.receipt.name, row.receipt_sha256 = kept_receipts[line.origin]
        row.full_clean(exclude=["request", "receipt"])
        row.save()
        rows.append(row)
    return rows


def sha256_of(upload) -> str:
    """The SHA-256 of an uploaded file's bytes (read in chunks; left at its start)."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1 << 16), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def line_snapshot(row: ExpenseLine, origin: int | None = None, *, resubmitted=False) -> dict:
    """A line as a round keeps it (JSON): what `report_diff.diff` compares. A resubmitted
    round's lines name the line of the round before they continue (`origin`, None: new)."""
    extra = {"origin": origin} if resubmitted else {}
    return {
        **extra,
        "n": row.position,
        "date": row.date.isoformat() if row.date else "",
        "merchant": row.merchant,
        "category": row.category,
        "amount": str(row.amount),
        "currency": row.currency,
        "vat": "" if row.vat is None else str(row.vat),
        "description": row.description,
        "attendees": row.attendees,
        "receipt_sha256": row.receipt_sha256,
        "receipt": bool(row.receipt),
        "base_amount_cents": row.base_amount_cents,
    }


def record_round(
    request: ExpenseRequest,
    rows: Sequence[ExpenseLine],
    *,
    round_number: int,
    origins: Sequence[int | None] | None = None,
):
    """Keep the lines as they stand in this round (for "what changed since")."""
    if origins is None:
        lines = [line_snapshot(r) for r in rows]
    else:
        lines = [line_snapshot(r, o, resubmitted=True) for r, o in zip(rows, origins, strict=True)]
    return ReportRound.objects.update_or_create(
        request=request, round=round_number, defaults={"lines": lines}
    )[0]


def replace_lines(
    request: ExpenseRequest, lines: Sequence[LineData]
) -> tuple[Headline, list[ExpenseLine]]:
    """A resubmission's lines in place of the last round's (the caller holds the row lock
    and the transaction): converted at the report's pinned rates, the headline and EUR
    total updated, a new round kept. Raises ValidationError like `expense_submit`."""
    if not lines:
        raise ValidationError(_("A report needs at least one line with an amount."))
    day = timezone.localdate(request.created_at)  # the submission day's rates
    rates = pinned_rates(lines, day=day)
    if request.fx_rate is not None and request.currency != money.BASE_CURRENCY:
        rates[request.currency] = (request.fx_rate, request.fx_rate_date or day)
    base_cents = [to_base(line, rates) for line in lines]
    head = headline(lines, base_cents)
    if head.currency != request.currency:
        # The workflow keeps the report's currency: a report that was all in one
        # currency and now is not shows its EUR total in that currency at its rate.
        head.currency = request.currency
        rate = rates.get(request.currency, (Decimal(1), day))[0]
        head.amount = (
            money.from_minor(head.base_amount_cents, money.BASE_CURRENCY) * rate
        ).quantize(money.quantum(request.currency))
    snapshot = request.policy_snapshot or {}
    if snapshot.get("max_amount_cents"):
        check_report_total(base_cents=head.base_amount_cents, policy=PolicySnapshot(**snapshot))
    old = {row.position: (row.receipt.name, row.receipt_sha256) for row in request.lines.all()}
    request.lines.all().delete()  # the files stay: earlier rounds named them
    rows = save_lines(request, lines, base_cents, day=day, kept_receipts=old)
    request.amount, request.category = head.amount, head.category
    request.base_amount_cents = head.base_amount_cents
    if len(rows) == 1:
        request.receipt.name = rows[0].receipt.name
    request.save(update_fields=["amount", "category", "base_amount_cents", "receipt"])
    last = request.rounds.order_by("-round").values_list("round", flat=True).first() or 1
    record_round(request, rows, round_number=last + 1, origins=[line.origin for line in lines])
    # The spend checks again, on the new lines, under the policy version pinned at
    # submission; a blocking one refuses the whole resubmission (the caller's transaction).
    version = PolicyVersion.objects.filter(number=request.policy_version).first()
    if request.policy_version and version is not None:
        flags = spend_flags.flags_for(
            lines=rows,
            requester=request.requester,
            rules=rules_of(version),
            day=day,
            total_cents=head.base_amount_cents,
            request_id=request.pk,
        )
        refuse_blocking(flags, flat=False)
        spend_flags.store(request=request, flags=flags, key=f"flags:round-{last + 1}")
    return head, rows


def _submitted_with(requester: User, token: uuid.UUID) -> ExpenseRequest | None:
    return ExpenseRequest.objects.filter(requester=requester, submit_token=token).first()
