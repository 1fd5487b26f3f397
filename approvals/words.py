"""Status codes in the reader's language (pages, mails, PDFs). The code stays in the data
(`data-status`, CSV, the API); people read the word. See docs/glossary.md."""

from __future__ import annotations

from django.utils.translation import gettext

from . import ports
from .models import RequestStatus


def status_word(code) -> str:
    """A request's status ("changes_requested") as a word ("changes requested")."""
    code = str(code or "")
    if code in RequestStatus.values:
        return str(RequestStatus(code).label)
    return code and gettext(code.replace("_", " "))


def action_word(code) -> str:
    """A decision ("request_changes") as a word ("requested changes")."""
    words = {
        "approve": gettext("approved"),
        "reject": gettext("rejected"),
        "request_changes": gettext("requested changes"),
    }
    code = str(code or "")
    return words.get(code, code.replace("_", " "))


def payment_word(code) -> str:
    """A payment's status ("on_hold") as a word ("on hold"), by the app that pays."""
    return str(ports.payment_word(str(code or "")))
