"""Mails about bank details: to the person (was it you?) and to the finance group (what
is held, where to confirm). Each in the reader's language (a `language` on the person
once profiles have one, else LANGUAGE_CODE), sent after commit; a mail that cannot be
sent is logged and never undoes the change."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.urls import page_url

from .bank import mask
from .language import language_of
from .models import AccountAuditEntry, User
from .selectors import finance_people

log = logging.getLogger(__name__)


def _language(user: User) -> str:
    return language_of(user)


def _send(user: User, subject: str, body: str) -> None:
    if not user.email:
        return
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # noqa: BLE001 - a mail server away must not fail the change
        log.exception("bank-detail mail to %s failed", user.username)


def tell_change(entry_id: int, held: int) -> None:
    entry = AccountAuditEntry.objects.select_related("subject").get(pk=entry_id)
    person, d = entry.subject, entry.detail
    values = {
        "name": person.display_name,
        "old": mask(d.get("old_iban", "")) if d.get("old_iban") else "—",
        "new": mask(d.get("new_iban", "")),
        "bic": d.get("new_bic") or "—",
    }
    with translation.override(_language(person)):
        values["when"] = formats.date_format(timezone.localtime(entry.at), "SHORT_DATETIME_FORMAT")
        subject = _("Your bank details were changed")
        body = (
            _(
                "Your bank details for expense payouts were changed on %(when)s: "
                "IBAN %(old)s is now %(new)s (BIC %(bic)s)."
            )
            % values
        )
        if entry.needs_confirmation:
            body += "\n\n" + ngettext(
                "%(count)d payment waits until finance has confirmed the change.",
                "%(count)d payments wait until finance has confirmed the change.",
                held,
            ) % {"count": held}
        body += "\n\n" + _(
            "If you did not make this change, tell the finance team at once and change "
            "your password."
        )
        body += f"\n\n{page_url('bank-details')}\n"
    _send(person, subject, body)
    for member in finance_people():
        if member.pk == person.pk:
            continue
        with translation.override(_language(member)):
            values["when"] = formats.date_format(
                timezone.localtime(entry.at), "SHORT_DATETIME_FORMAT"
            )
            subject = _("Bank details of %(name)s changed") % values
            body = (
                _(
                    "%(name)s changed their bank details on %(when)s: IBAN %(old)s is now "
                    "%(new)s (BIC %(bic)s)."
                )
                % values
            )
            if entry.needs_confirmation:
                body += "\n\n" + ngettext(
                    "%(count)d payment is on hold until a finance member confirms the change.",
                    "%(count)d payments are on hold until a finance member confirms the change.",
                    held,
                ) % {"count": held}
                body += (
                    " "
                    + _(
                        "Confirm only after checking the new account with %(name)s through a "
                        "channel you already know (not by replying to this mail)."
                    )
                    % values
                )
                body += f"\n\n{page_url('payout-batches')}\n"
        _send(member, subject, body)


def tell_confirmed(confirmation_id: int, released: int) -> None:
    row = AccountAuditEntry.objects.select_related("subject").get(pk=confirmation_id)
    person = row.subject
    with translation.override(_language(person)):
        subject = _("Finance confirmed your new bank details")
        body = _("%(by)s confirmed the new IBAN %(iban)s.") % {
            "by": row.actor_name,
            "iban": mask(row.detail.get("iban", "")),
        }
        body += " " + ngettext(
            "%(count)d payment is scheduled again.",
            "%(count)d payments are scheduled again.",
            released,
        ) % {"count": released}
        body += "\n"
    _send(person, subject, body)
