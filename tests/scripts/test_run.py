"""`make run` (scripts/run.py): the embedded app starts, serves, registers the Temporal
Schedules (`temporal schedule list` shows them), and Ctrl-C stops it all."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from approvals.temporal.client import connect
from approvals.temporal.schedules import schedule_ids
from scripts.run import SEARCH_ATTRIBUTES
from tests.support import ROOT
from tests.support.schedules import cli_schedule_ids
from tests.support.servers import free_port

KINDS = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


def test_dev_server_has_every_contract_search_attribute(temporal_server):
    async def registered() -> dict[str, int]:
        client = await connect(temporal_server.address)
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        return dict(response.custom_attributes)

    # A thread of its own: the browser tests' Playwright may own this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        attributes = pool.submit(asyncio.run, registered()).result(60)
    assert set(SEARCH_ATTRIBUTES) == {
        "ApprovalStatus",
        "PendingApprovers",
        "Requester",
        "AmountCents",
        "DecisionDueAt",
    }
    for name, kind in SEARCH_ATTRIBUTES.items():
        assert attributes.get(name) == KINDS[kind], name


class MakeRun:
    """scripts/run.py in its own process group, as a terminal's foreground job."""

    def __init__(self, var_dir: Path) -> None:
        self.port, self.t_port, self.ui_port = free_port(), free_port(), free_port()
        drop = {"DATABASE_URL", "DATABASE_TEST_NAME", "REDIS_URL", "TEMPORAL_ADDRESS"}
        self.env = {
            k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DJANGO_")
        }
        self.env.update(
            DJANGO_DEBUG="1",
            APPROVALS_VAR_DIR=str(var_dir),
            PORT=str(self.port),
            TEMPORAL_PORT=str(self.t_port),
            TEMPORAL_UI_PORT=str(self.ui_port),
        )
        self.var_dir = var_dir
        self.output: list[str] = []
        self.ready = threading.Event()

    def start(self) -> MakeRun:
        self.proc = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        assert self.ready.wait(120), "".join(self.output)
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            if "Approvals is running" in line:
                self.ready.set()

    def get(self, path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.status, r.read().decode()

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # what the terminal sends the job
        return self.proc.wait(60)

    def leftovers(self) -> list[str]:
        """Processes still running that this run started (by their distinctive arguments)."""
        marks = (str(self.var_dir), f"--port {self.port}", f"--port {self.t_port}")
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(mark in args for mark in marks):
                found.append(args)
        return found


def test_make_run_serves_the_app_and_ctrl_c_stops_every_child_twice(tmp_path):
    for attempt in (1, 2):  # the second run reuses var/: running it again works
        app = MakeRun(tmp_path / "var").start()
        try:
            text = "".join(app.output)
            assert f"http://127.0.0.1:{app.port}/" in text
            assert f"Temporal UI: http://127.0.0.1:{app.ui_port}/" in text
            status, page = app.get("/accounts/login/")
            assert status == 200 and 'name="username"' in page
            status, body = app.get("/healthz")
            assert status == 200, body
            assert json.loads(body)["failing"] == []
            # The registry's schedules, created by the first run and updated by the second.
            listed = cli_schedule_ids(f"127.0.0.1:{app.t_port}")
            assert {"approvals-digest", "approvals-overdue-report"} <= set(schedule_ids())
            assert sorted(schedule_ids()) == sorted(set(listed)), listed
            assert len(listed) == len(set(listed))
            assert ("updated" if attempt == 2 else "created") in text
        finally:
            code = app.ctrl_c()
        assert code == 0, f"attempt {attempt}: " + "".join(app.output)
        deadline = time.monotonic() + 15
        while app.leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert app.leftovers() == [], f"attempt {attempt}"
    assert (tmp_path / "var" / "temporal.db").exists()
    assert (tmp_path / "var" / "db.sqlite3").exists()
