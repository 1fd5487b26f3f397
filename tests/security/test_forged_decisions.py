"""Issue 14's attack, replayed with the real `temporal` CLI: a decision typed by
anyone who can reach Temporal (a plain JSON payload, not encrypted with our
keys) is refused, as a signal and as an Update, and the request goes on to be
approved normally by the right person.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from approvals.workflow.contract import Refusal, workflow_id
from scripts.run import temporal_binary
from tests.support.requests import decide, submit, wait_pending_level, wait_state, wait_status

pytestmark = pytest.mark.django_db(transaction=True)


def forged(pk: int, decision_id: str) -> str:
    """What the attacker typed: max approves, according to the payload."""
    return json.dumps(
        {
            "decision_id": decision_id,
            "actor": {"username": "max", "display": "Max", "role": "manager"},
            "action": "approve",
            "comment": "forged",
        }
    )


def cli(address: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [temporal_binary(), "workflow", *args, "--address", address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_forged_signal_and_update_are_refused_and_approval_still_works(
    demo_org, worker, temporal_server
):
    request = submit(demo_org["emma"], "500.00")
    wait_pending_level(request, 1)
    wid = workflow_id(request.pk)

    signal = cli(
        temporal_server.address,
        "signal", "--workflow-id", wid, "--name", "decide_signal",
        "--input", forged(request.pk, "forged-signal-1"),
        "--input-meta", "approvals-authenticated=1",  # claiming the flag does not help
    )  # fmt: skip
    assert signal.returncode == 0, signal.stderr  # Temporal takes it; the workflow refuses
    state = wait_state(request, lambda s: bool(s.ignored_signals))
    [ignored] = state.ignored_signals
    assert ignored.code == Refusal.UNAUTHENTICATED
    assert state.status == "pending" and state.current_level == 1

    update = cli(
        temporal_server.address,
        "update", "execute", "--workflow-id", wid, "--name", "decide",
        "--input", forged(request.pk, "forged-update-1"),
    )  # fmt: skip
    assert update.returncode != 0
    assert Refusal.UNAUTHENTICATED in update.stdout + update.stderr
    state = wait_state(request, lambda s: s.status == "pending")
    assert state.levels[0].decided_by in ("", None)

    # The real max, through the app, still decides.
    decide(request, demo_org["max"], "approve", comment="genuine")
    wait_status(request, "approved")
