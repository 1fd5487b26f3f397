"""What a workflow sees of a payload, sent by our client, by the real `temporal`
CLI, or encrypted with a stranger's key: the codec's decode contract end to end.

A probe workflow (not the approval workflow) takes its signal as a RawValue and
reports the codec's flags, so this holds whatever the approval workflow does
with them (it refuses unauthenticated decisions: workflow.py `_read`).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import subprocess
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RawValue
from temporalio.converter import DataConverter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from approvals.temporal.client import connect
from approvals.temporal.codec import (
    EncryptionCodec,
    is_authenticated,
    parse_keys,
    undecodable_reason,
)
from scripts.run import temporal_binary


@workflow.defn(name="CodecProbe")
class CodecProbe:
    def __init__(self) -> None:
        self.seen: list[dict] = []

    @workflow.run
    async def run(self, expected: int) -> list[dict]:
        await workflow.wait_condition(lambda: len(self.seen) >= expected)
        return self.seen

    @workflow.signal(name="probe")
    def probe(self, raw: RawValue) -> None:
        value = workflow.payload_converter().from_payload(raw.payload)
        self.seen.append(
            {
                "authenticated": is_authenticated(raw.payload),
                "undecodable": undecodable_reason(raw.payload),
                "value": value,
            }
        )


def cli_signal(address: str, workflow_id: str, value: dict, *meta: str) -> None:
    command = [
        temporal_binary(),
        "workflow",
        "signal",
        "--address",
        address,
        "--workflow-id",
        workflow_id,
        "--name",
        "probe",
        "--input",
        json.dumps(value),
    ]
    for item in meta:
        command += ["--input-meta", item]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def test_only_our_client_makes_authenticated_payloads(temporal_server):
    async def scenario() -> list[dict]:
        ours = await connect(temporal_server.address)
        queue = f"codec-probe-{uuid.uuid4().hex[:8]}"
        stranger_codec = EncryptionCodec(
            parse_keys(f"stranger:{base64.b64encode(os.urandom(32)).decode()}")
        )
        stranger = await Client.connect(
            temporal_server.address,
            data_converter=dataclasses.replace(DataConverter.default, payload_codec=stranger_codec),
        )
        workflow_id = f"codec-probe-{uuid.uuid4().hex[:8]}"
        async with Worker(
            ours,
            task_queue=queue,
            workflows=[CodecProbe],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            handle = await ours.start_workflow(
                CodecProbe.run,
                4,
                id=workflow_id,
                task_queue=queue,
                execution_timeout=timedelta(minutes=2),
            )
            await handle.signal("probe", {"from": "our client"})
            await asyncio.to_thread(
                cli_signal, temporal_server.address, workflow_id, {"from": "cli"}
            )
            await asyncio.to_thread(
                cli_signal,
                temporal_server.address,
                workflow_id,
                {"from": "cli claiming authentication"},
                "approvals-authenticated=1",
            )
            await stranger.get_workflow_handle(workflow_id).signal(
                "probe", {"from": "a stranger's key"}
            )
            return await handle.result()

    seen = asyncio.run(scenario())
    by_order = [(s["authenticated"], s["undecodable"], s["value"]) for s in seen]
    assert by_order[0] == (True, "", {"from": "our client"})
    assert by_order[1] == (False, "", {"from": "cli"})
    assert by_order[2] == (False, "", {"from": "cli claiming authentication"})
    authenticated, reason, value = by_order[3]
    assert not authenticated and value is None
    assert "unknown key id 'stranger'" in reason
