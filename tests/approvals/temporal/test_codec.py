"""The payload codec: encryption, authentication, pass-through and key rotation.

Unit tests drive the codec directly; the others run real workflows on the dev
server with the real worker, then read the stored history with a client that
has no codec (what the Temporal UI, CLI or database shows) and with ours.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from approvals import services
from approvals.selectors import timeline
from approvals.temporal import client as temporal_client
from approvals.temporal import codec as codec_mod
from approvals.temporal.codec import (
    META_AUTHENTICATED,
    META_UNDECODABLE,
    EncryptionCodec,
    data_converter,
    parse_keys,
)
from approvals.workflow.contract import workflow_id
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.servers import WorkerThread
from tests.support.waiting import wait_for


def new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def run(coro):
    return asyncio.run(coro)


def json_payload(value) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


# ------------------------------------------------------------------ unit
def test_round_trip_adds_the_authenticated_flag_and_hides_the_content():
    codec = EncryptionCodec(parse_keys(new_key("k1")))
    plain = json_payload({"title": "Secret dinner"})
    [sealed] = run(codec.encode([plain]))
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"Secret dinner" not in sealed.SerializeToString()
    [opened] = run(codec.decode([sealed]))
    assert opened.data == plain.data
    assert opened.metadata["encoding"] == b"json/plain"
    assert opened.metadata[META_AUTHENTICATED] == b"1"
    assert codec_mod.is_authenticated(opened)


def test_decoding_uses_any_key_encoding_the_newest():
    old, new = new_key("old"), new_key("new")
    [sealed_old] = run(EncryptionCodec(parse_keys(old)).encode([json_payload(1)]))
    rotated = EncryptionCodec(parse_keys(f"{new},{old}"))
    [opened] = run(rotated.decode([sealed_old]))
    assert opened.data == b"1" and codec_mod.is_authenticated(opened)
    [sealed_new] = run(rotated.encode([json_payload(2)]))
    assert sealed_new.metadata["encryption-key-id"] == b"new"


def test_unknown_key_or_tampering_gives_null_marked_undecodable_never_an_error():
    key = new_key("k1")
    codec = EncryptionCodec(parse_keys(key))
    [sealed] = run(codec.encode([json_payload({"actor": "max"})]))
    stranger = EncryptionCodec(parse_keys(new_key("k2")))
    same_id_other_key = EncryptionCodec(parse_keys(new_key("k1")))
    tampered = Payload()
    tampered.CopyFrom(sealed)
    tampered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    truncated = Payload(metadata=dict(sealed.metadata), data=b"short")
    cases = [
        (stranger, sealed, b"unknown key id"),
        (same_id_other_key, sealed, b"authentication failed"),
        (codec, tampered, b"authentication failed"),
        (codec, truncated, b"authentication failed"),
    ]
    for decoder, payload, reason in cases:
        [out] = run(decoder.decode([payload]))
        assert out.metadata["encoding"] == b"json/plain"
        assert out.data == b"null"
        assert reason in out.metadata[META_UNDECODABLE]
        assert META_AUTHENTICATED not in out.metadata
        assert DataConverter.default.payload_converter.from_payloads([out]) == [None]


def test_unencrypted_payload_passes_unchanged_and_cannot_claim_authentication():
    codec = EncryptionCodec(parse_keys(new_key("k1")))
    old = json_payload({"action": "approve"})
    [out] = run(codec.decode([old]))
    assert out == old
    forged = json_payload({"action": "approve"})
    forged.metadata[META_AUTHENTICATED] = b"1"  # e.g. `temporal ... --input-meta`
    [out] = run(codec.decode([forged]))
    assert META_AUTHENTICATED not in out.metadata
    assert out.data == forged.data


def test_key_setting_is_validated():
    for bad in ("nokey", ":" + base64.b64encode(os.urandom(32)).decode(), "k1:***", "k1:AAAA"):
        with pytest.raises(ImproperlyConfigured):
            parse_keys(bad)
    with pytest.raises(ImproperlyConfigured, match="twice"):
        parse_keys(f"{new_key('a')},{new_key('a')}")
    assert [k for k, _ in parse_keys(f" {new_key('b')} , {new_key('a')} ")] == ["b", "a"]


def test_no_keys_is_a_clear_configuration_error(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = ""
    with pytest.raises(ImproperlyConfigured, match="TEMPORAL_PAYLOAD_KEYS is not set"):
        codec_mod.configured_keys()


# ------------------------------------------------------- against Temporal
async def _raw_history(address: str, request_id: int):
    plain = await Client.connect(address)  # no codec: what the UI, CLI and database hold
    return await plain.get_workflow_handle(workflow_id(request_id)).fetch_history()


async def _history(request_id: int):
    client = await temporal_client.connect()
    return await client.get_workflow_handle(workflow_id(request_id)).fetch_history()


def _all_payloads(message, out: list[Payload]) -> list[Payload]:
    """Every Payload inside a protobuf message (history events nest them deeply)."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            if isinstance(item, Payload):
                out.append(item)
            elif hasattr(item, "ListFields"):
                _all_payloads(item, out)
    return out


LOCAL_ACTIVITY_MARKER_KEYS = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}


def _use_keys(settings, keys: str) -> None:
    settings.TEMPORAL_PAYLOAD_KEYS = keys
    temporal_client.reset_client()


@pytest.mark.django_db(transaction=True)
def test_stored_history_holds_no_readable_title(demo_org, worker, temporal_server):
    title = "Codec-secret-title-4711"
    request = submit(demo_org["emma"], "500.00", title=title)
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=demo_org["max"], action="approve")
    wait_status(request, "approved")

    history = asyncio.run(_raw_history(temporal_server.address, request.pk))
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert title.encode() not in raw
    assert b"emma@example.com" not in raw and b"Emma" not in raw
    payloads, local_results = [], []
    for event in history.events:
        is_marker = event.HasField("marker_recorded_event_attributes")
        marker = event.marker_recorded_event_attributes
        if is_marker and marker.marker_name == "core_patch":
            continue  # workflow.patched() markers: the patch id only, written by the SDK core
        if is_marker and marker.marker_name == "core_local_activity":
            # The SDK core's bookkeeping of a local activity (its type, attempt, times),
            # plain by design and nothing of ours; its result goes through the codec.
            (data,) = marker.details["data"].payloads
            assert set(json.loads(data.data)) <= LOCAL_ACTIVITY_MARKER_KEYS, data.data
            local_results.extend(marker.details["result"].payloads)
            payloads.extend(marker.details["result"].payloads)
            continue
        _all_payloads(event, payloads)
    # local-first-steps: the start's route and first record are local activities.
    assert len(local_results) >= 2
    assert all(p.metadata.get("encoding") == b"binary/encrypted" for p in local_results)
    # Search attributes stay readable by design (SECURITY.md); everything else is sealed.
    sealed = [p for p in payloads if p.metadata.get("encoding") == b"binary/encrypted"]
    plain = [p for p in payloads if p.metadata.get("encoding") != b"binary/encrypted"]
    assert sealed, "no encrypted payloads found"
    untyped = [p for p in plain if not p.metadata.get("type")]
    assert not untyped, untyped  # only search attributes (typed) are plain
    # With our converter the same history reads as before.
    entries = timeline.build(request).entries
    started = next(e for e in entries if e.kind == "workflow_started")
    assert started.detail["input"]["requester"] == "emma", started.detail
    assert title in json.dumps(started.detail), started.detail


@pytest.mark.django_db(transaction=True)
def test_history_written_with_an_old_key_replays_and_renders_after_rotation(
    demo_org, task_queue, temporal_server, settings, client
):
    old, new = new_key("old"), new_key("new")
    _use_keys(settings, old)
    thread = WorkerThread(task_queue).start()
    try:
        title = "Rotation dinner"
        request = submit(demo_org["emma"], "500.00", title=title)
        wait_pending_level(request, 1)
        services.decision_record(
            request=request, actor=demo_org["max"], action="approve", comment="ok old key"
        )
        wait_status(request, "approved")
        wait_for(lambda: timeline.build(request).closed, timeout=30)
    finally:
        thread.stop()

    # Rotate: newest first, the old key still decodes.
    _use_keys(settings, f"{new},{old}")
    history = asyncio.run(_history(request.pk))
    replayer = Replayer(workflows=[ExpenseApprovalWorkflow], data_converter=data_converter())
    result = asyncio.run(replayer.replay_workflow(history))
    assert result.replay_failure is None
    built = timeline.build(request)
    assert built.history_available
    decided = [e for e in built.entries if e.kind == "decided"]
    assert decided and decided[0].comment == "ok old key"
    client.force_login(demo_org["admin"])
    page = client.get(f"/audit/{request.pk}/")
    assert page.status_code == 200 and title in page.content.decode()

    # Old key dropped: those payloads are undecodable, nothing crashes.
    _use_keys(settings, new)
    history = asyncio.run(_history(request.pk))
    started = history.events[0].workflow_execution_started_event_attributes
    [undecodable] = asyncio.run(data_converter().payload_codec.decode(started.input.payloads))
    assert b"unknown key id 'old'" in undecodable.metadata[META_UNDECODABLE]
    assert META_AUTHENTICATED not in undecodable.metadata
    built = timeline.build(request)
    assert built.history_available
    page = client.get(f"/audit/{request.pk}/")
    assert page.status_code == 200
    json_page = client.get(f"/audit/{request.pk}/timeline.json")
    assert json_page.status_code == 200
