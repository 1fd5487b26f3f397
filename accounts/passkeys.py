"""Passkeys (WebAuthn, py_webauthn): registering one and proving one is present.

The relying party id is `WEBAUTHN_RP_ID` or, unset, the host the page was served
from (ALLOWED_HOSTS has vetted it); the expected origin is the page's own. Every
challenge lives in the session for one use: a second verification with it fails.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .models import Passkey, User

log = logging.getLogger(__name__)
REGISTRATION = "passkey-registration"


class PasskeyError(Exception):
    """The browser's answer could not be verified (the message is for the log)."""


def rp_id(request: HttpRequest) -> str:
    if settings.WEBAUTHN_RP_ID:
        return settings.WEBAUTHN_RP_ID
    host = request.get_host()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


def origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _keep_challenge(request: HttpRequest, key: str, challenge: bytes) -> None:
    request.session[f"webauthn:{key}"] = bytes_to_base64url(challenge)


def _take_challenge(request: HttpRequest, key: str) -> bytes:
    value = request.session.pop(f"webauthn:{key}", None)
    if not value:
        raise PasskeyError("no challenge issued (or used already)")
    return base64url_to_bytes(value)


def registration_options(request: HttpRequest, user: User) -> str:
    """JSON for `navigator.credentials.create()`; its challenge kept for `register`."""
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_name=user.username,
        user_id=f"user-{user.pk}".encode(),
        user_display_name=user.display_name,
        timeout=settings.WEBAUTHN_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(p.credential_id)) for p in user.passkeys.all()
        ],
    )
    _keep_challenge(request, REGISTRATION, options.challenge)
    return options_to_json(options)


@transaction.atomic
def register(request: HttpRequest, user: User, *, credential: str, name: str) -> Passkey:
    challenge = _take_challenge(request, REGISTRATION)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=origin(request),
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(str(exc)) from exc
    try:
        transports = json.loads(credential).get("response", {}).get("transports", [])
    except (ValueError, AttributeError):
        transports = []
    return Passkey.objects.create(
        owner=user,
        name=name,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if isinstance(t, str)][:8],
    )


def authentication_options(request: HttpRequest, user: User, *, purpose: str) -> str:
    """JSON for `navigator.credentials.get()` limited to `user`'s passkeys."""
    options = generate_authentication_options(
        rp_id=rp_id(request),
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(p.credential_id)) for p in user.passkeys.all()
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
        timeout=settings.WEBAUTHN_TIMEOUT_MS,
    )
    _keep_challenge(request, f"stepup:{purpose}", options.challenge)
    return options_to_json(options)


@transaction.atomic
def verify(request: HttpRequest, user: User, *, purpose: str, credential: str) -> Passkey:
    """The passkey of `user` that signed this purpose's challenge (PasskeyError otherwise)."""
    challenge = _take_challenge(request, f"stepup:{purpose}")
    try:
        raw_id = base64url_to_bytes(json.loads(credential)["rawId"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PasskeyError("malformed credential") from exc
    passkey = Passkey.objects.select_for_update().filter(owner=user, credential_id=raw_id).first()
    if passkey is None:
        raise PasskeyError("not one of this person's passkeys")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=origin(request),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(str(exc)) from exc
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return passkey
