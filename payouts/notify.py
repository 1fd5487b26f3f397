"""The mail to a requester whose payout was paid: when, and to which account (masked).

Sent by the file step for every payment its batch paid, after the file is stored, and
again on a retry of that step for whoever has no `Notification` row yet (so a crash
between the file and the mails loses none and a retry doubles none). A refused mail
is recorded as failed for /ops/ (Resend), never fails the step.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.language import language_of
from accounts.models import User
from approvals.amounts import minor_text
from approvals.links import request_url
from approvals.models import ExpenseRequest, Notification

from .models import Payment
from .selectors import last_four

log = logging.getLogger(__name__)


def _language(user: User) -> str:
    return language_of(user)


def tell_paid(request_ids: list[int]) -> int:
    """Mail each paid request's requester once; returns how many mails went out."""
    sent = 0
    payments = Payment.objects.filter(request_id__in=request_ids, status="paid")
    requests = {
        r.pk: r
        for r in ExpenseRequest.objects.filter(pk__in=request_ids).select_related("requester")
    }
    for payment in payments:
        request = requests.get(payment.request_id)
        if request is None:
            continue
        user, key = request.requester, f"payout:{payment.round}:paid"
        if not user.is_active or not user.email:
            continue
        if Notification.objects.filter(request=request, key=key, recipient=user.username).exists():
            continue
        with translation.override(_language(user)):
            values = {
                "id": payment.request_id,
                "amount": minor_text(payment.amount_cents),
                "iban": last_four(payment.iban),
                "title": request.title,
                "when": formats.date_format(
                    timezone.localtime(payment.paid_at or timezone.now()), "DATE_FORMAT"
                ),
            }
            subject = _("Expense request #%(id)s was paid") % values
            body = (
                _(
                    "%(amount)s EUR of expense request #%(id)s (%(title)s) were paid on %(when)s "
                    "to your account IBAN %(iban)s."
                )
                % values
            )
            body += f"\n\n{request_url(payment.request_id)}\n"
        try:
            send_mail(subject, body, None, [user.email])
        except Exception as exc:  # noqa: BLE001 - recorded for /ops/, the payment stands
            from approvals.effects.notifications import Mail, record_failure

            record_failure(
                request_id=payment.request_id,
                key=key,
                recipient=user.username,
                cause=str(exc) or type(exc).__name__,
                mail=Mail(subject=subject, body=body),
            )
            continue
        try:
            with transaction.atomic():
                Notification.objects.create(request=request, key=key, recipient=user.username)
        except IntegrityError:
            pass
        sent += 1
    return sent
