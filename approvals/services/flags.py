"""The spend checks at submission: read the candidates, evaluate, refuse or store.

The pure `spend_checks.evaluate` decides; this module only narrows the past lines
it looks at, through indexes (never a scan per submission):
- the same receipt file: `line_receipt_hash` (receipt_sha256);
- the same or a similar merchant near the date: `line_merchant_date`
  (merchant_key, date), one range per merchant of the report;
- the requester's own reports of the last days (splits): the request index
  (requester, -created_at), then each request's lines by foreign key.
Withdrawn requests and rejected lines are left out. A `block` raises
`FlagsBlocked` (a ValidationError with the message at the line) before anything
is saved; otherwise the flags are stored as `LineFlag` rows and recorded in the
request's audit timeline ("flagged", with codes and parameters).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import flag_labels
from ..calendars import holiday_dates
from ..flag_facts import PAST_FIELDS, line_facts, past_line
from ..models import AuditEntry, ExpenseLine, ExpenseRequest, LineFlag, LineStatus, RequestStatus
from ..policy.rules import PolicyRules
from ..selectors import flags as cached_flags
from ..spend_checks import (
    BLOCK,
    Code,
    Flag,
    LineFacts,
    PastLines,
    ReportFacts,
    SpendChecks,
    checks_of,
    evaluate,
    merchant_key,
    routing_thresholds,
)

CANDIDATES = 500  # per query: enough to decide, bounded whatever the data


class FlagsBlocked(ValidationError):
    """Submission refused by a check that blocks. `line_errors`: {line: [messages]};
    the ValidationError itself is keyed by the one-line form's fields."""

    def __init__(self, flags: list[Flag]):
        self.flags = flags
        self.line_errors: dict[int, list[str]] = {}
        by_field: dict[str, list[str]] = {}
        for flag in flags:
            words = flag_labels.text(flag.code, flag.params)
            self.line_errors.setdefault(flag.line, []).append(words)
            by_field.setdefault(one_line_field(flag), []).append(words)
        super().__init__(by_field)


def one_line_field(flag: Flag) -> str:
    """Where a one-line report's form shows the flag."""
    if flag.code == Code.RECEIPT_MISSING or flag.params.get("by") == "receipt":
        return "receipt"
    if flag.code in {Code.WEEKEND, Code.HOLIDAY}:
        return "__all__"
    return "amount"


def receipt_hash(upload) -> str:
    """SHA-256 of an uploaded or stored file's bytes ("" without one); rewinds it."""
    if not upload:
        return ""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b"")
    ):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def fill_keys(line: ExpenseLine, upload=None) -> None:
    """The line's derived columns the checks compare (merchant_key, receipt_sha256)."""
    line.merchant_key = merchant_key(line.merchant)
    if upload is not None and not line.receipt_sha256:
        line.receipt_sha256 = receipt_hash(upload)


def _live():
    return ExpenseLine.objects.exclude(status=LineStatus.REJECTED).exclude(
        request__status=RequestStatus.WITHDRAWN
    )


def history_for(
    lines: list[LineFacts], *, requester, checks: SpendChecks, exclude_request: int | None
) -> PastLines:
    """The past lines the checks need, by at most three indexed queries."""
    rows: dict[tuple[int, int], dict] = {}

    def take(queryset):
        if exclude_request:
            queryset = queryset.exclude(request_id=exclude_request)
        for row in queryset.order_by().values(*PAST_FIELDS)[:CANDIDATES]:
            rows[(row["request_id"], row["position"])] = row

    hashes = sorted({x.receipt_sha256 for x in lines if x.receipt_sha256})
    if hashes and checks.duplicates != "off":
        take(_live().filter(receipt_sha256__in=hashes))
    window = timedelta(days=max(checks.near_days, 0))
    near = Q()
    for x in lines:
        if x.merchant_key:
            near |= Q(merchant_key=x.merchant_key, date__range=(x.date - window, x.date + window))
    if near and (checks.duplicates != "off" or checks.near_duplicates != "off"):
        take(_live().filter(near))
    if checks.splits != "off" and requester is not None:
        since = timezone.now() - timedelta(days=checks.split_days + 1)
        recent = (
            ExpenseRequest.objects.filter(requester=requester, created_at__gte=since)
            .exclude(status__in=[RequestStatus.WITHDRAWN, RequestStatus.REJECTED])
            .values("pk")
        )
        take(_live().filter(request_id__in=recent))
    return PastLines([past_line(row) for row in rows.values()])


def holidays_for(requester, day: date) -> frozenset[date]:
    subdivision = getattr(requester, "holiday_subdivision", "") or settings.HOLIDAY_SUBDIVISION
    found = holiday_dates(settings.HOLIDAY_COUNTRY, subdivision, day.year - 1, day.year + 1)
    return frozenset(date.fromisoformat(d) for d in found)


def flags_for(
    *,
    lines: list[ExpenseLine],
    requester,
    rules: PolicyRules,
    day: date,
    total_cents: int,
    request_id: int = 0,
) -> list[Flag]:
    """Evaluate the report's (saved or unsaved) lines under `rules`."""
    checks = checks_of(rules)
    facts = [line_facts(line, day) for line in lines]
    if not rules.checks:
        return []
    history = history_for(
        facts, requester=requester, checks=checks, exclude_request=request_id or None
    )
    report = ReportFacts(
        requester=requester.username,
        day=day,
        total_cents=total_cents,
        request_id=request_id,
        holidays=holidays_for(requester, day)
        if checks.weekend != "off" or checks.holiday != "off"
        else frozenset(),
        routing_thresholds=routing_thresholds(rules),
    )
    return evaluate(facts, report, history, checks)


def refuse_blocking(flags: list[Flag]) -> None:
    blocked = [f for f in flags if f.severity == BLOCK]
    if blocked:
        raise FlagsBlocked(blocked)


def store(*, request: ExpenseRequest, flags: list[Flag], key: str = "flags:submitted") -> None:
    """Replace the request's flags (submission, resubmission) and audit them."""
    LineFlag.objects.filter(request=request, noted_by="").delete()
    kept = set(LineFlag.objects.filter(request=request).values_list("position", "code"))
    if kept:
        cached_flags.forget(request.pk)  # the inbox reads them again
    else:
        cached_flags.remember(
            request.pk,
            [
                {"position": f.line, "code": f.code, "severity": f.severity, "params": f.params}
                | {"note": ""}
                for f in flags
            ],
        )
    LineFlag.objects.bulk_create(
        LineFlag(
            request=request,
            position=f.line,
            code=f.code,
            severity=f.severity,
            params=f.params,
        )
        for f in flags
        if (f.line, f.code) not in kept
    )
    if flags:
        AuditEntry(
            request=request,
            key=key,
            at=timezone.now(),
            kind="flagged",
            source="web",
            detail={
                "flags": [
                    {"line": f.line, "code": f.code, "severity": f.severity, "params": f.params}
                    for f in flags
                ]
            },
        ).save()


NOTE_FIELD = re.compile(r"^flag_note_(\d{1,3})$")
NOTE_MAX = 2000


def notes_from(post) -> dict[int, str]:
    """The approver's `flag_note_<n>` fields (non-empty, stripped). Raises
    ValidationError for a note over the limit (before anything is decided)."""
    notes = {}
    for name, value in post.items():
        found = NOTE_FIELD.match(name)
        text = " ".join(str(value).split()) if found else ""
        if not text:
            continue
        if len(text) > NOTE_MAX:
            raise ValidationError(
                _("A note on the flags may have at most %(max)s characters.") % {"max": NOTE_MAX}
            )
        notes[int(found.group(1))] = text
    return notes


def note(*, request_id: int, by, notes: dict[int, str]) -> int:
    """Store why flagged lines are fine (with a decision that succeeded): on their flags
    and in the audit timeline. Lines without a flag are ignored. Returns rows noted."""
    if not notes:
        return 0
    now = timezone.now()
    noted = {}
    for position, text in sorted(notes.items()):
        if LineFlag.objects.filter(request_id=request_id, position=position).update(
            note=text, noted_by=by.username, noted_at=now
        ):
            noted[str(position)] = text
    if noted:
        cached_flags.forget(request_id)
        AuditEntry(
            request_id=request_id,
            key=f"flag_note:{now.isoformat()}:{by.username}",
            at=now,
            kind="flag_note",
            source="web",
            actor_username=by.username,
            actor_name=getattr(by, "display_name", "") or by.username,
            comment="\n".join(f"{n}: {t}" for n, t in noted.items()),
            detail={"notes": noted},
        ).save()
    return len(noted)
