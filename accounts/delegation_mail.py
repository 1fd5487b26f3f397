"""The mail to a person named as someone's delegate: who, from when to when, what it means
and where to see it; in the delegate's language, sent after commit. A mail that cannot be
sent is logged and never undoes the delegation."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.utils import formats
from django.utils.translation import gettext as _

from core.urls import page_url

from .language import as_reader
from .models import Delegation

log = logging.getLogger(__name__)


def tell_delegate(delegation_id: int) -> None:
    item = Delegation.objects.select_related("user", "delegate").filter(pk=delegation_id).first()
    if item is None or not item.delegate.email or not item.delegate.is_active:
        return
    with as_reader(item.delegate):
        values = {
            "name": item.user.display_name,
            "start": formats.date_format(item.starts_on, "SHORT_DATE_FORMAT"),
            "end": formats.date_format(item.ends_on, "SHORT_DATE_FORMAT"),
        }
        subject = _("%(name)s named you as their delegate") % values
        body = (
            _(
                "%(name)s is away from %(start)s to %(end)s and named you to decide their pending "
                "approvals meanwhile. What waits for them shows in your inbox, marked with their "
                "name; your decisions are recorded as made on their behalf."
            )
            % values
        )
        body += f"\n\n{page_url('inbox')}\n"
    try:
        send_mail(subject, body, None, [item.delegate.email])
    except Exception:  # noqa: BLE001 - a mail server away must not undo the delegation
        log.exception("delegation mail to %s failed", item.delegate.username)
