"""Email notifications for workflow transitions, sent at most once per key.

Every mail is plain text with an HTML alternative, both rendered from
templates/approvals/mail/ (the HTML autoescaped), so what a requester types
is text in both; no header is built from typed text without folding it to
one safe line (`text.header_line`). A mail that asks someone to decide
(assignment, reminder, escalation; a re-route assigns anew) carries signed
approve and reject links for that person, level and round
(`approvals.links`); an active delegate of an approver gets the same mail
with links of their own. Each (request, seq:kind, recipient) is sent once; a
crash between sending and recording can repeat one mail (at-least-once),
never lose one.

Errors are classified: a mail that can never go out as composed (header
refused, invalid address, template error, a 5xx refusal) is recorded as a
failed `Notification` with its cause and the others still go out; then
`PermanentMailError` is raised so the activity does not retry it. Anything
else (SMTP down, a socket error, a 4xx) propagates as is: Temporal retries.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass
from typing import cast

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from accounts.language import as_reader, user_named
from accounts.models import Delegation, User
from core.text import clean_text, header_line

from .. import metrics
from ..amounts import minor_text
from ..links import LinkClaim, link_url, new_decision_id, request_url
from ..models import ExpenseRequest, Notification, NotificationStatus
from ..people import people_cache
from ..selectors.flags import flags_of_id
from ..step_words import MAIL_SUBJECTS, OUTCOME_SUBJECT
from ..words import status_word
from ..workflow import details
from ..workflow.contract import Action, StepEvent, StepKind, Transition

# Mails that ask their approver recipients to decide the event's level.
ASKS_TO_DECIDE = frozenset({StepKind.ASSIGNED, StepKind.REMINDER, StepKind.ESCALATED})

log = logging.getLogger(__name__)


class PermanentMailError(Exception):
    """A mail that retrying cannot send (its failure is recorded). Non-retryable.

    The type name is what Temporal sees (`ApplicationError.type`), so a retry
    policy can list it in `non_retryable_error_types`.
    """

    def __init__(self, message: str, *, failures: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.failures = failures or []  # (recipient, cause)


def is_permanent(exc: BaseException) -> bool:
    """True when sending the same mail again cannot succeed."""
    if isinstance(exc, PermanentMailError | TemplateDoesNotExist | TemplateSyntaxError):
        return True
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    # BadHeaderError, an address sanitize_address refuses, an unencodable text.
    return isinstance(exc, ValueError)


def cause_of(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


@dataclass
class Mail:
    subject: str
    body: str
    html: str = ""  # the HTML alternative; a resent mail goes as text only


def _recipients(event: StepEvent, t: Transition) -> list[str]:
    state = t.state
    if event.kind in {StepKind.ASSIGNED, StepKind.REMINDER}:
        return list(event.recipients)
    if event.kind == StepKind.ESCALATED:
        return [*event.recipients, state.requester]
    decided = event.kind == StepKind.DECIDED and details.decided(event).get("action")
    if decided == Action.REQUEST_CHANGES:
        return [state.requester]
    if event.kind == StepKind.COMPLETED:
        return [state.requester]
    if event.kind == StepKind.NEEDS_APPROVER:
        # The admins are told a level waits on nobody (their queue is /ops/).
        return [name for name in event.recipients if name != state.requester]
    return []


def _subject(event: StepEvent, t: Transition) -> str:
    state = t.state
    values = {"id": state.request_id, "level": event.level, "title": state.title}
    subject = MAIL_SUBJECTS.get(cast(StepKind, event.kind))
    if subject is None:  # the request ended
        outcome = details.completed(event).get("outcome", state.status)
        return str(OUTCOME_SUBJECT) % {**values, "status": status_word(outcome)}
    return str(subject) % values


def _deciders(event: StepEvent) -> list[str]:
    """Who this event asks to decide: its approvers (not e.g. an escalation's requester)."""
    if event.kind not in ASKS_TO_DECIDE or event.level <= 0:
        return []
    return list(event.recipients)


def audience(event: StepEvent, t: Transition) -> dict[str, str]:
    """Who gets this event's mail: username -> the principal's name for an active delegate
    of an approver (asked to decide for them), "" for everyone else."""
    names = dict.fromkeys(_recipients(event, t), "")
    deciders = _deciders(event)
    if deciders:
        for d in (
            Delegation.objects.active()
            .filter(user__username__in=deciders, user__is_active=True)
            .select_related("user", "delegate")
            .order_by("user__username")
        ):
            # Never asked to decide their own request, nor twice.
            if d.delegate.username != t.state.requester:
                names.setdefault(d.delegate.username, d.user.display_name)
    return names


def _links(recipient: str, event: StepEvent, t: Transition) -> dict[str, str]:
    """Approve and reject links for `recipient`: one decision id per mail, so whichever
    link is used first decides, and the other then only shows what happened."""
    decision_id = new_decision_id()
    return {
        f"{action}_url": link_url(
            LinkClaim(
                username=recipient,
                request_id=t.state.request_id,
                level=event.level,
                round=t.state.round,
                action=action,
                decision_id=decision_id,
            )
        )
        for action in (Action.APPROVE, Action.REJECT)
    }


def _mail_lines(request_id: int) -> tuple[list[dict], str, str]:
    """The report's lines as a mail lists them (date, merchant, amount, rejected or not),
    the report's total and what is approved of it, in the active language."""
    from ..selectors.lines import approved_total, lines_by_request, report_total
    from ..templatetags.amounts import eur_cents, money

    lines = lines_by_request([request_id]).get(request_id, [])
    rows = [
        {
            "n": line.position,
            "date": formats.date_format(line.date, "SHORT_DATE_FORMAT") if line.date else "",
            "merchant": header_line(line.merchant) if line.merchant else "",
            "amount": money(line.amount, line.currency),
            "rejected": line.rejected,
            "reason": clean_text(line.rejection_reason, multiline=False)
            if line.rejection_reason
            else "",
        }
        for line in lines
    ]
    if not lines:
        return [], "", ""
    return (
        rows,
        eur_cents(report_total(lines).eur_cents),
        eur_cents(approved_total(lines).eur_cents),
    )


def compose(
    event: StepEvent, t: Transition, recipient: str = "", principal: str = "", language: str = ""
) -> Mail:
    """The mail of `event` for `recipient` (in `language`, else the site's): with decision
    links when it asks them to decide (as an approver, or as the delegate of `principal`)."""
    state = t.state
    link = request_url(state.request_id)
    decides = bool(recipient) and (recipient in _deciders(event) or bool(principal))
    # In the recipient's language and time zone (their profile; else the organisation's).
    # An explicit `language` (a caller that knows better, e.g. a preview) wins over it.
    with (
        as_reader(user_named(recipient)),
        translation.override(language or translation.get_language()),
        people_cache(),
    ):
        subject = _subject(event, t)
        lines, lines_total, approved = _mail_lines(state.request_id)
        context = {
            "lines": lines,
            "lines_total": lines_total,
            "approved_total": approved,
            "subject": header_line(subject, limit=1000),
            "amount": minor_text(state.amount_cents, state.currency),
            "currency": state.currency,
            "requester": header_line(state.requester_display),
            "comment": clean_text(event.comment, multiline=True) if event.comment else "",
            "link": link,
            "level": event.level,
            "principal": header_line(principal),
            # The spend checks' flags, for whoever is asked to decide (issue 27).
            "flags": flags_of_id(state.request_id) if decides else [],
            **(_links(recipient, event, t) if decides else {}),
        }
        body = render_to_string("approvals/mail/notification.txt", context)
        html = render_to_string("approvals/mail/notification.html", context)
    return Mail(subject=header_line(subject), body=body, html=html)


def _deliver(mail: Mail, address: str) -> None:
    # The subject is folded again here: whatever composed it, no CR/LF reaches a header.
    message = EmailMultiAlternatives(header_line(mail.subject), mail.body, None, [address])
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    message.send()


def record_failure(
    *, request_id: int, key: str, recipient: str, cause: str, mail: Mail | None = None
) -> Notification:
    """Record a side effect that failed for good (idempotent per request, key, recipient).

    Called when a mail is refused permanently, and by the workflow's path for a
    notification it gave up on; `/ops/` lists these rows and can resend them.
    """
    now = timezone.now()
    with transaction.atomic():
        row, created = Notification.objects.select_for_update().get_or_create(
            request_id=request_id,
            key=key,
            recipient=recipient,
            defaults={
                "status": NotificationStatus.FAILED,
                "error": cause[:1000],
                "subject": mail.subject[:200] if mail else "",
                "body": mail.body if mail else "",
                "failed_at": now,
            },
        )
        if not created and row.status == NotificationStatus.FAILED:
            row.error = cause[:1000]
            row.failed_at = now
            if mail:
                row.subject, row.body = mail.subject[:200], mail.body
            row.save(update_fields=["error", "failed_at", "subject", "body"])
    if created:
        metrics.SIDE_EFFECT_FAILURES.labels(kind="mail").inc()
        log.warning("mail %s to %s for request %s failed: %s", key, recipient, request_id, cause)
    return row


def record_transition_failure(t: Transition, cause: str) -> int:
    """Record every mail of `t` not sent yet as failed with `cause` (the workflow gave up).

    For the workflow's path after `send_notifications` failed for good (retries
    exhausted or non-retryable). Idempotent; returns how many rows it recorded.
    """
    recorded = 0
    if not ExpenseRequest.objects.filter(pk=t.state.request_id).exists():
        return 0
    for event in t.events:
        names = audience(event, t)
        key = f"{details.common(event).get('seq', 0)}:{event.kind}"
        done = set(
            Notification.objects.filter(
                request_id=t.state.request_id, key=key, recipient__in=list(names)
            ).values_list("recipient", flat=True)
        )
        for name in names:
            if name in done:
                continue
            try:
                mail = compose(event, t, name, names[name])
            except Exception:  # a template error is a cause too; keep the one given
                mail = None
            record_failure(
                request_id=t.state.request_id, key=key, recipient=name, cause=cause, mail=mail
            )
            recorded += 1
    return recorded


def send_for_transition(t: Transition) -> int:
    state = t.state
    request = ExpenseRequest.objects.filter(pk=state.request_id).first()
    if request is None:
        return 0
    sent = 0
    failures: list[tuple[str, str]] = []
    for event in t.events:
        names = audience(event, t)
        if not names:
            continue
        key = f"{details.common(event).get('seq', 0)}:{event.kind}"
        for user in User.objects.filter(username__in=names, is_active=True):
            if Notification.objects.filter(
                request=request, key=key, recipient=user.username
            ).exists():
                continue  # sent, or failed for good (resent from /ops/ only)
            mail = None
            try:
                mail = compose(
                    event,
                    t,
                    user.username,
                    names[user.username],
                )
                if user.email:
                    _deliver(mail, user.email)
            except Exception as exc:
                if not is_permanent(exc):
                    raise  # transient: the activity is retried, sent mails are not repeated
                cause = cause_of(exc)
                record_failure(
                    request_id=request.pk, key=key, recipient=user.username, cause=cause, mail=mail
                )
                failures.append((user.username, cause))
                continue
            with contextlib.suppress(IntegrityError):
                Notification.objects.create(request=request, key=key, recipient=user.username)
            sent += 1
    if failures:
        raise PermanentMailError(
            "; ".join(f"{name}: {cause}" for name, cause in failures), failures=failures
        )
    return sent


def resend(notification_id: int) -> bool:
    """Send a failed mail again, once (safe to repeat). True when it went out now."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, status=NotificationStatus.FAILED)
            .first()
        )
        if row is None:
            return False  # already sent (by an earlier click) or unknown
        user = User.objects.filter(username=row.recipient, is_active=True).first()
        try:
            if user is None or not user.email:
                raise PermanentMailError("The recipient has no active account with an address.")
            if not row.body:
                raise PermanentMailError("The mail was never composed; nothing to resend.")
            _deliver(Mail(subject=row.subject, body=row.body), user.email)
        except Exception as exc:
            row.error = cause_of(exc)
            row.failed_at = timezone.now()
            row.save(update_fields=["error", "failed_at"])
            return False
        row.status = NotificationStatus.SENT
        row.error = ""
        row.save(update_fields=["status", "error"])
    return True
