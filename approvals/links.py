"""Signed decision links for mails: who may decide what, carried in the URL itself.

A token is Django signing (TimestampSigner, its own salt) of the recipient,
the request, the level, the round, the action and the link's own decision
id. It is bound to all of them: a link works only for that person, on that
level of that round; the decision id makes a double click, a retried POST
and a mail scanner's prefetch apply once (the workflow drops a signal whose
id it has seen). Nothing here reads the database: mails make tokens, the
links page reads them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "approvals.decision-link"


@dataclass(frozen=True)
class LinkClaim:
    username: str
    request_id: int
    level: int
    round: int
    action: str  # contract.Action.APPROVE or REJECT
    decision_id: str


class LinkInvalid(Exception):
    """Tampered, truncated or signed with another key: nothing in it can be trusted."""


def max_age() -> int:
    """Seconds a link lives: DECISION_LINK_MAX_AGE, by default the SLA times
    (escalations + 1), the longest a level can wait before the request expires."""
    configured = getattr(settings, "DECISION_LINK_MAX_AGE", 0)
    if configured:
        return int(configured)
    return settings.APPROVAL_SLA_SECONDS * (settings.APPROVAL_MAX_ESCALATIONS + 1)


def new_decision_id() -> str:
    return str(uuid.uuid4())


def make_token(claim: LinkClaim) -> str:
    payload = {
        "u": claim.username,
        "r": claim.request_id,
        "l": claim.level,
        "n": claim.round,
        "a": claim.action,
        "d": claim.decision_id,
    }
    return signing.TimestampSigner(salt=SALT).sign_object(payload, compress=True)


def read_token(token: str) -> tuple[LinkClaim, bool]:
    """The claim and whether it has expired; LinkInvalid when the signature does not hold.

    An expired link is still authentic, so the page can say what happened to the
    request; it only never decides."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise LinkInvalid from exc
    try:
        claim = LinkClaim(
            username=str(payload["u"]),
            request_id=int(payload["r"]),
            level=int(payload["l"]),
            round=int(payload["n"]),
            action=str(payload["a"]),
            decision_id=str(payload["d"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid from exc
    try:
        signer.unsign_object(token, max_age=max_age())
    except signing.SignatureExpired:
        return claim, True
    return claim, False


def link_url(claim: LinkClaim) -> str:
    """The absolute URL of the link (APP_BASE_URL + /links/<token>/)."""
    path = reverse("decision-link", args=[make_token(claim)])
    return f"{settings.APP_BASE_URL.rstrip('/')}{path}"
