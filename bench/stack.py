"""The system under test for `make bench`: its own PostgreSQL database, a fresh
Temporal dev server (SQLite in WAL mode, as `make run` starts it), the worker
and the web server as separate processes joined by Redis, like a deployment.

Everything here is started by the bench and stopped by it; nothing is shared
with `make run` or the tests (own database, own ports, own Redis prefix).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/approvals_bench"
PY = sys.executable


def _port_range() -> range | None:
    """BENCH_PORTS=18400-18499: the stack's ports from that range (a shared machine)."""
    spec = os.environ.get("BENCH_PORTS", "").strip()
    if not spec:
        return None
    low, _, high = spec.partition("-")
    return range(int(low), int(high or low) + 1)


_handed_out: set[int] = set()


def free_port() -> int:
    """A free loopback port: from BENCH_PORTS when set, else one the kernel picks."""
    ports = _port_range()
    if ports is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    for port in ports:
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port left in BENCH_PORTS={os.environ['BENCH_PORTS']}")


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[:3]} exited with {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


def reachable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def recreate_database(url: str) -> None:
    """Drop and create the bench database: each run starts from nothing, like its
    Temporal server (rows without workflows would only confuse the numbers)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to recreate database {name!r}: use a plain name")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def bench_env(*, database_url: str, temporal_address: str, redis_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) except TLS, which loopback HTTP cannot have."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    debug = os.environ.get("BENCH_DEBUG", "") == "1"
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="1" if debug else "0",
        SECRET_KEY="bench-" + secrets.token_hex(16),
        # Production needs payload keys: the benchmark measures with encryption on.
        TEMPORAL_PAYLOAD_KEYS="bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        WHITENOISE_USE_FINDERS="1",
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_TASK_QUEUE="approvals",
        TEMPORAL_CALL_TIMEOUT="30",
        REDIS_URL=redis_url,
        REDIS_PREFIX="bench-" + secrets.token_hex(4),
        # Nothing may remind or escalate while we measure.
        APPROVAL_SLA_SECONDS=str(30 * 86400),
        APPROVAL_REMINDER_SECONDS=str(29 * 86400),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        AXES_ENABLED="0",
        LOG_LEVEL="WARNING",
        # One process per `manage.py serve` unless asked (BENCH_WEB_CONCURRENCY): the
        # benches start as many web processes as they measure (LOAD_WEBS).
        WEB_CONCURRENCY=os.environ.get("BENCH_WEB_CONCURRENCY", "1"),
        APPROVALS_VAR_DIR=str(RESULTS / "var"),
    )
    return env


class Child:
    """A process the bench started (own session, so a stop reaches its children)."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path) -> None:
        self.name = name
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU time of every live process of a process group (a web with WEB_CONCURRENCY > 1
    is a supervisor and its workers; each child is started in its own session)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


class Stack:
    """Temporal dev server + worker + web; `start()` then `stop()` (always)."""

    def __init__(self, env_overrides: dict | None = None) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        for name in ("temporal", "worker", "web"):  # logs of this run only
            (RESULTS / f"{name}.log").unlink(missing_ok=True)
        self.tmp = tempfile.TemporaryDirectory(prefix="approvals-bench-")
        self.temporal_port = free_port()
        self.web_port = free_port()
        self.children: list[Child] = []
        self.env_overrides = env_overrides or {}
        self.temporal: Child | None = None
        self.worker: Child | None = None
        self.web: Child | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_temporal(self, extra_args: list[str] = ()) -> None:
        """`extra_args`: e.g. a visibility limit (`--dynamic-config-value ...`)."""
        sys.path.insert(0, str(ROOT))
        from scripts.run import dev_server_command

        db_file = Path(self.tmp.name) / "temporal.db"
        command = dev_server_command(self.temporal_port, free_port(), db_file) + ["--headless"]
        command += list(extra_args)
        self.temporal = Child("temporal", command, dict(os.environ), RESULTS / "temporal.log")
        self.children.append(self.temporal)
        wait_port(self.temporal_port, 90, self.temporal.proc)

    def start_worker(self, env: dict, name: str = "worker") -> Child:
        child = Child(name, [PY, "manage.py", "run_worker"], env, RESULTS / f"{name}.log")
        self.worker = self.worker or child
        self.children.append(child)
        return child

    def start_web(self, env: dict, name: str = "web", port: int | None = None) -> Child:
        """The first web process on `web_port`; more (`name`, `port`) for a topology."""
        port = port or self.web_port
        args = [PY, "manage.py", "serve", "--no-worker", "--port", str(port)]
        child = Child(name, args, env, RESULTS / f"{name}.log")
        self.web = self.web or child
        self.children.append(child)
        wait_port(port, 60, child.proc)
        return child

    def restart_app(self, env: dict) -> None:
        """Worker and web again with another environment (same Temporal and database)."""
        for child in (self.web, self.worker):
            if child is not None:
                child.stop()
                self.children.remove(child)
        self.web = self.worker = None
        self.start_worker(env)
        self.start_web(env)

    def cpu(self) -> dict[str, float]:
        return {c.name: group_cpu_seconds(c.pid) for c in self.children if c.alive()}

    def check_alive(self) -> None:
        for child in self.children:
            if not child.alive():
                raise RuntimeError(
                    f"{child.name} exited with {child.proc.returncode}; "
                    f"see {RESULTS / (child.name + '.log')}"
                )

    def stop(self) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(ProcessLookupError):
                child.stop()
        self.tmp.cleanup()
