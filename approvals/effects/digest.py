"""The daily digest and the weekly overdue report: who gets one, what it says, sent once.

Read from the projection (`ExpenseRequest`, `AuditEntry`), written by the periodic
activities (approvals/worker/periodic.py). The period comes from the run's scheduled
time in `TIME_ZONE`: the local day for the digest, the ISO week for the report, so two
triggers on one day are one period. Each mail is a `Notification` without a request,
keyed `<kind>:<period>` per recipient: the row is inserted in the transaction that
sends the mail, so a second run (or a concurrent one, which waits on the unique index)
finds it and sends nothing; a transient failure rolls it back and the retry sends; a
crash between sending and committing can repeat one mail (at least once, never lost).
A permanent failure is kept as a failed row, which `/ops/` lists and can resend.

Each digest item carries decision links under the same rules as the assignment mails
(approvals/links.py): signed for the recipient (an approver, or the delegate deciding for
one), that request, its current level and round (1 + its resubmissions, from the audit),
one decision id per item; a link for a level that moved on only says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.language import as_reader
from accounts.models import Delegation, User
from accounts.selectors import admin_usernames
from core.text import header_line

from .. import metrics, money
from ..amounts import minor_text
from ..links import LinkClaim, absolute_url, link_url, new_decision_id, request_url
from ..models import AuditEntry, ExpenseRequest, Notification, NotificationStatus, RequestStatus
from ..workflow.contract import Action, StepKind, WaitingReason
from ..workflow.periodic import MailKind, Outcome
from .notifications import Mail, _deliver, cause_of, is_permanent


def local_time(scheduled_at: str) -> datetime:
    return datetime.fromisoformat(scheduled_at).astimezone(ZoneInfo(settings.TIME_ZONE))


def period_of(kind: str, scheduled_at: str) -> str:
    """The digest's local day ("2026-12-01") or the report's ISO week ("2026-W49")."""
    local = local_time(scheduled_at)
    if kind == MailKind.OVERDUE_REPORT:
        year, week, _day = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def mail_key(kind: str, period: str) -> str:
    return f"{kind}:{period}"


def _eur(request: ExpenseRequest) -> str:
    """The request's amount in EUR in the reader's language ("1.234,50 EUR" in German)."""
    cents = request.base_amount_cents
    if cents is None:  # from before rates existed: only EUR requests are comparable
        cents = request.amount_cents if request.currency == money.BASE_CURRENCY else 0
    return f"{minor_text(cents)} {money.BASE_CURRENCY}"


@dataclass
class Item:
    request_id: int
    title: str
    requester: str
    amount_eur: str
    due: str  # local, in the mail's language
    overdue: bool
    url: str
    approvers: str = ""
    on_behalf_of: str = ""
    approve_url: str = ""
    reject_url: str = ""


def _item(request: ExpenseRequest, now: datetime, on_behalf_of: str = "") -> Item:
    due = request.due_at
    return Item(
        request_id=request.pk,
        title=header_line(request.title),
        requester=header_line(request.requester.display_name),
        amount_eur=_eur(request),
        due=formats.date_format(timezone.localtime(due), "DATETIME_FORMAT") if due else "—",
        overdue=due is not None and due < now,
        url=request_url(request.pk),
        approvers=", ".join(request.pending_approvers),
        on_behalf_of=on_behalf_of,
    )


def _decision_links(username: str, request: ExpenseRequest) -> tuple[str, str]:
    """Approve and reject links for `username` on the request's current level and round."""
    rounds = 1 + request.audit.filter(kind=StepKind.RESUBMITTED).count()
    decision_id = new_decision_id()
    return tuple(
        link_url(
            LinkClaim(
                username=username,
                request_id=request.pk,
                level=request.current_level,
                round=rounds,
                action=action,
                decision_id=decision_id,
            )
        )
        for action in (Action.APPROVE, Action.REJECT)
    )


def _waiting_on(names: set[str]):
    """Pending requests whose current level waits on any of `names` (the projection)."""
    if not names:
        return []
    match = Q()
    for name in names:
        if connection.features.supports_json_field_contains:
            match |= Q(pending_approvers__contains=[name])
        else:  # SQLite: narrow by text, check the list exactly below
            match |= Q(pending_approvers__icontains=f'"{name}"')
    qs = ExpenseRequest.objects.filter(match, status=RequestStatus.PENDING)
    return [r for r in qs.select_related("requester") if names & set(r.pending_approvers)]


def _principals(user: User) -> dict[str, str]:
    """Whose levels `user` may decide today: username -> "" (own) or the delegator's name."""
    names = {user.username: ""}
    for d in (
        Delegation.objects.active()
        .filter(delegate=user, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ):
        names.setdefault(d.user.username, d.user.display_name)
    return names


def digest_items(user: User, now: datetime | None = None) -> list[Item]:
    """`user`'s pending decisions (own and as an active delegate), overdue first, then by
    due time; never their own requests."""
    now = now or timezone.now()
    principals = _principals(user)
    rows = []
    for request in _waiting_on(set(principals)):
        if request.requester_id == user.pk:
            continue
        mine = user.username in request.pending_approvers
        for_whom = (
            ""
            if mine
            else next((principals[n] for n in request.pending_approvers if n in principals), "")
        )
        item = _item(request, now, on_behalf_of=for_whom)
        item.approve_url, item.reject_url = _decision_links(user.username, request)
        rows.append(
            ((not item.overdue, request.due_at is None, request.due_at or now, request.pk), item)
        )
    return [item for _key, item in sorted(rows, key=lambda row: row[0])]


def _mail_users(names) -> list[User]:
    return list(User.objects.filter(username__in=names, is_active=True).exclude(email=""))


def digest_recipients() -> list[str]:
    """Everyone with something to decide who wants the digest (approvers and their active
    delegates), each checked to have at least one item."""
    approvers: set[str] = set()
    for names in ExpenseRequest.objects.filter(status=RequestStatus.PENDING).values_list(
        "pending_approvers", flat=True
    ):
        approvers.update(names or [])
    delegates = Delegation.objects.active().filter(
        user__username__in=approvers, user__is_active=True
    )
    candidates = approvers | set(delegates.values_list("delegate__username", flat=True))
    users = [u for u in _mail_users(candidates) if u.receives_digest]
    return sorted(u.username for u in users if digest_items(u))


@dataclass
class Report:
    week: str
    starts: date
    ends: date
    overdue: list[tuple[str, list[Item]]] = field(default_factory=list)  # by approver
    escalations: list[dict] = field(default_factory=list)
    waiting: list[Item] = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        return len({i.request_id for _name, items in self.overdue for i in items})


def overdue_report(scheduled_at: str, now: datetime | None = None) -> Report:
    """Overdue requests by approver (as of now), the escalations of the run's week and the
    requests that wait on nobody."""
    now = now or timezone.now()
    local = local_time(scheduled_at)
    monday = local.date() - timedelta(days=local.weekday())
    report = Report(
        week=period_of(MailKind.OVERDUE_REPORT, scheduled_at),
        starts=monday,
        ends=monday + timedelta(days=6),
    )
    pending = ExpenseRequest.objects.filter(status=RequestStatus.PENDING).select_related(
        "requester"
    )
    by_approver: dict[str, list[Item]] = {}
    for request in pending.filter(due_at__lt=now).order_by("due_at", "pk"):
        for name in request.pending_approvers or ["—"]:
            by_approver.setdefault(name, []).append(_item(request, now))
    people = {u.username: u.display_name for u in User.objects.filter(username__in=by_approver)}
    report.overdue = [(people.get(n, n), by_approver[n]) for n in sorted(by_approver)]
    week_start = datetime.combine(monday, datetime.min.time(), tzinfo=local.tzinfo)
    for entry in (
        AuditEntry.objects.filter(
            kind=StepKind.ESCALATED, at__gte=week_start, at__lt=week_start + timedelta(days=7)
        )
        .select_related("request")
        .order_by("at", "pk")
    ):
        report.escalations.append(
            {
                "request_id": entry.request_id,
                "title": header_line(entry.request.title),
                "level": entry.level,
                "at": formats.date_format(timezone.localtime(entry.at), "DATETIME_FORMAT"),
                "from": ", ".join(entry.detail.get("from", [])) or "—",
                "to": ", ".join(entry.detail.get("to", [])) or "—",
                "url": request_url(entry.request_id),
            }
        )
    waiting = pending.filter(waiting_reason=WaitingReason.NEEDS_APPROVER).order_by("pk")
    report.waiting = [_item(r, now) for r in waiting]
    return report


def report_recipients() -> list[str]:
    return sorted(u.username for u in _mail_users(admin_usernames()))


def recipients(kind: str) -> list[str]:
    return digest_recipients() if kind == MailKind.DIGEST else report_recipients()


def compose(kind: str, user: User, scheduled_at: str) -> Mail | None:
    """The mail for `user`, in their language; None when there is nothing to tell."""
    with as_reader(user):
        day = formats.date_format(local_time(scheduled_at).date(), "DATE_FORMAT")
        context: dict = {
            "name": header_line(user.display_name),
            "base": absolute_url(""),
            "day": day,
        }
        if kind == MailKind.DIGEST:
            items = digest_items(user)
            if not items:
                return None
            overdue = sum(1 for i in items if i.overdue)
            subject = _(
                "Your approvals digest for %(day)s: %(count)s waiting, %(overdue)s overdue"
            ) % {"day": day, "count": len(items), "overdue": overdue}
            context.update(
                items=items,
                inbox=absolute_url(reverse("inbox")),
                profile=absolute_url(reverse("profile")),
            )
            template = "approvals/mail/digest"
        else:
            report = overdue_report(scheduled_at)
            subject = _(
                "Overdue report %(week)s: %(overdue)s overdue, %(escalations)s escalations, "
                "%(waiting)s waiting on nobody"
            ) % {
                "week": report.week,
                "overdue": report.overdue_count,
                "escalations": len(report.escalations),
                "waiting": len(report.waiting),
            }
            context.update(report=report, ops=absolute_url(reverse("ops")))
            template = "approvals/mail/overdue_report"
        context["subject"] = header_line(subject, limit=1000)
        body = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    return Mail(subject=header_line(subject), body=body, html=html)


def send_once(kind: str, period: str, username: str, scheduled_at: str) -> str:
    """Send `username` this period's mail unless it went (or failed for good) already."""
    user = User.objects.filter(username=username, is_active=True).exclude(email="").first()
    if user is None or (kind == MailKind.DIGEST and not user.receives_digest):
        return Outcome.SKIPPED  # left, lost the address or opted out since the plan
    key = mail_key(kind, period)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = Notification.objects.create(request=None, key=key, recipient=username)
        except IntegrityError:
            return Outcome.SKIPPED  # this period's mail: sent, or failed (resend on /ops/)
        mail = None
        try:
            mail = compose(kind, user, scheduled_at)
            if mail is None:
                transaction.set_rollback(True)  # nothing to tell: a later run may send
                return Outcome.SKIPPED
            _deliver(mail, user.email)
        except Exception as exc:
            if not is_permanent(exc):
                raise  # rolled back: the activity's retry sends it
            _mark_failed(row, cause_of(exc), mail)
            return Outcome.FAILED
    return Outcome.SENT


def _mark_failed(row: Notification, cause: str, mail: Mail | None) -> None:
    row.status = NotificationStatus.FAILED
    row.error = cause[:1000]
    row.failed_at = timezone.now()
    if mail is not None:
        row.subject, row.body = mail.subject[:200], mail.body
    row.save(update_fields=["status", "error", "failed_at", "subject", "body"])
    metrics.SIDE_EFFECT_FAILURES.labels(kind="mail").inc()


def record_failure(kind: str, period: str, username: str, scheduled_at: str, cause: str) -> bool:
    """The run gave up on this mail (retries exhausted): a failed row for /ops/. Idempotent."""
    user = User.objects.filter(username=username).first()
    try:
        mail = compose(kind, user, scheduled_at) if user is not None else None
    except Exception:  # a template error is a cause too; keep the one given
        mail = None
    with transaction.atomic():
        row, created = Notification.objects.select_for_update().get_or_create(
            request=None, key=mail_key(kind, period), recipient=username
        )
        if created or row.status == NotificationStatus.FAILED:
            _mark_failed(row, cause, mail)
    return created
