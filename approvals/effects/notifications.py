"""Email notifications for workflow transitions, sent at most once per key.

Plain-text mail only: nothing a requester types is ever rendered as HTML in
a mail client. Each (request, seq:kind, recipient) is sent once; a crash
between sending and recording can repeat one mail (at-least-once), never
lose one.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import ExpenseRequest, Notification
from ..workflow.contract import StepEvent, Transition


def _recipients(event: StepEvent, t: Transition) -> list[str]:
    state = t.state
    if event.kind in {"assigned", "reminder"}:
        return list(event.recipients)
    if event.kind == "escalated":
        return [*event.recipients, state.requester]
    if event.kind == "decided" and event.detail.get("action") == "request_changes":
        return [state.requester]
    if event.kind == "completed":
        return [state.requester]
    return []


def _subject(event: StepEvent, t: Transition) -> str:
    state = t.state
    title = state.title
    if event.kind == "assigned":
        return _("Expense request #%(id)s awaits your decision: %(title)s") % {
            "id": state.request_id,
            "title": title,
        }
    if event.kind == "reminder":
        return _("Reminder: expense request #%(id)s is due: %(title)s") % {
            "id": state.request_id,
            "title": title,
        }
    if event.kind == "escalated":
        return _("Expense request #%(id)s was escalated: %(title)s") % {
            "id": state.request_id,
            "title": title,
        }
    if event.kind == "decided":
        return _("Changes requested on expense request #%(id)s: %(title)s") % {
            "id": state.request_id,
            "title": title,
        }
    return _("Expense request #%(id)s is %(status)s: %(title)s") % {
        "id": state.request_id,
        "status": event.detail.get("outcome", state.status),
        "title": title,
    }


def send_for_transition(t: Transition) -> int:
    state = t.state
    request = ExpenseRequest.objects.filter(pk=state.request_id).first()
    if request is None:
        return 0
    link = f"{settings.APP_BASE_URL.rstrip('/')}/requests/{state.request_id}/"
    sent = 0
    for event in t.events:
        names = _recipients(event, t)
        if not names:
            continue
        key = f"{event.detail.get('seq', 0)}:{event.kind}"
        for user in User.objects.filter(username__in=names, is_active=True):
            if Notification.objects.filter(
                request=request, key=key, recipient=user.username
            ).exists():
                continue
            with translation.override(settings.LANGUAGE_CODE):
                subject = _subject(event, t)
                body = "\n".join(
                    line
                    for line in [
                        subject,
                        "",
                        _("Amount: %(amount)s %(currency)s")
                        % {
                            "amount": f"{state.amount_cents / 100:,.2f}",
                            "currency": state.currency,
                        },
                        _("Requested by: %(name)s") % {"name": state.requester_display},
                        (_("Comment: %(comment)s") % {"comment": event.comment})
                        if event.comment
                        else "",
                        "",
                        _("Open the request: %(link)s") % {"link": link},
                    ]
                )
            if user.email:
                send_mail(subject.replace("\n", " ")[:200], body, None, [user.email])
            with contextlib.suppress(IntegrityError):
                Notification.objects.create(request=request, key=key, recipient=user.username)
            sent += 1
    return sent
