"""The process's Temporal client: `timed_calls()` reports how long each call() waited."""

from __future__ import annotations

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from approvals.temporal import client as temporal_client
from tests.support.servers import temporal_unreachable


async def system_info(client):
    return await client.workflow_service.get_system_info(GetSystemInfoRequest())


def test_timed_calls_records_every_call_inside_and_none_outside(temporal_server):
    temporal_client.call(system_info)  # connected before measuring
    with temporal_client.timed_calls() as waits:
        temporal_client.call(system_info)
        temporal_client.call(system_info)
    temporal_client.call(system_info)
    assert len(waits) == 2
    assert all(wait >= 0 for wait in waits)


def test_timed_calls_records_a_call_that_fails(settings):
    with (
        temporal_unreachable(settings, call_timeout=1),
        temporal_client.timed_calls() as waits,
        pytest.raises(temporal_client.TemporalUnavailable),
    ):
        temporal_client.call(system_info)
    assert len(waits) == 1
