"""Signed decision links for mails: who may decide what, carried in the URL itself.

A token is the recipient, the request, the level, the round, the action, the
link's own decision id and the time it was made, sealed with AES-GCM under a
key derived from SECRET_KEY (its own HKDF label). It is bound to all of them:
a link works only for that person, on that level of that round; the decision
id makes a double click, a retried POST and a mail scanner's prefetch apply
once (the workflow drops a signal whose id it has seen). The token is opaque:
whoever reads the URL (a forwarded mail, a proxy log) learns nothing about the
request and cannot lift the decision id out of it (signing alone left both
readable in base64). SECRET_KEY_FALLBACKS still open links made before a key
rotation. Nothing here reads the database: mails make tokens, the links page
reads them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
import zlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.urls import reverse

from core.urls import absolute_url

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


NONCE = 12


def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SALT.encode()).derive(
        secret.encode()
    )


def _keys() -> list[bytes]:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_key(secret) for secret in secrets]


def make_token(claim: LinkClaim, *, now: float | None = None) -> str:
    payload = {
        "u": claim.username,
        "r": claim.request_id,
        "l": claim.level,
        "n": claim.round,
        "a": claim.action,
        "d": claim.decision_id,
        "t": int(time.time() if now is None else now),
    }
    plain = zlib.compress(json.dumps(payload, separators=(",", ":")).encode())
    nonce = os.urandom(NONCE)
    sealed = AESGCM(_keys()[0]).encrypt(nonce, plain, SALT.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def _open(token: str) -> dict:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise LinkInvalid from exc
    if len(raw) <= NONCE:
        raise LinkInvalid
    for key in _keys():
        try:
            plain = AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], SALT.encode())
        except InvalidTag:
            continue
        try:
            payload = json.loads(zlib.decompress(plain))
        except (zlib.error, ValueError) as exc:
            raise LinkInvalid from exc
        if not isinstance(payload, dict):
            raise LinkInvalid
        return payload
    raise LinkInvalid


def read_token(token: str) -> tuple[LinkClaim, bool]:
    """The claim and whether it has expired; LinkInvalid when the seal does not hold.

    An expired link is still authentic, so the page can say what happened to the
    request; it only never decides."""
    payload = _open(token)
    try:
        claim = LinkClaim(
            username=str(payload["u"]),
            request_id=int(payload["r"]),
            level=int(payload["l"]),
            round=int(payload["n"]),
            action=str(payload["a"]),
            decision_id=str(payload["d"]),
        )
        made = int(payload["t"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid from exc
    return claim, time.time() - made > max_age()


def link_url(claim: LinkClaim) -> str:
    """The absolute URL of the link (APP_BASE_URL + /links/<token>/)."""
    return absolute_url(reverse("decision-link", args=[make_token(claim)]))


def request_url(request_id: int) -> str:
    """The absolute URL of a request's page (mails, digests)."""
    return absolute_url(reverse("request-detail", args=[request_id]))
