"""The payload codec: every payload Temporal stores is AES-GCM encrypted.

What the web tier and the worker hand to Temporal (workflow input, Update and
signal arguments, activity inputs and results, query answers, memo, failure
details) leaves this process encrypted with a key from `TEMPORAL_PAYLOAD_KEYS`:
Temporal's database, its Web UI and anyone with the CLI see only
`binary/encrypted` bytes. AES-GCM also authenticates: only a holder of a key
can produce a payload that decodes with the `approvals-authenticated` flag,
which the workflow requires of a decision (see SECURITY.md).

Decoding never raises. A payload we cannot open (unknown key id, failed
authentication) becomes JSON `null` marked `approvals-undecodable`, so a
forged signal cannot fail workflow tasks forever; a payload without our
encryption metadata (histories written before the codec, anything sent with
the `temporal` CLI) passes through unchanged and unauthenticated.

Keys: `TEMPORAL_PAYLOAD_KEYS` is `id:base64key,id:base64key,...`, newest first;
encoding uses the first, decoding any. With DEBUG and no keys, settings.py
derives one stable key (id `dev`) from SECRET_KEY so `make run` works.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import DataConverter, PayloadCodec

from ..workflow.contract import AUTHENTICATED_METADATA as META_AUTHENTICATED

log = logging.getLogger(__name__)

ENCODING = b"binary/encrypted"
# Set on the `null` that stands for a payload none of our keys opened (with why).
META_UNDECODABLE = "approvals-undecodable"
META_ENCODING = "encoding"
META_KEY_ID = "encryption-key-id"
# Flags only this codec may set: stripped from anything arriving unencrypted.
_OUR_FLAGS = (META_AUTHENTICATED, META_UNDECODABLE)
NONCE_BYTES = 12


def parse_keys(value: str) -> list[tuple[str, bytes]]:
    """`id:base64key,...` -> [(id, key)], newest first; ImproperlyConfigured when malformed."""
    keys: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise ImproperlyConfigured(
                "TEMPORAL_PAYLOAD_KEYS must be comma-separated 'id:base64key' pairs "
                f"(entry {len(keys) + 1} has no 'id:')."
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(
                f"TEMPORAL_PAYLOAD_KEYS: the key of {key_id!r} is not valid base64."
            ) from exc
        if len(key) not in (16, 24, 32):
            raise ImproperlyConfigured(
                f"TEMPORAL_PAYLOAD_KEYS: the key of {key_id!r} has {len(key)} bytes; "
                "AES-GCM needs 16, 24 or 32 (generate one with "
                "`python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'`)."
            )
        if any(key_id == known for known, _ in keys):
            raise ImproperlyConfigured(f"TEMPORAL_PAYLOAD_KEYS: key id {key_id!r} appears twice.")
        keys.append((key_id, key))
    return keys


def configured_keys() -> list[tuple[str, bytes]]:
    """The keys from the settings (which hold the dev key with DEBUG); raise without any."""
    keys = parse_keys(getattr(settings, "TEMPORAL_PAYLOAD_KEYS", "") or "")
    if not keys:
        raise ImproperlyConfigured(
            "TEMPORAL_PAYLOAD_KEYS is not set. Set it to 'id:base64key' (32 random bytes, "
            "base64) on the web and worker processes; see SECURITY.md, 'Payload keys'."
        )
    return keys


class EncryptionCodec(PayloadCodec):
    """AES-GCM over the serialized inner Payload; the key id is also the associated data."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ImproperlyConfigured("EncryptionCodec needs at least one key.")
        self.key_id = keys[0][0]
        self._encoder = AESGCM(keys[0][1])
        self._decoders = {key_id: AESGCM(key) for key_id, key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(payload) for payload in payloads]

    def encode_one(self, payload: Payload) -> Payload:
        inner = _without_flags(payload)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._encoder.encrypt(nonce, inner.SerializeToString(), self.key_id.encode())
        return Payload(
            metadata={META_ENCODING: ENCODING, META_KEY_ID: self.key_id.encode()},
            data=nonce + sealed,
        )

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get(META_ENCODING) != ENCODING:
            return _without_flags(payload)  # not ours: as it came, never authenticated
        key_id = payload.metadata.get(META_KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._decoders.get(key_id)
        if cipher is None:
            return _undecodable(f"unknown key id {key_id[:40]!r}")
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
            inner = Payload.FromString(plain)
        except (InvalidTag, ValueError, DecodeError):
            return _undecodable(f"authentication failed (key id {key_id[:40]!r})")
        inner = _without_flags(inner)
        inner.metadata[META_AUTHENTICATED] = b"1"
        return inner


def is_authenticated(payload: Payload) -> bool:
    """Made by a key holder (the workflow checks the same flag, workflow.py `_read`)."""
    return payload.metadata.get(META_AUTHENTICATED) == b"1"


def undecodable_reason(payload: Payload) -> str:
    return payload.metadata.get(META_UNDECODABLE, b"").decode("utf-8", "replace")


def _without_flags(payload: Payload) -> Payload:
    if not any(flag in payload.metadata for flag in _OUR_FLAGS):
        return payload
    copy = Payload()
    copy.CopyFrom(payload)
    for flag in _OUR_FLAGS:
        if flag in copy.metadata:
            del copy.metadata[flag]
    return copy


def _undecodable(reason: str) -> Payload:
    log.warning("Temporal payload not decodable with our keys: %s", reason)
    return Payload(
        metadata={
            META_ENCODING: b"json/plain",
            META_UNDECODABLE: reason.encode("utf-8"),
        },
        data=b"null",
    )


class CodecBodyInvalid(ValueError):
    """The body is not Temporal's `{"payloads": [...]}` JSON."""


def transform_json(body: bytes, operation: str) -> tuple[str, int]:
    """Temporal's remote codec protocol on one JSON body: encode or decode every payload;
    (the answer's JSON, how many payloads). CodecBodyInvalid for a body that is not one."""
    try:
        payloads = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, UnicodeDecodeError) as exc:
        raise CodecBodyInvalid(str(exc)) from exc
    # The codec's work is synchronous underneath its async interface.
    one = codec().encode_one if operation == "encode" else codec().decode_one
    result = Payloads(payloads=[one(payload) for payload in payloads.payloads])
    return json.dumps(json_format.MessageToDict(result)), len(result.payloads)


def codec() -> EncryptionCodec:
    return _codec_for(getattr(settings, "TEMPORAL_PAYLOAD_KEYS", "") or "")


@lru_cache(maxsize=8)
def _codec_for(_keys: str) -> EncryptionCodec:
    # Keyed on the setting, so a test that rotates keys gets a fresh codec.
    return EncryptionCodec(configured_keys())


__all__ = [
    "META_AUTHENTICATED",
    "META_UNDECODABLE",
    "EncryptionCodec",
    "codec",
    "configured_keys",
    "data_converter",
    "is_authenticated",
    "parse_keys",
    "undecodable_reason",
]


def data_converter() -> DataConverter:
    """The SDK's default converter with our codec: use it for every Client."""
    return dataclasses.replace(DataConverter.default, payload_codec=codec())
