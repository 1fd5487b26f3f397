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

import pytest
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
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        # Migrating a new SQLite file, seeding and four Django processes one after the
        # other: about 20 s on an idle machine, several times that while the suite's
        # other workers keep both cores busy.
        assert self.ready.wait(300), "".join(self.output)
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            if "Approvals is running" in line:
                self.ready.set()

    def get(self, path: str) -> tuple[int, str]:
        # The first page loads the app in the web process: seconds idle, far more while
        # the suite's other workers keep both cores busy (10 s timed out at load 15).
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=60) as r:
            return r.status, r.read().decode()

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # what the terminal sends the job
        # run.py gives each child 10 s to stop before it kills it.
        code = self.proc.wait(90)
        self.reader.join(10)  # the pipe ends with the process; closed once read to the end
        self.proc.stdout.close()
        return code

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


@pytest.mark.timeout(900)  # two whole starts and stops (MakeRun: up to 300 s + 90 s each)
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


class Browserless:
    """A signed-in session against `make run` over plain HTTP (cookies, CSRF)."""

    def __init__(self, base: str, username: str) -> None:
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.get("/accounts/login/")
        self.post("/accounts/login/", {"username": username, "password": "demo"})

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str):
        with self.opener.open(self.base + path, timeout=60) as response:  # see MakeRun.get
            return response.geturl(), response.read().decode()

    def post(self, path: str, data: dict):
        import urllib.parse

        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        request.add_header("Referer", self.base + path)
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()


def sealed_decision(key_id: str, key: bytes, decision_id: str) -> tuple[str, list[str]]:
    """What an attacker with the temporal CLI sends: max approves, sealed with `key`."""
    import base64

    from temporalio.converter import DataConverter

    from approvals.temporal.codec import EncryptionCodec

    decision = {
        "decision_id": decision_id,
        "actor": {"username": "max", "display": "Max", "role": "manager"},
        "action": "approve",
        "comment": "forged",
    }
    [inner] = DataConverter.default.payload_converter.to_payloads([decision])
    payload = EncryptionCodec([(key_id, key)]).encode_one(inner)
    meta = [f"{k}={v.decode()}" for k, v in payload.metadata.items()]
    return base64.b64encode(payload.data).decode(), meta


@pytest.mark.timeout(600)
def test_make_run_refuses_a_decision_sealed_with_the_old_development_key(tmp_path):
    """Issue 25: `make run` used to derive its payload key (id `dev`) from a SECRET_KEY
    written in settings.py, so anyone could seal a decision the worker trusted and approve
    through `temporal workflow signal`. Now both secrets are random, made into var/ on
    first start: the same forgery is refused (the request still waits on max), while the
    very same payload sealed with the key from var/ — which only the operator holds — is
    applied, which shows the forgery would have been noticed."""
    import base64
    import hashlib
    import hmac
    import re

    from scripts.run import temporal_binary

    var = tmp_path / "var"
    app = MakeRun(var).start()
    try:
        key_id, key = (var / "payload_keys").read_text().strip().split(":")
        assert key_id != "dev" and (var / "secret_key").read_text().strip()
        base = f"http://127.0.0.1:{app.port}"
        emma = Browserless(base, "emma")
        url, _page = emma.post(
            "/requests/new/",
            {"title": "Taxi", "amount": "38.50", "currency": "EUR", "category": "travel",
             "description": ""},
        )  # fmt: skip
        found = re.search(r"/requests/(\d+)/", url)
        assert found, (url, _page[-3000:])
        pk = int(found.group(1))

        def status() -> str:
            page = emma.get(f"/requests/{pk}/")[1]
            return re.search(r'data-testid="status"[^>]*data-status="(\w+)"', page).group(1)

        deadline = time.monotonic() + 30
        while status() != "pending" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert status() == "pending"

        def signal(key_id: str, key: bytes, decision_id: str) -> None:
            data, meta = sealed_decision(key_id, key, decision_id)
            args = [temporal_binary(), "workflow", "signal", "--address",
                    f"127.0.0.1:{app.t_port}", "--workflow-id", f"expense-{pk}",
                    "--name", "decide_signal", "--input-base64", "--input", data]  # fmt: skip
            for item in meta:
                args += ["--input-meta", item]
            done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr

        old_secret = b"insecure-development-key-only-for-DEBUG-mode"
        old_key = hmac.new(old_secret, b"approvals temporal payload key", hashlib.sha256).digest()
        signal("dev", old_key, "forged-with-the-old-dev-key")
        time.sleep(3)
        assert status() == "pending"

        signal(key_id, base64.b64decode(key), "sealed-with-the-operators-key")
        deadline = time.monotonic() + 30
        while status() != "approved" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert status() == "approved"
    finally:
        assert app.ctrl_c() == 0, "".join(app.output)
